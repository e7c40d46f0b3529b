"""Catat intervensi: placing the point, the kelurahan at once, refusals before submit, one record per form."""

from __future__ import annotations

import re
import uuid

import folium
import pytest
import streamlit_folium

from geo_p4gn import services
from geo_p4gn.render import maps
from geo_p4gn_app import mapview, pointslot
from tests.app.conftest import IN_JAKARTA, IN_SEA, OUTSIDE, open_app, texts

pytestmark = pytest.mark.usefixtures("app_env")


def fill_form(at, *, type_key="deklarasi", actor="komunitas", org="BNNP DKI Jakarta", participants=40,
              notes="Deklarasi anti narkoba"):
    fid = at.session_state["catat_id"]
    at.selectbox(key=f"catat_type_{fid}").set_value(type_key)
    at.selectbox(key=f"catat_actor_{fid}").set_value(actor)
    at.text_input(key=f"catat_org_{fid}").set_value(org)
    at.number_input(key=f"catat_participants_{fid}").set_value(participants)
    at.text_area(key=f"catat_notes_{fid}").set_value(notes)
    return fid


def submit(at):
    next(b for b in at.button if b.label == "Simpan").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_the_record_id_is_made_when_the_form_opens(fake_map):
    at = open_app("catat")
    fid = at.session_state["catat_id"]
    assert str(uuid.UUID(fid)) == fid
    assert at.query_params["catat"] == fid
    at.run()
    assert at.session_state["catat_id"] == fid


def test_a_tap_shows_the_kelurahan_at_once(fake_map, boundaries):
    at = open_app("catat")
    fake_map.click(*IN_JAKARTA)
    at.run()
    code = boundaries.assign_one(*IN_JAKARTA)
    name = boundaries.kelurahan.set_index("code").loc[code, "name"]
    assert at.session_state["catat_point"]["kelurahan_code"] == code
    assert name.replace(" ", " ") in texts(at).replace("\\", "")
    # the placed point goes to the browser apart from the map (pointslot.sync): the map is the same as before
    # the tap, so the browser keeps it and a tap does not re-send it
    assert pointslot.spec(at.session_state["catat_point"]) == {"lat": IN_JAKARTA[1], "lon": IN_JAKARTA[0], "ok": True}
    before, after = fake_map.calls[0], fake_map.last
    assert not after[1].get("feature_group_to_add")
    assert streamlit_folium._get_map_string(after[0]) == streamlit_folium._get_map_string(before[0])
    assert "gpPointSlot" in fake_map.last_html()


@pytest.mark.parametrize("where", [IN_SEA, OUTSIDE], ids=["sea", "outside"])
def test_a_point_outside_jakarta_or_in_the_sea_is_refused_before_submitting(fake_map, store, where):
    at = open_app("catat")
    fake_map.click(*where)
    at.run()
    assert at.session_state["catat_point"]["status"] == "outside"
    assert any("di luar DKI Jakarta atau di laut" in e.value for e in at.error)
    before = len(store.list())
    fill_form(at)
    submit(at)
    assert len(store.list()) == before
    assert any("di luar DKI Jakarta atau di laut" in e.value for e in at.error)


def test_submit_without_a_point_asks_for_one(fake_map, store):
    at = open_app("catat")
    before = len(store.list())
    fill_form(at)
    submit(at)
    assert len(store.list()) == before
    assert any("Tentukan lokasi dulu" in e.value for e in at.error)


def test_missing_fields_are_named(fake_map, store):
    at = open_app("catat")
    fake_map.click(*IN_JAKARTA)
    at.run()
    submit(at)
    assert any("Jenis intervensi" in e.value and "Aktor" in e.value for e in at.error)


def test_submit_twice_or_reload_stores_one_record(fake_map, store, boundaries):
    at = open_app("catat")
    fake_map.click(*IN_JAKARTA)
    at.run()
    before = len(store.list())
    fid = fill_form(at)
    submit(at)
    recs = store.list()
    assert len(recs) == before + 1
    rec = store.get(fid)
    assert (rec.type_key, rec.actor_key, rec.organisation, rec.participants) == \
        ("deklarasi", "komunitas", "BNNP DKI Jakarta", 40)
    assert rec.created_by == services.SINGLE_USER.name
    assert rec.kelurahan_code == boundaries.assign_one(*IN_JAKARTA)
    assert any("Tersimpan" in s.value for s in at.success)
    assert not any(b.label == "Simpan" for b in at.button)  # the form is replaced by the saved record

    at.run()  # a rerun (double tap) stores nothing more
    assert len(store.list()) == before + 1

    reloaded = open_app("catat", query={"catat": fid})  # a reload keeps the id in the address
    assert reloaded.session_state["catat_id"] == fid
    assert any("Tersimpan" in s.value for s in reloaded.success)
    assert len(store.list()) == before + 1

    # the service itself treats the same id and content as unchanged
    raw = {"id": fid, "date": rec.date, "type": "deklarasi", "actor": "komunitas",
           "organisation": "BNNP DKI Jakarta", "participants": 40, "notes": "Deklarasi anti narkoba",
           "lon": IN_JAKARTA[0], "lat": IN_JAKARTA[1], "site_id": None}
    assert services.record_intervention(store, services.SINGLE_USER, raw)[1] == "unchanged"

    # a new entry gets a new id
    next(b for b in at.button if b.key == "catat_new").click()
    at.run()
    assert at.session_state["catat_id"] != fid
    assert at.query_params["catat"] == at.session_state["catat_id"]
    assert "catat_point" not in at.session_state


def test_choosing_a_site_places_the_point_there(fake_map, store):
    at = open_app("catat")
    site = store.get_site("kampung-bahari")
    at.selectbox(key="catat_site").set_value("kampung-bahari")
    at.run()
    point = at.session_state["catat_point"]
    assert point["kelurahan_code"] == site["kelurahan_code"]
    assert (round(point["lon"], 6), round(point["lat"], 6)) == \
        (round(site["geometry"].x, 6), round(site["geometry"].y, 6))
    fid = fill_form(at)
    submit(at)
    assert store.get(fid).site_id == "kampung-bahari"


def test_tapping_a_site_marker_chooses_the_site(fake_map, store):
    at = open_app("catat")
    site = store.get_site("kampung-boncos")
    fake_map.click_object(site["geometry"].x, site["geometry"].y)
    at.run()
    assert at.session_state["catat_site"] == "kampung-boncos"
    assert at.session_state["catat_point"]["kelurahan_code"] == site["kelurahan_code"]


def test_own_recent_entries_are_on_the_map_and_can_be_corrected_and_deleted(fake_map, store):
    payload = "Organisasi <img src=x onerror=alert(1)> ${x}"
    services.record_intervention(store, services.SINGLE_USER, {
        "date": "2024-08-17", "type": "seni_budaya", "actor": "komunitas", "organisation": payload,
        "lon": IN_JAKARTA[0], "lat": IN_JAKARTA[1]})
    at = open_app("catat")
    fake_map.click(*IN_JAKARTA)
    at.run()
    assert payload in at.selectbox(key=f"catat_org_pick_{at.session_state['catat_id']}").options  # suggested
    fid = fill_form(at)
    submit(at)
    html = fake_map.last_html()
    assert "Entri saya (2)" in html
    assert "<img src=x" not in html and "${x}" not in html  # user text reaches the map only as escaped JSON

    at.selectbox(key="catat_edit").set_value(fid)
    at.run()
    edit = next(n for n in at.number_input if n.label == "Jumlah peserta" and n.value == 40)
    edit.set_value(55)
    next(b for b in at.button if b.label == "Simpan perubahan").click()
    at.run()
    assert not at.exception
    rec = store.get(fid)
    assert (rec.participants, rec.version) == (55, 2)

    at.selectbox(key="catat_edit").set_value(fid)
    at.run()
    at.checkbox(key=f"catat_del_ok_{fid}").check()
    at.run()
    at.button(key=f"catat_del_{fid}").click()
    at.run()
    assert fid not in set(store.list()["id"])
    assert store.get(fid, include_deleted=True).deleted
    # the form this record came from starts a new record: filling it again is not "number already used"
    assert at.session_state["catat_id"] != fid
    assert "Entri dihapus." in texts(at)
    fake_map.click(IN_JAKARTA[0] + 0.001, IN_JAKARTA[1])  # the new record's place
    at.run()
    fid2 = fill_form(at)
    submit(at)
    assert store.get(fid2).organisation == "BNNP DKI Jakarta"


def test_a_picked_organisation_fills_the_box_and_a_typed_one_wins(fake_map, store):
    services.record_intervention(store, services.SINGLE_USER, {
        "date": "2024-08-17", "type": "seni_budaya", "actor": "komunitas", "organisation": "BNNP DKI Jakarta",
        "lon": IN_JAKARTA[0], "lat": IN_JAKARTA[1]})
    at = open_app("catat")
    fake_map.click(*IN_JAKARTA)
    at.run()
    fid = at.session_state["catat_id"]
    at.selectbox(key=f"catat_org_pick_{fid}").set_value("BNNP DKI Jakarta")
    at.run()
    assert at.text_input(key=f"catat_org_{fid}").value == "BNNP DKI Jakarta"
    fill_form(at, org="BNNP DKI")  # retyped: what is typed is what is stored, never the first suggestion
    submit(at)
    assert store.get(fid).organisation == "BNNP DKI"


def test_edits_are_always_confirmed(fake_map, store):
    rec, _ = services.record_intervention(store, services.SINGLE_USER, {
        "date": "2024-08-17", "type": "seni_budaya", "actor": "komunitas", "organisation": "Karang Taruna",
        "participants": 1, "lon": IN_JAKARTA[0], "lat": IN_JAKARTA[1]})
    at = open_app("catat")
    for n in range(2, 6):
        at.selectbox(key="catat_edit").set_value(rec.id)
        at.run()
        next(x for x in at.number_input if x.label == "Jumlah peserta" and x.value == n - 1).set_value(n)
        next(b for b in at.button if b.label == "Simpan perubahan").click()
        at.run()
        assert "Perubahan tersimpan." in texts(at), n
        assert store.get(rec.id).participants == n


def test_the_map_loads_only_local_assets(fake_map):
    open_app("catat")
    fig, kw = fake_map.last
    assert kw["returned_objects"] == ["last_clicked", "last_object_clicked"]
    urls = mapview.links(fig)
    assert urls and all(u.startswith(("/app/static/vendor/", "/app/static/geo/")) for u in urls)
    # the map helpers and the kelurahan names are cached files, not inline in every new session's map (issue 12)
    assert [u for u in urls if re.fullmatch(r"/app/static/geo/support-[0-9a-f]{16}\.(js|css)", u)] == \
        list(mapview.support_urls())
    script = streamlit_folium.generate_leaflet_string(fig)
    assert "window.geoP4gn" not in script and mapview.properties_url("kelurahan") in script
    # no background tiles or basemap file unless one is configured (the helper script may know how to draw one)
    assert not [el for el in mapview._walk(fig) if isinstance(el, folium.TileLayer | maps.Basemap)]
    assert "geoP4gn.basemap(" not in fake_map.last_html()


def test_the_kelurahan_shapes_come_from_one_cached_file_not_from_every_rerun(fake_map, boundaries):
    """Each Streamlit rerun (a tap) re-sends the map: its HTML carries codes and names, not polygons."""
    import json
    import re

    open_app("catat")
    html = fake_map.last_html()  # its size against a plain folium page: bench/bench_payload.py
    urls = set(re.findall(r'"(/app/static/geo/(?:kelurahan|kota)-[0-9a-f]{16}\.json)"', html))
    assert {u.split("/")[-1].split("-")[0] for u in urls} == {"kelurahan", "kota"}
    kel = next(u for u in urls if "kelurahan-" in u)
    shapes = json.loads((mapview.STATIC_DIR / kel.removeprefix("/app/static/")).read_text())
    codes = [f["properties"]["code"] for f in shapes["features"]]
    assert sorted(codes) == sorted(boundaries.kelurahan["code"])
    assert all(set(f["properties"]) == {"code"} for f in shapes["features"])  # public shapes, nothing else
    assert "Kedaung Kali Angke" in html  # names travel with the page (tooltips), shapes do not
    assert html.count('"coordinates"') < 50  # the sites' points only; 267 + 6 polygons were inline before
