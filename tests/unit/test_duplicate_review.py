"""Issue 13, duplicates reviewed: a confirmed duplicate is left out of every coverage figure (exact tables),
and the flagged pairs carry the decision taken on them."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo_p4gn import compare, coverage
from geo_p4gn.duplicates import (
    COLUMNS,
    REVIEW_COLUMNS,
    confirmed_ids,
    possible_duplicates,
    with_reviews,
    without_confirmed,
)
from geo_p4gn.filters import Filters
from geo_p4gn.records import FIELDS
from geo_p4gn.taxonomy import Taxonomy, Term

D = dt.date
K1, K2 = "31.73.01.1004", "31.73.01.1005"
COLS = ["code", "interventions", "participants", "organisations", "types_done", "actors_done", "status"]


def _taxonomy() -> Taxonomy:
    def terms(*keys):
        return tuple(Term(k, k.title(), k.title()) for k in keys)

    return Taxonomy(year=2024, types=terms("deklarasi", "seni_budaya"), actors=terms("pemerintah", "komunitas"),
                    ikrn=(Term("bahaya", "Bahaya", "Danger", rank=1),))


def _areas() -> pd.DataFrame:
    rows = [(K1, "Kedaung Kali Angke", "31.73.01", "Cengkareng", "31.73", "Jakarta Barat"),
            (K2, "Kapuk", "31.73.01", "Cengkareng", "31.73", "Jakarta Barat")]
    return pd.DataFrame(rows, columns=["code", "name", "kecamatan_code", "kecamatan_name", "kota_code", "kota_name"])


def _sites() -> pd.DataFrame:
    return pd.DataFrame({"id": ["kampung-ambon"], "name": ["Kampung Ambon"], "kelurahan_code": [K1],
                         "ikrn": ["bahaya"]})


def _records() -> pd.DataFrame:
    def rec(rid, day, type_key, actor, org, n, kel=K1, site="kampung-ambon"):
        return {"id": rid, "date": day, "end_date": None, "type_key": type_key, "actor_key": actor,
                "organisation": org, "site_id": site, "kelurahan_code": kel, "participants": n, "notes": "",
                "created_by": "t", "created_at": "2025-01-01T00:00:00Z", "updated_by": None, "updated_at": None,
                "deleted": False, "version": 1, "geometry": None}

    rows = [
        rec("r1", D(2024, 8, 17), "deklarasi", "pemerintah", "BNNK Jakarta Barat", 40),
        rec("r2", D(2024, 8, 18), "deklarasi", "komunitas", "BNNK Jakbar", 35),  # the same event, reported again
        rec("r3", D(2024, 9, 2), "seni_budaya", "komunitas", "Karang Taruna", 20),
        rec("r4", D(2024, 9, 5), "deklarasi", "pemerintah", "Kelurahan Kapuk", 10, kel=K2, site=None),
    ]
    return pd.DataFrame(rows, columns=list(FIELDS))


def _reviews(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_id", "other_id", "decision", "decided_by", "decided_at"])


F = Filters(date_from=D(2024, 1, 1), date_to=D(2024, 12, 31))


def _table(records, level):
    t = coverage.coverage_table(records, _sites(), _areas(), _taxonomy(), level, F, as_of=D(2025, 1, 1))
    return t[COLS].values.tolist()


def test_the_flagged_pair_and_its_decision():
    pairs = possible_duplicates(_records(), days=3, similarity=0.6)
    assert pairs[["record_a", "record_b"]].values.tolist() == [["r1", "r2"]]
    out = with_reviews(pairs, _reviews())
    assert tuple(out.columns) == COLUMNS + REVIEW_COLUMNS
    assert out[list(REVIEW_COLUMNS)].values.tolist() == [["pending", None]]
    marked = with_reviews(pairs, _reviews(("r2", "r1", "duplicate", "ani", "2025-01-02T00:00:00.000Z")))
    assert marked[list(REVIEW_COLUMNS)].values.tolist() == [["duplicate", "r2"]]
    kept = with_reviews(pairs, _reviews(("r1", "r2", "distinct", "ani", "2025-01-02T00:00:00.000Z")))
    assert kept[list(REVIEW_COLUMNS)].values.tolist() == [["distinct", None]]


def test_a_confirmed_duplicate_counts_in_no_coverage_figure():
    recs = _records()
    reviews = _reviews(("r2", "r1", "duplicate", "ani", "2025-01-02T00:00:00.000Z"),
                       ("r3", "r4", "distinct", "ani", "2025-01-02T00:00:00.000Z"))  # keep both: both count
    assert confirmed_ids(reviews) == {"r2"}
    kept = without_confirmed(recs, confirmed_ids(reviews))
    assert kept["id"].tolist() == ["r1", "r3", "r4"]
    assert without_confirmed(recs, frozenset()) is recs  # nothing confirmed: the same frame, no copy

    assert _table(recs, "site") == [["kampung-ambon", 3, 95, 3, 2, 2, "covered"]]
    assert _table(kept, "site") == [["kampung-ambon", 2, 60, 2, 2, 2, "covered"]]
    assert _table(recs, "kelurahan") == [[K1, 3, 95, 3, 2, 2, "covered"], [K2, 1, 10, 1, 1, 1, "reached"]]
    assert _table(kept, "kelurahan") == [[K1, 2, 60, 2, 2, 2, "covered"], [K2, 1, 10, 1, 1, 1, "reached"]]
    assert _table(kept, "kecamatan") == [["31.73.01", 3, 70, 3, 2, 2, "covered"]]

    m = coverage.type_actor_matrix(kept, _taxonomy(), F, site="kampung-ambon")
    assert m.values.tolist() == [[1, 0], [0, 1]]  # the duplicate's komunitas x deklarasi is gone
    assert coverage.type_actor_matrix(recs, _taxonomy(), F, site="kampung-ambon").values.tolist() == [[1, 1], [0, 1]]

    tl = coverage.timeline(kept, _taxonomy(), F, by="type")
    months = [pd.Timestamp("2024-08-01"), pd.Timestamp("2024-09-01")]
    assert len(tl) == 12 and int(tl.to_numpy().sum()) == 3
    assert tl.loc[months].values.tolist() == [[1, 0], [1, 1]]  # Aug: r1 (not r2); Sep: r4, r3
    assert coverage.timeline(recs, _taxonomy(), F, by="type").loc[months].values.tolist() == [[2, 0], [1, 1]]
    share = coverage.bahaya_share(kept, _sites(), _taxonomy(), F)
    assert (share["interventions"], share["interventions_total"]) == (2, 3)

    c = compare.compare_periods(kept, _sites(), _areas(), _taxonomy(), compare.period("2024"),
                                compare.period("2025"), level="site")
    assert c[["code", "interventions_a", "organisations_a"]].values.tolist() == [["kampung-ambon", 2, 2]]
    gaps = coverage.gap_list(kept, _sites(), _areas(), _taxonomy(), F, as_of=D(2025, 1, 1))
    assert gaps.empty  # covered with the duplicate left out too
