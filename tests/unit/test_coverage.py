"""Coverage analytics on a tiny hand-built world: every metric pinned to an exact value.

The world (window 2024, as of 2025-01-31):

- kelurahan K1 31.73.01.1004 and K2 31.73.01.1005 (kecamatan 31.73.01), K3 31.73.07.1006 (31.73.07), all in
  kota 31.73; K4 31.72.02.1001 (kecamatan 31.72.02, kota 31.72). K2 holds no target site.
- sites: S1 kampung-ambon (K1, bahaya), S4 gang-melati (K1, siaga), S2 kampung-boncos (K3, waspada),
  S5 rusun-pal-merah (K3, no IKRN), S3 kampung-bahari (K4, no IKRN).
- S1 gets all 7 types from 4 actor classes (no media), one of them a multi-day meeting cut by the window end;
  S2 gets seni_budaya three times, one of them a multi-day event cut by the window start, two by different
  organisations in July 2024 (an overlap); S3 had one intervention in 2023 and one soft-deleted in 2024;
  K2 (no target) gets a mapping and a "posko" (a type that is not in the taxonomy).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from geo_p4gn import cli
from geo_p4gn import coverage as cov
from geo_p4gn._errors import P4gnError
from geo_p4gn.cli import coverage as cli_coverage
from geo_p4gn.filters import Filters
from geo_p4gn.records import FIELDS
from geo_p4gn.sites import SITE_FIELDS
from geo_p4gn.taxonomy import Term

D = dt.date
K1, K2, K3, K4 = "31.73.01.1004", "31.73.01.1005", "31.73.07.1006", "31.72.02.1001"
S1, S2, S3, S4, S5 = "kampung-ambon", "kampung-boncos", "kampung-bahari", "gang-melati", "rusun-pal-merah"
Y2024 = Filters(date_from=D(2024, 1, 1), date_to=D(2024, 12, 31))
AS_OF = D(2025, 1, 31)
TYPES7 = ("pemetaan", "diskusi_tokoh", "fgd_peneliti", "seni_budaya", "kelurahan_bersinar", "deklarasi",
          "tim_terpadu")


def _areas() -> pd.DataFrame:
    rows = [
        (K1, "Kedaung Kali Angke", "31.73.01", "Cengkareng", "31.73", "Kota Administrasi Jakarta Barat"),
        (K2, "Kapuk", "31.73.01", "Cengkareng", "31.73", "Kota Administrasi Jakarta Barat"),
        (K3, "Kota Bambu Selatan", "31.73.07", "Pal Merah", "31.73", "Kota Administrasi Jakarta Barat"),
        (K4, "Tanjung Priok", "31.72.02", "Tanjung Priok", "31.72", "Kota Administrasi Jakarta Utara"),
    ]
    return pd.DataFrame(rows, columns=["code", "name", "kecamatan_code", "kecamatan_name", "kota_code",
                                       "kota_name"])


def _sites() -> pd.DataFrame:
    rows = [
        (S1, "Kampung Ambon", K1, "bahaya"),
        (S2, "Kampung Boncos", K3, "waspada"),
        (S3, "Kampung Bahari", K4, None),
        (S4, "Gang Melati", K1, "siaga"),
        (S5, "Rusun Pal Merah", K3, None),
    ]
    df = pd.DataFrame(rows, columns=["id", "name", "kelurahan_code", "ikrn"])
    df["aliases"] = [[] for _ in rows]
    df["approximate"] = True
    df["sources"] = [[] for _ in rows]
    df["geometry"] = None
    return df[list(SITE_FIELDS)]


def _rec(rid, date, type_key, actor, org, site, kel, participants=None, end=None, deleted=False) -> dict:
    return {"id": rid, "date": date, "end_date": end, "type_key": type_key, "actor_key": actor,
            "organisation": org, "site_id": site, "kelurahan_code": kel, "participants": participants,
            "notes": "", "created_by": "tester", "created_at": "2025-01-01T00:00:00Z", "updated_by": None,
            "updated_at": None, "deleted": deleted, "version": 1, "geometry": None}


def _records() -> pd.DataFrame:
    rows = [
        _rec("r01", D(2024, 2, 10), "pemetaan", "pemerintah", "BNNP DKI", S1, K1, 30),
        _rec("r02", D(2024, 3, 5), "diskusi_tokoh", "komunitas", "Karang Taruna", S1, K1, 50),
        _rec("r03", D(2024, 4, 20), "fgd_peneliti", "akademisi", "Universitas Indonesia", S1, K1),
        _rec("r04", D(2024, 5, 17), "seni_budaya", "komunitas", " karang  TARUNA ", S1, K1, 120),
        _rec("r05", D(2024, 6, 1), "kelurahan_bersinar", "pemerintah", "BNNP DKI", S1, K1, 10),
        _rec("r06", D(2024, 8, 17), "deklarasi", "swasta", "PT Maju", S1, K1, 200),
        _rec("r07", D(2024, 11, 30), "tim_terpadu", "pemerintah", "BNNK Jakarta Barat", S1, K1, 15,
             end=D(2025, 1, 10)),
        _rec("r15", D(2024, 12, 15), "tim_terpadu", "pemerintah", "BNNP DKI", S1, K1),
        _rec("r08", D(2023, 12, 20), "seni_budaya", "komunitas", "Sanggar Betawi", S2, K3, 80,
             end=D(2024, 1, 5)),
        _rec("r09", D(2024, 7, 1), "seni_budaya", "media", "Kompas", S2, K3),
        _rec("r10", D(2024, 7, 15), "seni_budaya", "komunitas", "Sanggar Betawi", S2, K3, 40),
        _rec("r11", D(2023, 6, 1), "deklarasi", "pemerintah", "Walikota Jakarta Utara", S3, K4, 300),
        _rec("r12", D(2024, 9, 9), "deklarasi", "pemerintah", "Walikota Jakarta Utara", S3, K4, 99,
             deleted=True),
        _rec("r13", D(2024, 10, 10), "pemetaan", "pemerintah", "Kelurahan Kapuk", None, K2),
        _rec("r14", D(2024, 3, 3), "posko", "komunitas", "Warga RW 03", None, K2, 25),
    ]
    return pd.DataFrame(rows, columns=list(FIELDS))


def _table(taxonomy, level, filters=Y2024, records=None, **kw):
    records = _records() if records is None else records
    return cov.coverage_table(records, _sites(), _areas(), taxonomy, level, filters, as_of=AS_OF, **kw)


def _row(table, code) -> dict:
    return table.set_index("code").loc[code].to_dict()


METRICS = ("interventions", "participants", "participants_reported", "organisations", "types_done",
           "types_total", "actors_done", "actors_total", "reached", "covered", "status", "last_date",
           "days_since_last", "target_sites", "sites_reached", "sites_covered", "ikrn")


def _metrics(table) -> dict:
    out = {}
    for code, row in table.set_index("code").iterrows():
        vals = []
        for m in METRICS:
            v = row[m]
            if not isinstance(v, str) and pd.isna(v):
                v = None
            elif isinstance(v, pd.Timestamp):
                v = v.date()
            elif isinstance(v, np.generic):
                v = v.item()
            vals.append(v)
        out[code] = tuple(vals)
    return out


# -- the coverage table at every level --------------------------------------------------------------------
def test_site_level_every_metric(taxonomy):
    t = _table(taxonomy, "site")
    assert list(t.columns) == list(cov.COLUMNS)
    assert t["code"].tolist() == sorted([S1, S2, S3, S4, S5])
    assert set(t["level"]) == {"site"}
    # interventions, participants, reported, organisations, types k/N, actors k/M, reached, covered, status,
    # last date, days since, target sites, reached, covered, ikrn
    assert _metrics(t) == {
        S1: (8, 425, 6, 5, 7, 7, 4, 5, True, True, "covered", D(2024, 12, 31), 31, 1, 1, 1, "bahaya"),
        S2: (3, 120, 2, 2, 1, 7, 2, 5, True, False, "reached", D(2024, 7, 15), 200, 1, 1, 0, "waspada"),
        S3: (0, 0, 0, 0, 0, 7, 0, 5, False, False, "not_reached", D(2023, 6, 1), 610, 1, 0, 0, None),
        S4: (0, 0, 0, 0, 0, 7, 0, 5, False, False, "not_reached", None, None, 1, 0, 0, "siaga"),
        S5: (0, 0, 0, 0, 0, 7, 0, 5, False, False, "not_reached", None, None, 1, 0, 0, None),
    }
    s1, s2 = _row(t, S1), _row(t, S2)
    assert (s1["name"], s1["kelurahan_code"], s1["kecamatan_code"], s1["kota_code"]) == (
        "Kampung Ambon", K1, "31.73.01", "31.73")
    assert s1["missing_types"] == "" and s1["missing_actors"] == "media"
    assert s2["missing_types"] == "pemetaan,diskusi_tokoh,fgd_peneliti,kelurahan_bersinar,deklarasi,tim_terpadu"
    assert s2["missing_actors"] == "pemerintah,swasta,akademisi"
    assert (s1["pct_sites_reached"], s1["pct_sites_covered"], s2["pct_sites_covered"]) == (100.0, 100.0, 0.0)
    assert t["target"].all()


def test_kelurahan_level_every_metric(taxonomy):
    t = _table(taxonomy, "kelurahan")
    assert t["code"].tolist() == [K4, K1, K2, K3]  # sorted by code
    assert _metrics(t) == {
        K1: (8, 425, 6, 5, 7, 7, 4, 5, True, True, "covered", D(2024, 12, 31), 31, 2, 1, 1, "bahaya"),
        K2: (2, 25, 1, 2, 1, 7, 2, 5, True, False, "reached", D(2024, 10, 10), 113, 0, 0, 0, None),
        K3: (3, 120, 2, 2, 1, 7, 2, 5, True, False, "reached", D(2024, 7, 15), 200, 2, 1, 0, "waspada"),
        K4: (0, 0, 0, 0, 0, 7, 0, 5, False, False, "not_reached", D(2023, 6, 1), 610, 1, 0, 0, None),
    }
    rows = t.set_index("code")
    assert rows.loc[K1, "pct_sites_reached"] == 50.0 and rows.loc[K1, "pct_sites_covered"] == 50.0
    assert rows.loc[K3, "pct_sites_reached"] == 50.0 and rows.loc[K3, "pct_sites_covered"] == 0.0
    assert rows.loc[K4, "pct_sites_reached"] == 0.0 and rows.loc[K4, "pct_sites_covered"] == 0.0
    # K2 holds no target site: its percentages are NaN (not 0 %) and it is not a target
    assert np.isnan(rows.loc[K2, "pct_sites_reached"]) and np.isnan(rows.loc[K2, "pct_sites_covered"])
    assert rows["target"].to_dict() == {K4: True, K1: True, K2: False, K3: True}
    assert (rows.loc[K1, "name"], rows.loc[K1, "kelurahan_code"], rows.loc[K1, "kecamatan_code"],
            rows.loc[K1, "kota_code"]) == ("Kedaung Kali Angke", K1, "31.73.01", "31.73")


def test_kecamatan_kota_province_levels(taxonomy):
    tables = cov.coverage_tables(_records(), _sites(), _areas(), taxonomy, Y2024, as_of=AS_OF)
    assert list(tables) == list(cov.LEVELS)
    assert _metrics(tables["kecamatan"]) == {
        "31.72.02": (0, 0, 0, 0, 0, 7, 0, 5, False, False, "not_reached", D(2023, 6, 1), 610, 1, 0, 0, None),
        "31.73.01": (10, 450, 7, 7, 7, 7, 4, 5, True, True, "covered", D(2024, 12, 31), 31, 2, 1, 1, "bahaya"),
        "31.73.07": (3, 120, 2, 2, 1, 7, 2, 5, True, False, "reached", D(2024, 7, 15), 200, 2, 1, 0, "waspada"),
    }
    assert _metrics(tables["kota"]) == {
        "31.72": (0, 0, 0, 0, 0, 7, 0, 5, False, False, "not_reached", D(2023, 6, 1), 610, 1, 0, 0, None),
        "31.73": (13, 570, 9, 9, 7, 7, 5, 5, True, True, "covered", D(2024, 12, 31), 31, 4, 2, 1, "bahaya"),
    }
    assert _metrics(tables["province"]) == {
        "31": (13, 570, 9, 9, 7, 7, 5, 5, True, True, "covered", D(2024, 12, 31), 31, 5, 2, 1, "bahaya"),
    }
    prov = tables["province"].iloc[0]
    assert (prov["name"], prov["pct_sites_reached"], prov["pct_sites_covered"]) == (
        "Daerah Khusus Ibukota Jakarta", 40.0, 20.0)
    kota = tables["kota"].set_index("code")
    assert kota.loc["31.73", "pct_sites_reached"] == 50.0 and kota.loc["31.73", "pct_sites_covered"] == 25.0
    assert kota.loc["31.73", "name"] == "Kota Administrasi Jakarta Barat"
    kec = tables["kecamatan"].set_index("code")
    assert (kec.loc["31.73.07", "name"], kec.loc["31.73.07", "kota_code"]) == ("Pal Merah", "31.73")
    assert kec["kelurahan_code"].isna().all()
    # one pass gives the same as one level at a time
    pd.testing.assert_frame_equal(tables["kota"], _table(taxonomy, "kota"))


def test_columns_dtypes_are_stable(taxonomy):
    t = _table(taxonomy, "kelurahan")
    assert {str(t[c].dtype) for c in cov._TEXT} == {"str"}
    dtypes = {c: str(t[c].dtype) for c in ("interventions", "participants", "participants_reported",
                                           "organisations", "types_done", "reached", "covered",
                                           "last_date", "days_since_last", "pct_sites_reached")}
    assert dtypes == {"interventions": "int64", "participants": "Int64", "participants_reported": "int64",
                      "organisations": "int64", "types_done": "int64", "reached": "bool", "covered": "bool",
                      "last_date": "datetime64[s]", "days_since_last": "Int64", "pct_sites_reached": "float64"}


# -- the edge cases of the issue ---------------------------------------------------------------------------
def test_soft_deleted_record_is_never_counted(taxonomy):
    s3 = _row(_table(taxonomy, "site"), S3)
    # r12 (2024-09-09, deleted) neither counts nor moves the last date
    assert (s3["interventions"], s3["participants"], s3["last_date"]) == (0, 0, pd.Timestamp(2023, 6, 1))
    k4 = _row(_table(taxonomy, "kelurahan"), K4)
    assert (k4["interventions"], k4["status"]) == (0, "not_reached")
    # the same record, not deleted, would count: the test can fail
    recs = _records()
    recs.loc[recs["id"] == "r12", "deleted"] = False
    s3b = _row(_table(taxonomy, "site", records=recs), S3)
    assert (s3b["interventions"], s3b["participants"], s3b["last_date"]) == (1, 99, pd.Timestamp(2024, 9, 9))
    # deleted rows are ignored by every function, not only the table
    assert cov.type_actor_matrix(_records(), taxonomy, Y2024, area=K4).to_numpy().sum() == 0
    assert "r12" not in str(cov.overlaps(_records(), Filters()).to_dict())


def test_window_that_cuts_a_multi_day_intervention(taxonomy):
    # r08 Sanggar Betawi 2023-12-20..2024-01-05 (80 people) overlaps both Dec 2023 and Jan 2024: it counts,
    # whole, in each window that it overlaps; its last day is clipped to the window's end
    dec = _row(_table(taxonomy, "site", Filters(date_from=D(2023, 12, 1), date_to=D(2023, 12, 31))), S2)
    assert (dec["interventions"], dec["participants"], dec["last_date"]) == (1, 80, pd.Timestamp(2023, 12, 31))
    jan = _row(_table(taxonomy, "site", Filters(date_from=D(2024, 1, 1), date_to=D(2024, 1, 31))), S2)
    assert (jan["interventions"], jan["participants"], jan["last_date"]) == (1, 80, pd.Timestamp(2024, 1, 5))
    after = _row(_table(taxonomy, "site", Filters(date_from=D(2024, 1, 6), date_to=D(2024, 1, 31))), S2)
    assert (after["interventions"], after["reached"], after["status"]) == (0, False, "not_reached")
    # ...but the look-back still shows when work stopped: 2024-01-05
    assert after["last_date"] == pd.Timestamp(2024, 1, 5)
    # r07 2024-11-30..2025-01-10: clipped to 2024-12-31 in the 2024 window, 2025-01-10 with no window
    assert _row(_table(taxonomy, "site"), S1)["last_date"] == pd.Timestamp(2024, 12, 31)
    s1 = _row(_table(taxonomy, "site", Filters()), S1)
    assert (s1["last_date"], s1["days_since_last"]) == (pd.Timestamp(2025, 1, 10), 21)
    # on a day inside it, the work is ongoing: 0 days since
    ongoing = cov.coverage_table(_records(), _sites(), _areas(), taxonomy, "site", Filters(), as_of=D(2025, 1, 5))
    assert _row(ongoing, S1)["days_since_last"] == 0


def test_a_type_added_to_the_taxonomy_makes_n_8_and_old_records_still_count(taxonomy):
    posko = Term(key="posko", id="Posko anti narkoba", en="Anti-drug post")
    tax8 = dataclasses.replace(taxonomy, types=(*taxonomy.types, posko))
    assert len(tax8.type_keys) == 8
    site = _table(tax8, "site")
    s1 = _row(site, S1)
    assert (s1["interventions"], s1["types_done"], s1["types_total"], s1["covered"], s1["status"]) == (
        8, 7, 8, False, "reached")
    assert s1["missing_types"] == "posko"
    assert set(site["types_total"]) == {8}
    k2 = _row(_table(tax8, "kelurahan"), K2)  # r14 is a posko: now it counts towards k of N too
    assert (k2["interventions"], k2["types_done"], k2["types_total"]) == (2, 2, 8)
    prov = _table(tax8, "province").iloc[0]
    assert (prov["interventions"], prov["types_done"], prov["covered"]) == (13, 8, True)


def test_a_type_no_longer_in_the_taxonomy_still_counts_as_an_intervention(taxonomy):
    tax6 = dataclasses.replace(taxonomy, types=tuple(t for t in taxonomy.types if t.key != "seni_budaya"))
    s2 = _row(_table(tax6, "site"), S2)
    assert (s2["interventions"], s2["participants"], s2["organisations"], s2["types_done"],
            s2["types_total"], s2["reached"]) == (3, 120, 2, 0, 6, True)
    # a retired (inactive) type leaves N too
    retired = dataclasses.replace(taxonomy, types=tuple(
        dataclasses.replace(t, active=False) if t.key == "tim_terpadu" else t for t in taxonomy.types))
    s1 = _row(_table(retired, "site"), S1)
    assert (s1["interventions"], s1["types_done"], s1["types_total"], s1["covered"]) == (8, 6, 6, True)


def test_type_and_actor_filters_narrow_n_and_m(taxonomy):
    f = dataclasses.replace(Y2024, types=("seni_budaya",), actors=("komunitas", "media"))
    t = _table(taxonomy, "site", f)
    s1, s2 = _row(t, S1), _row(t, S2)
    assert (s2["interventions"], s2["types_done"], s2["types_total"], s2["actors_done"], s2["actors_total"],
            s2["covered"]) == (3, 1, 1, 2, 2, True)
    assert (s1["interventions"], s1["types_done"], s1["actors_done"], s1["missing_actors"]) == (1, 1, 1, "media")


def test_area_filter_narrows_rows_records_and_targets(taxonomy):
    f = dataclasses.replace(Y2024, kota=("31.73",))
    tables = cov.coverage_tables(_records(), _sites(), _areas(), taxonomy, f, as_of=AS_OF)
    assert tables["kelurahan"]["code"].tolist() == [K1, K2, K3]
    assert tables["site"]["code"].tolist() == [S4, S1, S2, S5]
    prov = tables["province"].iloc[0]
    assert (prov["interventions"], prov["target_sites"], prov["sites_reached"], prov["pct_sites_reached"]) == (
        13, 4, 2, 50.0)
    ikrn = _table(taxonomy, "kelurahan", dataclasses.replace(Y2024, ikrn=("bahaya",)))
    assert _metrics(ikrn)[K1][:2] == (8, 425) and ikrn["target_sites"].tolist() == [0, 1, 0, 0]


def test_inputs_are_not_changed_and_date_types_do_not_matter(taxonomy):
    recs, sites, areas = _records(), _sites(), _areas()
    before = (recs.copy(), sites.copy(), areas.copy())
    t1 = cov.coverage_tables(recs, sites, areas, taxonomy, Y2024, as_of=AS_OF)
    pd.testing.assert_frame_equal(recs, before[0])
    pd.testing.assert_frame_equal(sites, before[1])
    pd.testing.assert_frame_equal(areas, before[2])
    # datetime64 dates and pandas string columns (as a GeoPackage read gives) give the same tables
    store_like = recs.astype({"date": "datetime64[ms]", "end_date": "datetime64[ms]", "type_key": "str",
                              "actor_key": "str", "organisation": "str", "site_id": "str",
                              "kelurahan_code": "str", "participants": "Int64"})
    t2 = cov.coverage_tables(store_like, sites, areas, taxonomy, Y2024, as_of=AS_OF)
    # ...and so does any index on the records (a filtered frame, repeated labels)
    odd = recs.set_axis([7] * len(recs))
    t3 = cov.coverage_tables(odd, sites, areas, taxonomy, Y2024, as_of=AS_OF)
    for level in cov.LEVELS:
        pd.testing.assert_frame_equal(t1[level], t2[level])
        pd.testing.assert_frame_equal(t1[level], t3[level])


def test_threaded_encoding_and_sparse_pairs_give_the_same_tables(taxonomy, monkeypatch):
    plain = cov.coverage_tables(_records(), _sites(), _areas(), taxonomy, Y2024, as_of=AS_OF)
    monkeypatch.setattr(cov, "_THREADED_ROWS", 0)  # the path taken above 200,000 rows
    monkeypatch.setattr(cov, "_DENSE_PAIRS", 0)  # the path taken for very many organisations
    dt64 = _records().astype({"date": "datetime64[ms]", "end_date": "datetime64[ms]"})
    for recs in (_records(), dt64):
        other = cov.coverage_tables(recs, _sites(), _areas(), taxonomy, Y2024, as_of=AS_OF)
        for level in cov.LEVELS:
            pd.testing.assert_frame_equal(plain[level], other[level])


def test_no_records_and_no_sites(taxonomy):
    empty = _records().iloc[:0]
    t = cov.coverage_table(empty, None, _areas(), taxonomy, "kelurahan", Y2024, as_of=AS_OF)
    assert t["status"].tolist() == ["no_target"] * 4
    assert t["interventions"].tolist() == [0] * 4 and t["pct_sites_reached"].isna().all()
    assert t["last_date"].isna().all() and t["days_since_last"].isna().all()
    assert cov.coverage_table(empty, None, _areas(), taxonomy, "site", Y2024).empty


def test_bad_inputs_name_the_problem(taxonomy):
    with pytest.raises(P4gnError, match="level must be one of"):
        _table(taxonomy, "rw")
    with pytest.raises(P4gnError, match=r"records: missing column\(s\) deleted"):
        _table(taxonomy, "site", records=_records().drop(columns="deleted"))
    areas = pd.concat([_areas(), _areas().iloc[:1]])
    with pytest.raises(P4gnError, match="kelurahan codes repeated"):
        cov.coverage_table(_records(), _sites(), areas, taxonomy, "kelurahan")


# -- matrix, gaps, overlaps, timeline, shares ----------------------------------------------------------------
def test_type_actor_matrix_for_a_site_and_for_areas(taxonomy):
    m = cov.type_actor_matrix(_records(), taxonomy, Y2024, site=S1)
    assert m.shape == (7, 5)
    assert m.index.tolist() == list(TYPES7)
    assert m.columns.tolist() == ["pemerintah", "swasta", "akademisi", "komunitas", "media"]
    expected = pd.DataFrame(0, index=m.index, columns=m.columns)
    for t, a, n in (("pemetaan", "pemerintah", 1), ("diskusi_tokoh", "komunitas", 1),
                    ("fgd_peneliti", "akademisi", 1), ("seni_budaya", "komunitas", 1),
                    ("kelurahan_bersinar", "pemerintah", 1), ("deklarasi", "swasta", 1),
                    ("tim_terpadu", "pemerintah", 2)):
        expected.loc[t, a] = n
    pd.testing.assert_frame_equal(m, expected)
    kota = cov.type_actor_matrix(_records(), taxonomy, Y2024, area="31.73")
    expected.loc["seni_budaya", "komunitas"] += 2  # r08, r10
    expected.loc["seni_budaya", "media"] += 1  # r09
    expected.loc["pemetaan", "pemerintah"] += 1  # r13 in K2; r14 (posko) is outside the taxonomy
    pd.testing.assert_frame_equal(kota, expected)
    assert int(kota.to_numpy().sum()) == 12
    assert int(cov.type_actor_matrix(_records(), taxonomy, Filters(), area=K4).loc["deklarasi", "pemerintah"]) == 1
    assert int(cov.type_actor_matrix(_records(), taxonomy, Y2024, area="31").to_numpy().sum()) == 12


def test_gap_list_order_and_contents(taxonomy):
    gaps = cov.gap_list(_records(), _sites(), _areas(), taxonomy, Y2024, as_of=AS_OF)
    assert list(gaps.columns) == list(cov.GAP_COLUMNS)
    got = [(r.rank, r.gap, r.level, r.code) for r in gaps.itertuples()]
    assert got == [
        (1, "not_reached", "site", S4),          # siaga, never reached
        (2, "not_reached", "site", S5),          # no IKRN, never
        (3, "not_reached", "site", S3),          # no IKRN, 610 days
        (4, "not_reached", "kelurahan", K4),     # no IKRN, 610 days
        (5, "missing_types", "site", S2),        # waspada, 200 days
        (6, "missing_types", "kelurahan", K3),
        (7, "missing_actors", "site", S1),       # bahaya, 31 days: all types, no media
        (8, "missing_actors", "kelurahan", K1),
    ]
    assert K2 not in gaps["code"].tolist()  # reached but holds no target site: never a gap
    assert gaps.loc[6, "missing_actors"] == "media" and gaps.loc[4, "missing_types"].count(",") == 5
    # ranked by IKRN first: make S3 bahaya and it moves to the top
    sites = _sites()
    sites.loc[sites["id"] == S3, "ikrn"] = "bahaya"
    top = cov.gap_list(_records(), sites, _areas(), taxonomy, Y2024, levels=("site",), as_of=AS_OF)
    assert top["code"].tolist()[:3] == [S3, S4, S5]
    # rank_gaps over tables already computed gives the same list
    tables = cov.coverage_tables(_records(), _sites(), _areas(), taxonomy, Y2024,
                                 levels=("site", "kelurahan"), as_of=AS_OF)
    pd.testing.assert_frame_equal(cov.rank_gaps(tables, taxonomy), gaps)


def test_overlaps_same_type_site_and_month_by_several_organisations(taxonomy):
    o = cov.overlaps(_records(), Y2024)
    assert o[["code", "type_key", "period", "organisations", "interventions"]].to_dict("records") == [
        {"code": S1, "type_key": "tim_terpadu", "period": "2024-12", "organisations": 2, "interventions": 2},
        {"code": S2, "type_key": "seni_budaya", "period": "2024-07", "organisations": 2, "interventions": 2},
    ]
    assert o["record_ids"].tolist() == [("r07", "r15"), ("r09", "r10")]
    assert o["organisation_names"].tolist() == [("BNNK Jakarta Barat", "BNNP DKI"), ("Kompas", "Sanggar Betawi")]
    assert (o.loc[0, "period_start"], o.loc[0, "period_end"]) == (D(2024, 12, 1), D(2024, 12, 31))
    # one organisation twice (r08 and r10 by Sanggar Betawi) is not an overlap; by quarter, r08 (Q1) and
    # r09/r10 (Q3) stay apart
    q = cov.overlaps(_records(), Y2024, freq="Q")
    assert q[["code", "period"]].to_dict("records") == [{"code": S1, "period": "2024Q4"},
                                                         {"code": S2, "period": "2024Q3"}]
    # by kelurahan, records at no site join in: K2 has two different types, so still nothing there
    assert cov.overlaps(_records(), Y2024, by="kelurahan")["code"].tolist() == [K1, K3]
    assert cov.overlaps(_records(), Filters(date_from=D(2025, 6, 1))).empty


def test_timeline_by_type_and_by_actor(taxonomy):
    tl = cov.timeline(_records(), taxonomy, Y2024)
    assert tl.index.tolist() == list(pd.date_range("2024-01-01", periods=12, freq="MS"))
    assert tl.columns.tolist() == [*TYPES7, "posko"]
    assert tl.to_numpy().sum() == 13
    assert tl.loc["2024-01-01", "seni_budaya"] == 1  # r08 counts once, in its first month inside the window
    assert tl.loc["2024-07-01", "seni_budaya"] == 2
    assert tl.loc["2024-11-01", "tim_terpadu"] == 1 and tl.loc["2024-12-01", "tim_terpadu"] == 1
    assert tl.loc["2024-03-01"].to_dict() == {**dict.fromkeys(TYPES7, 0), "diskusi_tokoh": 1, "posko": 1}
    ta = cov.timeline(_records(), taxonomy, Y2024, by="actor")
    assert ta.sum().to_dict() == {"pemerintah": 5, "swasta": 1, "akademisi": 1, "komunitas": 5, "media": 1}
    assert ta.sum(axis=1).tolist() == tl.sum(axis=1).tolist()
    # open window: from the first to the last month with data, no holes
    whole = cov.timeline(_records(), taxonomy, Filters())
    assert (whole.index[0], whole.index[-1], len(whole)) == (pd.Timestamp(2023, 6, 1), pd.Timestamp(2024, 12, 1), 19)
    assert whole.to_numpy().sum() == 14  # r12 is deleted


def test_ikrn_shares_and_bahaya_share(taxonomy):
    shares = cov.ikrn_shares(_records(), _sites(), taxonomy, Y2024)
    assert shares["ikrn"].tolist() == ["bahaya", "waspada", "siaga", "aman", "unknown", "no_target"]
    assert shares["interventions"].tolist() == [8, 3, 0, 0, 0, 2]
    assert shares["target_sites"].tolist() == [2, 2, 0, 0, 1, 0]  # K1 is bahaya (worst of bahaya, siaga)
    b = cov.bahaya_share(_records(), _sites(), taxonomy, Y2024)
    assert b == {"ikrn": "bahaya", "interventions": 8, "interventions_total": 13, "share_interventions": 8 / 13,
                 "target_sites": 2, "target_sites_total": 5, "share_targets": 2 / 5, "ratio": (8 / 13) / (2 / 5)}
    assert np.isnan(shares.loc[2, "ratio"]) and shares.loc[1, "ratio"] == (3 / 13) / (2 / 5)
    none = cov.bahaya_share(_records(), _sites(), taxonomy, Filters(date_from=D(2030, 1, 1)))
    assert none["interventions_total"] == 0 and np.isnan(none["share_interventions"])


# -- the CLI (store replaced by a fake with the Store contract's list / list_sites / close) ---------------------
class _FakeStore:
    def __init__(self):
        self.asked = None
        self.closed = False

    def list(self, filters=None, *, include_deleted=False):
        self.asked = filters
        return _records()

    def list_sites(self):
        return _sites()

    def close(self):
        self.closed = True


@pytest.fixture
def fake_store(monkeypatch, taxonomy):
    store = _FakeStore()
    opened = []
    monkeypatch.setattr(cli_coverage, "_open_store", lambda url: opened.append(url) or store)
    monkeypatch.setattr(cli_coverage, "_load_areas", _areas)
    monkeypatch.setattr(cli_coverage, "_load_taxonomy", lambda: taxonomy)
    store.opened = opened
    return store


def test_cli_coverage_json(fake_store, capsys):
    rc = cli.main(["coverage", "--level", "kelurahan", "--from", "2024-01-01", "--to", "31/12/2024",
                   "--as-of", "2025-01-31", "--format", "json", "--store", "x.gpkg"])
    assert rc == 0
    assert fake_store.opened == ["x.gpkg"] and fake_store.closed
    assert fake_store.asked == Filters(date_to=D(2024, 12, 31))
    rows = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in rows] == [K4, K1, K2, K3]
    k1 = rows[1]
    assert list(k1) == list(cov.COLUMNS)
    assert {k: k1[k] for k in ("level", "interventions", "participants", "organisations", "types_done",
                                "types_total", "actors_done", "actors_total", "reached", "covered",
                                "last_date", "days_since_last", "pct_sites_reached")} == {
        "level": "kelurahan", "interventions": 8, "participants": 425, "organisations": 5, "types_done": 7,
        "types_total": 7, "actors_done": 4, "actors_total": 5, "reached": True, "covered": True,
        "last_date": "2024-12-31", "days_since_last": 31, "pct_sites_reached": 50.0}
    k2 = rows[2]
    assert (k2["pct_sites_reached"], k2["target_sites"], k2["ikrn"]) == (None, 0, None)


def test_cli_coverage_csv_and_gaps(fake_store, capsys):
    assert cli.main(["coverage", "--level", "province", "--from", "2024-01-01", "--to", "2024-12-31",
                     "--as-of", "2025-01-31"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",") == list(cov.COLUMNS)
    assert lines[1].startswith("province,31,Daerah Khusus Ibukota Jakarta,,,,bahaya,True,13,570,9,9,7,7,5,5,")
    assert ",2024-12-31,31,5,2,1,40.0,20.0" in lines[1]
    assert cli.main(["gaps", "--level", "site", "--from", "2024-01-01", "--to", "2024-12-31",
                     "--as-of", "2025-01-31", "--format", "json"]) == 0
    gaps = json.loads(capsys.readouterr().out)
    assert [(g["rank"], g["code"], g["gap"]) for g in gaps] == [
        (1, S4, "not_reached"), (2, S5, "not_reached"), (3, S3, "not_reached"), (4, S2, "missing_types"),
        (5, S1, "missing_actors")]
    assert gaps[2]["last_date"] == "2023-06-01" and gaps[0]["last_date"] is None


def test_cli_reports_a_bad_level(fake_store, capsys):
    assert cli.main(["gaps", "--level", "rw"]) == 2
    assert "level must be one of" in capsys.readouterr().err
