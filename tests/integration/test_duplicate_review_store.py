"""Issue 13, duplicates reviewed: decisions stored on both backends, audited, reversible, kept across a reopen,
and a confirmed duplicate left out of the coverage figures (exact rows) until it is unmarked."""

from __future__ import annotations

import json
import sqlite3

import pytest

from geo_p4gn import NotFoundError, PermissionDenied, ValidationError, cli, services
from geo_p4gn.identity import User
from geo_p4gn.records import validate_record
from geo_p4gn.store import open_store

KEDAUNG = (106.75857601542747, -6.152569496052011)  # 31.73.01.1004
K1 = "31.73.01.1004"
COLS = ["code", "interventions", "participants", "organisations", "types_done", "actors_done", "status"]
MANAGER, PLANNER, FIELD = User("pim", "pimpinan"), User("ren", "perencana"), User("ani", "petugas")


def _make(taxonomy, day, type_key, actor, org, n):
    return validate_record({"date": day, "type": type_key, "actor": actor, "organisation": org, "lon": KEDAUNG[0],
                            "lat": KEDAUNG[1], "participants": n}, taxonomy=taxonomy)


def _records(taxonomy):
    return [_make(taxonomy, "2024-08-17", "deklarasi", "pemerintah", "BNNK Jakarta Barat", 40),
            _make(taxonomy, "2024-08-18", "deklarasi", "komunitas", "BNNK Jakbar", 35),  # the same event again
            _make(taxonomy, "2024-09-02", "seni_budaya", "pemerintah", "Karang Taruna", 20)]


def _k1(store, user=PLANNER):
    t = services.coverage_table(store, user, "kelurahan")
    return t.loc[t["code"] == K1, COLS].values.tolist()


BEFORE = [[K1, 3, 95, 3, 2, 2, "reached"]]
MARKED = [[K1, 2, 60, 2, 2, 1, "reached"]]  # r2 (BNNK Jakbar, komunitas, 35) no longer counts


def test_mark_persist_audit_unmark(store_url, boundaries, taxonomy):
    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        r1, r2, r3 = _records(taxonomy)
        store.add_many([r1, r2, r3], user="imp")
        pairs = services.review_list(store, MANAGER)
        assert pairs[["record_a", "record_b", "decision", "duplicate_id"]].values.tolist() == [
            [min(r1.id, r2.id), max(r1.id, r2.id), "pending", None]]
        assert _k1(store) == BEFORE
        for who in (PLANNER, FIELD):
            with pytest.raises(PermissionDenied):
                services.mark_duplicate(store, who, r2.id, r1.id)
        version = store.data_version()
        assert services.mark_duplicate(store, MANAGER, r2.id, r1.id) == "created"
        assert store.data_version() != version  # the app's caches are dropped
        assert services.mark_duplicate(store, MANAGER, r2.id, r1.id) == "unchanged"
        assert _k1(store) == MARKED
        pairs = services.review_list(store, MANAGER)
        assert pairs[["decision", "duplicate_id"]].values.tolist() == [["duplicate", r2.id]]
        # no chains: the kept record may not be a duplicate, a duplicate may not be kept for another
        with pytest.raises(ValidationError, match="itself marked as a duplicate"):
            services.mark_duplicate(store, MANAGER, r3.id, r2.id)
        with pytest.raises(ValidationError, match="kept as the original"):
            services.mark_duplicate(store, MANAGER, r1.id, r3.id)
        with pytest.raises(NotFoundError):
            services.mark_duplicate(store, MANAGER, r3.id, "00000000-0000-4000-8000-000000000000")

    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:  # reopened: kept
        assert store.confirmed_duplicates() == {r2.id}
        assert _k1(store) == MARKED
        d = services.duplicate_decisions(store, MANAGER)
        assert d[["record_id", "other_id", "decision", "decided_by"]].values.tolist() == [
            [r2.id, r1.id, "duplicate", "pim"]]
        log = store.audit_log(entity="duplicate")
        assert log[["entity_id", "action", "who"]].values.tolist() == [[f"{r2.id}/{r1.id}", "mark_duplicate", "pim"]]
        assert json.loads(log["after"].iloc[0])["decision"] == "duplicate"

        assert services.unmark_duplicate(store, MANAGER, r2.id) == 1
        assert _k1(store) == BEFORE  # unmark restores every figure
        with pytest.raises(NotFoundError, match="nothing to unmark"):
            services.unmark_duplicate(store, MANAGER, r2.id)
        assert services.keep_both(store, MANAGER, r2.id, r1.id) == "created"
        assert _k1(store) == BEFORE
        assert services.review_list(store, MANAGER)["decision"].tolist() == ["distinct"]
        # a keep-both replaced by a mark (audited as one decision with what it replaced)
        assert services.mark_duplicate(store, MANAGER, r1.id, r2.id) == "updated"
        assert store.confirmed_duplicates() == {r1.id}

    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        log = store.audit_log(entity="duplicate")
        a, b = sorted((r1.id, r2.id))
        assert log[["entity_id", "action"]].values.tolist() == [
            [f"{r2.id}/{r1.id}", "mark_duplicate"], [f"{r2.id}/{r1.id}", "unmark"], [f"{a}/{b}", "keep_both"],
            [f"{r1.id}/{r2.id}", "mark_duplicate"]]
        assert json.loads(log["before"].iloc[3])["decision"] == "distinct"
        assert services.unmark_duplicate(store, MANAGER, r1.id, r2.id) == 1
        assert store.duplicate_reviews().empty
        assert _k1(store) == BEFORE


def test_exports_and_gaps_leave_the_duplicate_out(tmp_path, boundaries, taxonomy):
    with open_store(str(tmp_path / "s.gpkg"), boundaries=boundaries, taxonomy=taxonomy) as store:
        r1, r2, r3 = _records(taxonomy)
        store.add_many([r1, r2, r3], user="imp")
        services.mark_duplicate(store, MANAGER, r2.id, r1.id)
        page = services.export_html(store, PLANNER, None, lang="en")
        assert "Computed from 2 intervention records" in page
        services.unmark_duplicate(store, MANAGER, r2.id)
        assert "Computed from 3 intervention records" in services.export_html(store, PLANNER, None, lang="en")


def test_a_store_made_before_the_table_gets_it_at_open(tmp_path, boundaries, taxonomy):
    path = tmp_path / "old.gpkg"
    with open_store(str(path), boundaries=boundaries, taxonomy=taxonomy) as store:
        r1, r2, _ = _records(taxonomy)
        store.add_many([r1, r2], user="imp")
    conn = sqlite3.connect(path)  # as a store of the first schema: no duplicate_reviews
    conn.execute("DROP TABLE duplicate_reviews")
    conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'duplicate_reviews'")
    conn.commit()
    conn.close()
    with open_store(str(path), boundaries=boundaries, taxonomy=taxonomy) as store:
        assert store.duplicate_reviews().empty
        assert services.mark_duplicate(store, MANAGER, r2.id, r1.id) == "created"
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'duplicate_reviews'").fetchone() == (
        "attributes",)
    conn.close()


def test_a_postgis_store_made_before_the_table_gets_it_at_open(pg_url, boundaries, taxonomy):
    import psycopg

    from .conftest import pg_schema_url

    url = pg_schema_url(pg_url)
    with open_store(url, boundaries=boundaries, taxonomy=taxonomy) as store:
        r1, r2, _ = _records(taxonomy)
        store.add_many([r1, r2], user="imp")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE duplicate_reviews")
    with open_store(url, boundaries=boundaries, taxonomy=taxonomy) as store:
        assert services.mark_duplicate(store, MANAGER, r2.id, r1.id) == "created"
        assert store.confirmed_duplicates() == {r2.id}


def test_cli_mark_decisions_unmark(tmp_path, boundaries, taxonomy, capsys):
    path = str(tmp_path / "s.gpkg")
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        r1, r2, _ = _records(taxonomy)
        store.add_many([r1, r2], user="imp")
    assert cli.main(["duplicates", "mark", r2.id, "--of", r1.id, "--store", path]) == 0
    assert "counts in no coverage figure" in capsys.readouterr().out
    assert cli.main(["duplicates", "decisions", "--format", "json", "--store", path]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["record_id"], r["other_id"], r["decision"]) for r in rows] == [(r2.id, r1.id, "duplicate")]
    assert cli.main(["duplicates", "--format", "json", "--store", path]) == 0
    assert [(p["decision"], p["duplicate_id"]) for p in json.loads(capsys.readouterr().out)] == [("duplicate", r2.id)]
    assert cli.main(["coverage", "--level", "kelurahan", "--kelurahan", K1, "--format", "json", "--store", path]) == 0
    assert json.loads(capsys.readouterr().out)[0]["interventions"] == 1
    assert cli.main(["duplicates", "mark", r1.id, "--of", r1.id, "--store", path]) == 2
    assert cli.main(["duplicates", "unmark", r2.id, "--store", path]) == 0
    capsys.readouterr()
    assert cli.main(["coverage", "--level", "kelurahan", "--kelurahan", K1, "--format", "json", "--store", path]) == 0
    assert json.loads(capsys.readouterr().out)[0]["interventions"] == 2
