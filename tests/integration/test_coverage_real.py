"""Coverage on the real boundaries (267 kelurahan) and the seed sites: assignment feeds coverage once."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import shapely

from geo_p4gn import cli
from geo_p4gn import coverage as cov
from geo_p4gn.cli import coverage as cli_coverage
from geo_p4gn.filters import Filters
from geo_p4gn.records import FIELDS
from geo_p4gn.sites import seed_sites

KEDAUNG, KAPUK = "31.73.01.1004", "31.73.01.1005"
WINDOW = Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31))
AS_OF = dt.date(2025, 1, 31)


def _records(lon, lat, boundaries, **extra) -> pd.DataFrame:
    """Records at the given points, their kelurahan assigned in bulk as the store does."""
    n = len(lon)
    assigned = boundaries.assign(lon, lat)
    assert assigned["kelurahan_code"].notna().all()
    base = {"id": [f"r{i}" for i in range(n)], "date": [dt.date(2024, 8, 17)] * n, "end_date": [None] * n,
            "type_key": ["seni_budaya"] * n, "actor_key": ["komunitas"] * n,
            "organisation": ["Karang Taruna"] * n, "site_id": [None] * n,
            "kelurahan_code": assigned["kelurahan_code"].tolist(), "participants": [40] * n, "notes": [""] * n,
            "created_by": ["t"] * n, "created_at": ["2024-08-17T00:00:00Z"] * n, "updated_by": [None] * n,
            "updated_at": [None] * n, "deleted": [False] * n, "version": [1] * n,
            "geometry": shapely.points(lon, lat)}
    base.update(extra)
    return pd.DataFrame(base, columns=list(FIELDS))


def _shared_edge_point(boundaries):
    kel = boundaries.kelurahan.set_index("code")
    shared = shapely.intersection(kel.loc[KEDAUNG, "geometry"].boundary, kel.loc[KAPUK, "geometry"].boundary)
    assert not shared.is_empty
    line = shapely.line_merge(shared) if shared.geom_type != "Point" else shared
    return shapely.line_interpolate_point(line, 0.5, normalized=True) if line.geom_type != "Point" else line


def test_intervention_on_a_shared_boundary_counts_once_in_one_kelurahan(boundaries, taxonomy):
    p = _shared_edge_point(boundaries)
    recs = _records([p.x], [p.y], boundaries)
    code = recs.loc[0, "kelurahan_code"]
    assert code in (KEDAUNG, KAPUK)
    tables = cov.coverage_tables(recs, None, boundaries.kelurahan, taxonomy, WINDOW, as_of=AS_OF)
    kel = tables["kelurahan"].set_index("code")
    assert len(kel) == 267 and len(tables["kecamatan"]) == 44 and len(tables["kota"]) == 6
    assert kel["interventions"].sum() == 1
    assert kel.loc[code, "interventions"] == 1
    assert kel.loc[({KEDAUNG, KAPUK} - {code}).pop(), "interventions"] == 0
    assert tables["kecamatan"].set_index("code").loc["31.73.01", "interventions"] == 1
    assert tables["kecamatan"]["interventions"].sum() == 1
    assert tables["kota"].set_index("code").loc["31.73", "interventions"] == 1
    prov = tables["province"].iloc[0]
    assert (prov["interventions"], prov["participants"], prov["organisations"]) == (1, 40, 1)
    assert set(kel["status"]) == {"reached", "no_target"}  # no sites: nothing is a gap
    assert cov.gap_list(recs, None, boundaries.kelurahan, taxonomy, WINDOW).empty


def test_seed_sites_are_the_targets_and_the_rest_are_not_gaps(boundaries, taxonomy):
    sites = seed_sites(boundaries, taxonomy)
    assert len(sites) == 6
    ambon = sites.set_index("id").loc["kampung-ambon", "geometry"]
    recs = _records([ambon.x], [ambon.y], boundaries, site_id=["kampung-ambon"])
    assert recs.loc[0, "kelurahan_code"] == KEDAUNG
    tables = cov.coverage_tables(recs, sites, boundaries, taxonomy, WINDOW, as_of=AS_OF)
    site = tables["site"].set_index("code")
    assert site["status"].to_dict() == {
        "kampung-ambon": "reached", "kampung-bahari": "not_reached", "kampung-bali": "not_reached",
        "kampung-berlan": "not_reached", "kampung-boncos": "not_reached", "rusun-tanah-tinggi": "not_reached"}
    assert site.loc["kampung-ambon", "days_since_last"] == (AS_OF - dt.date(2024, 8, 17)).days
    kel = tables["kelurahan"].set_index("code")
    assert int(kel["target"].sum()) == 6 and int(kel["target_sites"].sum()) == 6
    assert (kel["status"] == "no_target").sum() == 261
    assert kel.loc[~kel["target"], "pct_sites_reached"].isna().all()
    assert kel.loc[KEDAUNG, ["target_sites", "sites_reached", "pct_sites_reached"]].tolist() == [1, 1, 100.0]
    assert kel.loc["31.73.07.1006", "ikrn"] == "bahaya" and pd.isna(kel.loc[KEDAUNG, "ikrn"])
    kota = tables["kota"].set_index("code")
    assert kota["target_sites"].to_dict() == {"31.01": 0, "31.71": 2, "31.72": 1, "31.73": 2, "31.74": 0,
                                              "31.75": 1}
    assert np.isnan(kota.loc["31.01", "pct_sites_reached"]) and kota.loc["31.73", "pct_sites_reached"] == 50.0
    gaps = cov.gap_list(recs, sites, boundaries.kelurahan, taxonomy, WINDOW, levels=("kelurahan",), as_of=AS_OF)
    # the two Bahaya kelurahan first (never reached), then the three of unknown IKRN, then Kedaung (1 of 7 types)
    assert gaps["code"].tolist() == ["31.71.08.1004", "31.73.07.1006", "31.71.07.1007", "31.72.02.1001",
                                     "31.75.01.1005", KEDAUNG]
    assert gaps["gap"].tolist() == ["not_reached"] * 5 + ["missing_types"]
    share = cov.bahaya_share(recs, sites, taxonomy, WINDOW)
    assert (share["target_sites"], share["target_sites_total"], share["interventions"]) == (2, 6, 0)


class _Store:
    def __init__(self, records, sites):
        self.records, self.sites = records, sites

    def list(self, filters=None, *, include_deleted=False):
        return self.records

    def list_sites(self):
        return self.sites

    def close(self):
        pass


@pytest.mark.parametrize(("level", "rows"), [("kota", 6), ("kecamatan", 44)])
def test_cli_on_the_real_boundaries(boundaries, taxonomy, monkeypatch, capsys, level, rows):
    sites = seed_sites(boundaries, taxonomy)
    ambon = sites.set_index("id").loc["kampung-ambon", "geometry"]
    store = _Store(_records([ambon.x], [ambon.y], boundaries, site_id=["kampung-ambon"]), sites)
    monkeypatch.setattr(cli_coverage, "_open_store", lambda url: store)
    assert cli.main(["coverage", "--level", level, "--from", "2024-01-01", "--to", "2024-12-31",
                     "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out) == rows
    jakbar = next(r for r in out if r["code"] in ("31.73", "31.73.01"))
    assert (jakbar["interventions"], jakbar["target_sites"], jakbar["sites_reached"]) == (1, 2 if level == "kota" else 1, 1)


def test_cli_through_the_geopackage_store(boundaries, taxonomy, tmp_path, capsys):
    store_mod = pytest.importorskip("geo_p4gn.store")
    from geo_p4gn.records import validate_record

    path = str(tmp_path / "p4gn.gpkg")
    store = store_mod.open_store(path, boundaries=boundaries, taxonomy=taxonomy)
    sites = seed_sites(boundaries, taxonomy)
    for site in sites.to_dict("records"):
        store.upsert_site(site, user="tester")
    ambon = sites.set_index("id").loc["kampung-ambon", "geometry"]
    raw = {"type": "seni_budaya", "actor": "komunitas", "organisation": "Karang Taruna", "lon": ambon.x,
           "lat": ambon.y, "site_id": "kampung-ambon"}
    kept = validate_record(raw | {"date": "2024-08-17", "participants": 40}, taxonomy=taxonomy)
    gone = validate_record(raw | {"date": "2024-09-01", "end_date": "2024-09-03", "type": "deklarasi"},
                           taxonomy=taxonomy)
    store.add_many([kept, gone], user="tester")
    store.delete(gone.id, user="tester")
    everything = store.list(include_deleted=True)
    store.close()
    # even handed the soft-deleted row, coverage does not count it
    t = cov.coverage_table(everything, sites, boundaries.kelurahan, taxonomy, "site", WINDOW, as_of=AS_OF)
    assert t.set_index("code").loc["kampung-ambon", ["interventions", "types_done"]].tolist() == [1, 1]

    assert cli.main(["coverage", "--level", "site", "--store", path, "--from", "2024-01-01", "--to",
                     "2024-12-31", "--as-of", "2025-01-31", "--format", "json"]) == 0
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert len(rows) == 6
    ambon_row = rows["kampung-ambon"]
    assert (ambon_row["interventions"], ambon_row["participants"], ambon_row["kelurahan_code"],
            ambon_row["last_date"], ambon_row["days_since_last"], ambon_row["status"]) == (
        1, 40, KEDAUNG, "2024-08-17", 167, "reached")
    assert cli.main(["gaps", "--level", "kota", "--store", path, "--from", "2024-01-01", "--to", "2024-12-31",
                     "--as-of", "2025-01-31"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(",")[:4] for ln in lines[1:]] == [
        ["1", "not_reached", "kota", "31.71"], ["2", "not_reached", "kota", "31.72"],
        ["3", "not_reached", "kota", "31.75"], ["4", "missing_types", "kota", "31.73"]]
