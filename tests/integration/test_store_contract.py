"""The repository contract, run against both backends (GeoPackage and a real PostGIS)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import shapely

from geo_p4gn import ConflictError, LocationError, NotFoundError, ValidationError
from geo_p4gn.filters import Filters
from geo_p4gn.records import FIELDS, validate_record

KEDAUNG = (106.75857601542747, -6.152569496052011)  # 31.73.01.1004
TANJUNG_PRIOK = (106.879149, -6.108873)  # 31.72.02.1001


def make(taxonomy, **kw):
    raw = {"date": "2024-08-17", "type": "deklarasi", "actor": "komunitas", "organisation": "Karang Taruna",
           "lon": KEDAUNG[0], "lat": KEDAUNG[1], "participants": 40, "notes": "deklarasi warga"}
    raw.update(kw)
    return validate_record(raw, taxonomy=taxonomy)


def test_add_get_roundtrip_assigns_kelurahan(store, taxonomy):
    rec = make(taxonomy, end_date="2024-08-18", site_id="kampung-ambon")
    forged = dataclasses.replace(rec, kelurahan_code="31.71.01.1001")  # typed by hand: ignored
    assert store.add(forged, user="petugas1") == "created"
    got = store.get(rec.id)
    assert got.kelurahan_code == "31.73.01.1004"
    assert (got.date, got.end_date, got.type_key, got.actor_key) == (
        dt.date(2024, 8, 17), dt.date(2024, 8, 18), "deklarasi", "komunitas")
    assert (got.organisation, got.site_id, got.participants, got.notes) == (
        "Karang Taruna", "kampung-ambon", 40, "deklarasi warga")
    assert got.geometry.equals(shapely.Point(*KEDAUNG))
    assert (got.created_by, got.updated_by, got.version, got.deleted) == ("petugas1", "petugas1", 1, False)
    assert got.content_hash() == rec.content_hash()


def test_retry_same_content_is_noop_and_other_content_conflicts(store, taxonomy):
    rec = make(taxonomy)
    assert store.add(rec, user="a") == "created"
    assert store.add(rec, user="a") == "unchanged"
    with pytest.raises(ConflictError, match=rec.id):
        store.add(dataclasses.replace(rec, participants=41), user="a")
    assert store.get(rec.id).participants == 40
    assert len(store.list()) == 1
    assert store.history(rec.id)["action"].tolist() == ["create"]


def test_retry_of_the_original_after_an_edit_is_still_a_noop(store, taxonomy):
    rec = make(taxonomy)
    store.add(rec, user="a")
    store.update(rec.id, {"participants": 55}, user="b")
    assert store.add(rec, user="a") == "unchanged"
    assert store.get(rec.id).participants == 55


def test_batch_is_all_or_nothing(store, taxonomy):
    kept = make(taxonomy)
    store.add(kept, user="a")
    batch = [make(taxonomy, organisation=f"Org {i}") for i in range(5)]
    with pytest.raises(ConflictError):
        store.add_many([*batch, dataclasses.replace(kept, participants=1)], user="a")
    outside = make(taxonomy, lon=106.70, lat=-5.95)  # Java Sea
    with pytest.raises(LocationError, match="record 6"):
        store.add_many([*batch, outside], user="a")
    assert store.list()["id"].tolist() == [kept.id]
    res = store.add_many([*batch, kept], user="a")
    assert (res.created, res.unchanged) == (5, 1)
    assert len(store.list()) == 6


def test_batch_with_the_same_id_twice(store, taxonomy):
    rec = make(taxonomy)
    assert store.add_many([rec, rec], user="a").created == 1
    with pytest.raises(ConflictError, match="twice"):
        store.add_many([make(taxonomy, id=rec.id), make(taxonomy, id=rec.id, participants=2)], user="a")


def test_update_keeps_history_and_versions(store, taxonomy):
    rec = make(taxonomy)
    store.add(rec, user="petugas1")
    new = store.update(rec.id, {"lon": TANJUNG_PRIOK[0], "lat": TANJUNG_PRIOK[1], "type": "FGD dengan peneliti"},
                       user="perencana")
    assert (new.version, new.kelurahan_code, new.type_key) == (2, "31.72.02.1001", "fgd_peneliti")
    assert (new.created_by, new.updated_by) == ("petugas1", "perencana")
    assert store.update(rec.id, {"participants": 40}, user="x").version == 2  # no change, no new version
    hist = store.history(rec.id)
    assert hist["action"].tolist() == ["create", "update"]
    assert hist["who"].tolist() == ["petugas1", "perencana"]
    assert '"kelurahan_code": "31.73.01.1004"' in hist["before"][1].replace('":"', '": "')
    versions = store.versions(rec.id)
    assert [v.kelurahan_code for v in versions] == ["31.73.01.1004", "31.72.02.1001"]
    with pytest.raises(ConflictError, match="someone else"):
        store.update(rec.id, {"participants": 1}, user="y", expected_version=1)
    with pytest.raises(ValidationError, match="participants"):
        store.update(rec.id, {"participants": -3}, user="y")
    assert store.get(rec.id).participants == 40


def _stored_afters(store, rec_id):
    """The ``after`` of a record's audit entries as the database holds them (not as history() returns them)."""
    with store._read() as cur:
        cur.execute(f"SELECT after FROM audit WHERE entity = 'intervention' AND entity_id = {store._PH} ORDER BY seq",
                    (rec_id,))
        return [None if a is None else json.loads(a) if isinstance(a, str) else a for (a,) in cur.fetchall()]


def test_a_create_is_audited_compactly_and_read_back_whole(store, taxonomy, monkeypatch):
    from geo_p4gn.store import _logic

    rec, other = make(taxonomy, notes='tanda "kutip" dan \\ garis'), make(taxonomy, organisation="Lain")
    store.add_many([rec, other], user="petugas1")
    stored = store.get(rec.id)
    # stored: the content hash only (the database wrote it from the row); the row itself is the content
    assert _stored_afters(store, rec.id) == [{"created_hash": rec.content_hash()}]
    log = store.audit_log(entity="intervention")
    assert log["entity_id"].tolist() == [rec.id, other.id]  # in the batch's order
    listing = store.audit_log(entity="intervention", contents=False)  # what the Administrasi list reads
    assert [json.loads(a) for a in listing["after"]] == [{"created_hash": r.content_hash()} for r in (rec, other)]
    whole = json.loads(store.history(rec.id)["after"][0])
    assert whole == json.loads(log["after"][0])
    assert whole["notes"] == rec.notes and whole["created_by"] == "petugas1" and whole["version"] == 1
    assert shapely.from_wkt(whole["geometry"]).equals(rec.geometry)
    assert {k: v for k, v in whole.items() if k != "geometry"} == {
        f: (getattr(stored, f).isoformat() if isinstance(getattr(stored, f), dt.date) else getattr(stored, f))
        for f in FIELDS if f != "geometry"}
    # after a change the row is no longer the content at creation: the change's before is
    store.update(rec.id, {"participants": 7, "notes": "diubah"}, user="perencana")
    store.delete(rec.id, user="perencana")
    hist = store.history(rec.id)
    assert hist["action"].tolist() == ["create", "update", "delete"]
    assert json.loads(hist["after"][0]) == json.loads(hist["before"][1]) == whole
    assert [v.participants for v in store.versions(rec.id)] == [40, 7, 7]
    assert store.versions(rec.id)[0].notes == rec.notes
    # a long log (more creates than one IN list; then more than are looked up by id) is filled in the same way
    store.add_many([make(taxonomy, participants=i) for i in range(600)], user="b")
    for read_all in (5000, 100):
        monkeypatch.setattr(_logic, "_EXPAND_READ_ALL", read_all)
        log = store.audit_log(entity="intervention")
        afters = [json.loads(a) for a in log["after"]]
        assert len(afters) == 604 and all("id" in a and "geometry" in a for a in afters)
        assert sorted(a["participants"] for a in afters[-600:]) == list(range(600))
        assert afters[0] == whole and log["entity_id"].tolist()[-600:] == [a["id"] for a in afters[-600:]]


def test_integrity_check_finds_a_record_written_without_its_create_entry(store, taxonomy):
    rec = make(taxonomy)
    store.add(rec, user="a")
    assert store.check_integrity() == []
    other, cast = "0b3c2c61-7d0e-4f6c-9a55-3c6f0f1d2e4a", "CAST({} AS uuid)" if store._PH == "%s" else "{}"
    cols = ("date, type_key, actor_key, organisation, kelurahan_code, created_by, created_at, updated_by, "
            "updated_at, version, content_hash, created_hash")
    store._conn().execute(f"INSERT INTO interventions (geom, id, {cols}) SELECT geom, {cast.format(store._PH)}, "
                          f"{cols} FROM interventions", (other,))  # around the store: no audit entry
    assert "interventions: 1 records without a 'create' audit entry" in store.check_integrity()


def test_soft_delete_and_restore(store, taxonomy):
    rec = make(taxonomy)
    store.add(rec, user="a")
    store.delete(rec.id, user="b")
    assert len(store.list()) == 0
    assert store.list(include_deleted=True)["deleted"].tolist() == [True]
    with pytest.raises(NotFoundError):
        store.get(rec.id)
    assert store.get(rec.id, include_deleted=True).deleted is True
    store.restore(rec.id, user="admin")
    assert store.get(rec.id).version == 3
    assert store.history(rec.id)["action"].tolist() == ["create", "delete", "restore"]
    with pytest.raises(NotFoundError):
        store.delete("00000000-0000-4000-8000-000000000000", user="b")


def test_list_columns_and_filters(store, taxonomy):
    store.add_many([
        make(taxonomy, date="2024-01-10"),
        make(taxonomy, date="2024-03-01", end_date="2024-03-05", type="pemetaan"),
        make(taxonomy, date="2024-06-01", lon=TANJUNG_PRIOK[0], lat=TANJUNG_PRIOK[1], actor="media"),
    ], user="a")
    frame = store.list()
    assert list(frame.columns) == list(FIELDS)
    assert frame.crs.to_epsg() == 4326
    assert len(store.list(Filters(date_from=dt.date(2024, 3, 4), date_to=dt.date(2024, 12, 31)))) == 2
    assert store.list(Filters(types=("pemetaan",)))["type_key"].tolist() == ["pemetaan"]
    assert store.list(Filters(kota=("31.72",)))["kelurahan_code"].tolist() == ["31.72.02.1001"]
    assert len(store.list(Filters(kecamatan=("31.73.01",), actors=("komunitas",)))) == 2


def test_polygon_record(store, taxonomy):
    poly = shapely.Point(*KEDAUNG).buffer(0.002)
    rec = make(taxonomy, geometry=poly, lon=None, lat=None)
    store.add(rec, user="a")
    got = store.get(rec.id)
    assert got.geometry.geom_type == "Polygon" and got.kelurahan_code == "31.73.01.1004"


def test_sites_are_audited(store, taxonomy):
    site = {"id": "kampung-uji", "name": "Kampung Uji", "aliases": ["Gang Uji"], "ikrn": "Bahaya",
            "geometry": shapely.Point(*KEDAUNG), "approximate": True, "sources": ["https://example.org/a"]}
    assert store.upsert_site(site, user="pimpinan") == "created"
    assert store.upsert_site(site, user="pimpinan") == "unchanged"
    moved = dict(site, geometry=shapely.Point(*TANJUNG_PRIOK), approximate=False)
    assert store.upsert_site(moved, user="pimpinan") == "updated"
    got = store.get_site("kampung-uji")
    assert (got["kelurahan_code"], got["approximate"], got["ikrn"], got["version"]) == (
        "31.72.02.1001", False, "bahaya", 2)
    assert got["aliases"] == ["Gang Uji"]
    log = store.audit_log(entity="site")
    assert log["action"].tolist() == ["create", "update"]
    assert store.list_sites()["id"].tolist() == ["kampung-uji"]


def test_data_version_changes_on_every_write(store, taxonomy):
    v0 = store.data_version()
    rec = make(taxonomy)
    store.add(rec, user="a")
    v1 = store.data_version()
    store.add(rec, user="a")  # no-op: no change
    assert v0 != v1 == store.data_version()


def test_integrity_check_passes(store, taxonomy):
    store.add_many([make(taxonomy) for _ in range(3)], user="a")
    assert store.check_integrity() == []
