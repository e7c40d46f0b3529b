"""Issue 13, IKRN history: made-up grades imported into both backends (audited, idempotent), kept across a
reopen, the history and before/after through the CLI, and the window's year grades used by coverage."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from geo_p4gn import PermissionDenied, ValidationError, cli, services
from geo_p4gn.filters import Filters
from geo_p4gn.identity import User
from geo_p4gn.records import validate_record
from geo_p4gn.sites import seed_sites
from geo_p4gn.store import open_store

MADE_UP = Path(__file__).resolve().parents[1] / "fixtures" / "ikrn" / "test_ikrn_MADE_UP.csv"
K1, K3, K4 = "31.73.01.1004", "31.73.07.1006", "31.72.02.1001"
KEDAUNG = (106.75857601542747, -6.152569496052011)
MANAGER, PLANNER = User("pim", "pimpinan"), User("ren", "perencana")


def test_import_is_audited_idempotent_and_kept(store_url, boundaries, taxonomy):
    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        with pytest.raises(PermissionDenied):
            services.import_ikrn(store, PLANNER, MADE_UP)
        assert services.import_ikrn(store, MANAGER, MADE_UP) == {"rows": 5, "created": 5, "updated": 0,
                                                                 "unchanged": 0}
        assert services.import_ikrn(store, MANAGER, MADE_UP) == {"rows": 5, "created": 0, "updated": 0,
                                                                 "unchanged": 5}
    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        g = services.ikrn_grades(store, PLANNER)
        assert g[["year", "kelurahan_code", "category", "imported_by"]].values.tolist() == [
            [2024, K4, "aman", "pim"], [2024, K1, "bahaya", "pim"], [2024, K3, "siaga", "pim"],
            [2025, K1, "waspada", "pim"], [2025, K3, "bahaya", "pim"]]
        log = store.audit_log(entity="ikrn")
        assert sorted(log["entity_id"]) == sorted([f"2024/{K1}", f"2025/{K1}", f"2024/{K3}", f"2025/{K3}",
                                                  f"2024/{K4}"])
        assert set(log["action"]) == {"create"} and set(log["who"]) == {"pim"}
        assert json.loads(log.loc[log["entity_id"] == f"2024/{K1}", "after"].iloc[0])["category"] == "bahaya"
        h = services.ikrn_history(store, PLANNER, "Kedaung Kali Angke")
        assert h[["year", "category"]].values.tolist() == [[2024, "bahaya"], [2025, "waspada"]]


def test_a_changed_grade_is_an_update_and_a_bad_file_imports_nothing(tmp_path, boundaries, taxonomy):
    with open_store(str(tmp_path / "s.gpkg"), boundaries=boundaries, taxonomy=taxonomy) as store:
        services.import_ikrn(store, MANAGER, MADE_UP)
        fix = tmp_path / "koreksi_MADE_UP.csv"
        fix.write_text("# TEST DATA, MADE UP\nyear,kelurahan,category,source\n2024,Tanjung Priok,Siaga,TEST\n",
                       encoding="utf-8")
        assert services.import_ikrn(store, MANAGER, fix) == {"rows": 1, "created": 0, "updated": 1, "unchanged": 0}
        entry = store.audit_log(entity="ikrn").iloc[-1]
        assert (entry["action"], json.loads(entry["before"])["category"], json.loads(entry["after"])["category"]) \
            == ("update", "aman", "siaga")
        bad = tmp_path / "salah.csv"
        bad.write_text("year,kelurahan,category,source\n2024,Kapuk,Bahaya,x\n2024,Kapuk,Sangat bahaya,x\n",
                       encoding="utf-8")
        with pytest.raises(ValidationError, match="row 3, category: 'Sangat bahaya'"):
            services.import_ikrn(store, MANAGER, bad)
        assert len(store.ikrn_grades()) == 5


def test_cli_and_the_window_year(tmp_path, boundaries, taxonomy, capsys):
    path = str(tmp_path / "s.gpkg")
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        for site in seed_sites(boundaries, taxonomy).to_dict("records"):
            store.upsert_site(site, user="seed")
        recs = [validate_record({"date": d, "type": t, "actor": a, "organisation": "Karang Taruna", "lon": KEDAUNG[0],
                                 "lat": KEDAUNG[1], "site_id": "kampung-ambon"}, taxonomy=taxonomy)
                for d, t, a in (("2024-03-01", "deklarasi", "komunitas"), ("2024-07-01", "seni_budaya", "pemerintah"),
                                ("2025-02-01", "deklarasi", "pemerintah"))]
        store.add_many(recs, user="imp")
        own = store.get_site("kampung-ambon")["ikrn"]
    assert cli.main(["ikrn", "import", str(MADE_UP), "--store", path]) == 0
    assert "5 grades read; 5 new, 0 changed, 0 already stored" in capsys.readouterr().out
    assert cli.main(["ikrn", "import", str(MADE_UP), "--store", path]) == 0
    assert "0 new, 0 changed, 5 already stored" in capsys.readouterr().out
    assert cli.main(["ikrn", "history", "--kelurahan", K3, "--format", "json", "--store", path]) == 0
    assert [(r["year"], r["category"]) for r in json.loads(capsys.readouterr().out)] == [(2024, "siaga"),
                                                                                       (2025, "bahaya")]
    assert cli.main(["ikrn", "before-after", "--year", "2024", "--format", "json", "--store", path]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["kelurahan_code"], r["grade_before"], r["grade_after"], r["change"], r["interventions"], r["types"])
            for r in rows] == [(K1, "bahaya", "waspada", "better", 2, "seni_budaya,deklarasi"),  # taxonomy order
                               (K3, "siaga", "bahaya", "worse", 0, "")]

    # a window in 2024: the 2024 grades (Kampung Ambon's kelurahan: Bahaya); in 2026: none, the sites' own
    assert cli.main(["coverage", "--level", "site", "--from", "2024-01-01", "--to", "2024-12-31", "--ikrn", "bahaya",
                     "--format", "json", "--store", path]) == 0
    out = capsys.readouterr()
    assert [(r["code"], r["ikrn"], r["interventions"]) for r in json.loads(out.out)] == [("kampung-ambon", "bahaya", 2)]
    assert "IKRN: the grades of 2024 (3 kelurahan; not graded: unknown)" in out.err
    assert cli.main(["coverage", "--level", "site", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "json",
                     "--store", path]) == 0
    out = capsys.readouterr()
    assert "IKRN: no grades imported for 2026: the sites' own categories are used" in out.err
    assert next(r["ikrn"] for r in json.loads(out.out) if r["code"] == "kampung-ambon") == own
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        sites = services.window_sites(store, PLANNER, Filters(date_from=dt.date(2025, 1, 1),
                                                              date_to=dt.date(2025, 12, 31)))
        by_id = dict(zip(sites["id"], sites["ikrn"], strict=True))
        assert by_id["kampung-ambon"] == "waspada"
        assert by_id["kampung-bahari"] is None  # Tanjung Priok has no 2025 grade: unknown, not Aman
