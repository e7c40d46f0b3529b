"""Tinjau duplikat: the flagged pairs with buttons; a mark leaves the duplicate out of the coverage count, undo
brings it back (single-user mode: an admin)."""

from __future__ import annotations

import datetime as dt

from geo_p4gn import services
from geo_p4gn.identity import SINGLE_USER
from geo_p4gn.records import validate_record
from tests.app.conftest import open_app, texts

KEDAUNG = (106.75857601542747, -6.152569496052011)


def test_mark_and_undo_from_the_page(app_env, store, taxonomy):
    day = dt.date.today() - dt.timedelta(days=10)
    recs = [validate_record({"date": (day + dt.timedelta(days=i)).isoformat(), "type": "deklarasi",
                             "actor": "pemerintah", "organisation": org, "lon": KEDAUNG[0], "lat": KEDAUNG[1]},
                            taxonomy=taxonomy) for i, org in enumerate(("BNNK Jakarta Barat", "BNNK Jakbar"))]
    store.add_many(recs, user="imp")
    a, b = sorted(r.id for r in recs)
    at = open_app("duplikat")
    shown = texts(at)
    assert "Kemungkinan laporan ganda" in shown and "1 pasangan, 1 belum ditinjau" in shown
    assert a in shown and b in shown
    n = len(services.coverage_records(store, SINGLE_USER))
    next(x for x in at.button if x.label == "B duplikat dari A").click().run()
    assert not at.exception
    assert store.confirmed_duplicates() == {b}
    assert len(services.coverage_records(store, SINGLE_USER)) == n - 1
    assert "Ditandai sebagai duplikat" in texts(at) and "Duplikat: B (tidak dihitung)" in texts(at)
    next(x for x in at.button if x.label == "Batalkan keputusan").click().run()
    assert store.confirmed_duplicates() == frozenset()
    assert len(services.coverage_records(store, SINGLE_USER)) == n
    assert list(store.audit_log(entity="duplicate")["action"]) == ["mark_duplicate", "unmark"]
