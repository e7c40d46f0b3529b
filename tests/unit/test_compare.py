"""Issue 13, periods compared: reached in both, newly reached, no longer reached, types and actors changed."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geo_p4gn._errors import P4gnError
from geo_p4gn.compare import COLUMNS, compare_periods, period
from geo_p4gn.filters import Filters
from geo_p4gn.records import FIELDS
from geo_p4gn.taxonomy import Taxonomy, Term

D = dt.date
K1, K2, K3, K4 = "31.73.01.1004", "31.73.01.1005", "31.73.07.1006", "31.72.02.1001"


def _taxonomy() -> Taxonomy:
    def terms(*keys):
        return tuple(Term(k, k.title(), k.title()) for k in keys)

    return Taxonomy(year=2024, types=terms("deklarasi", "seni_budaya", "pemetaan"),
                    actors=terms("pemerintah", "komunitas"), ikrn=(Term("bahaya", "Bahaya", "Danger", rank=1),))


def _areas() -> pd.DataFrame:
    rows = [(K1, "Kedaung Kali Angke", "31.73.01", "Cengkareng", "31.73", "Jakarta Barat"),
            (K2, "Kapuk", "31.73.01", "Cengkareng", "31.73", "Jakarta Barat"),
            (K3, "Kota Bambu Selatan", "31.73.07", "Pal Merah", "31.73", "Jakarta Barat"),
            (K4, "Tanjung Priok", "31.72.02", "Tanjung Priok", "31.72", "Jakarta Utara")]
    return pd.DataFrame(rows, columns=["code", "name", "kecamatan_code", "kecamatan_name", "kota_code", "kota_name"])


def _sites() -> pd.DataFrame:
    return pd.DataFrame({"id": ["kampung-ambon", "kampung-boncos"], "name": ["Kampung Ambon", "Kampung Boncos"],
                         "kelurahan_code": [K1, K3], "ikrn": ["bahaya", None]})


def _records() -> pd.DataFrame:
    def rec(rid, kel, day, type_key, actor, org="Karang Taruna", site=None, end=None):
        return {"id": rid, "date": day, "end_date": end, "type_key": type_key, "actor_key": actor,
                "organisation": org, "site_id": site, "kelurahan_code": kel, "participants": 10, "notes": "",
                "created_by": "t", "created_at": "2025-01-01T00:00:00Z", "updated_by": None, "updated_at": None,
                "deleted": False, "version": 1, "geometry": None}

    rows = [
        rec("a1", K1, D(2024, 3, 1), "deklarasi", "komunitas", site="kampung-ambon"),   # K1 in both
        rec("a2", K1, D(2024, 4, 1), "seni_budaya", "komunitas", site="kampung-ambon"),
        rec("b1", K1, D(2025, 5, 1), "deklarasi", "pemerintah", org="BNNK", site="kampung-ambon"),
        rec("a3", K3, D(2024, 6, 1), "pemetaan", "pemerintah", site="kampung-boncos"),  # K3 lost
        rec("b2", K4, D(2025, 2, 1), "deklarasi", "komunitas"),                          # K4 new
        rec("x1", K2, D(2024, 12, 30), "pemetaan", "komunitas", end=D(2025, 1, 2)),      # K2 spans both
    ]
    return pd.DataFrame(rows, columns=list(FIELDS))


def _table(level, filters=None):
    t = compare_periods(_records(), _sites(), _areas(), _taxonomy(), period("2024"), period("2025"), filters,
                        level=level)
    assert tuple(t.columns) == COLUMNS
    return t


def test_per_kelurahan():
    t = _table("kelurahan")
    cols = ["code", "change", "interventions_a", "interventions_b", "interventions_change", "types_a", "types_b",
            "types_gained", "types_lost", "actors_a", "actors_b", "actors_gained", "actors_lost"]
    assert t[cols].values.tolist() == [
        [K4, "new", 0, 1, 1, 0, 1, "deklarasi", "", 0, 1, "komunitas", ""],
        [K1, "both", 2, 1, -1, 2, 1, "", "seni_budaya", 1, 1, "pemerintah", "komunitas"],
        [K2, "both", 1, 1, 0, 1, 1, "", "", 1, 1, "", ""],
        [K3, "lost", 1, 0, -1, 1, 0, "", "pemetaan", 1, 0, "", "pemerintah"],
    ]
    assert t["organisations_a"].tolist() == [0, 1, 1, 1] and t["organisations_b"].tolist() == [1, 1, 1, 0]


def test_per_site_and_per_kota():
    t = _table("site")
    assert t[["code", "change", "types_gained", "types_lost", "actors_gained", "actors_lost", "target"]
             ].values.tolist() == [
        ["kampung-ambon", "both", "", "seni_budaya", "pemerintah", "komunitas", True],
        ["kampung-boncos", "lost", "", "pemetaan", "", "pemerintah", True],
    ]
    k = _table("kota")
    assert k[["code", "change", "interventions_a", "interventions_b"]].values.tolist() == [
        ["31.72", "new", 0, 1], ["31.73", "both", 4, 2]]


def test_the_other_filters_apply_to_both_periods():
    t = _table("kelurahan", Filters(kota=("31.73",), types=("deklarasi",)))
    assert t[["code", "change", "interventions_a", "interventions_b", "types_a", "types_b"]].values.tolist() == [
        [K1, "both", 1, 1, 1, 1], [K2, "neither", 0, 0, 0, 0], [K3, "neither", 0, 0, 0, 0]]


def test_periods():
    assert period("2024") == (D(2024, 1, 1), D(2024, 12, 31))
    assert period("01/07/2024..2024-12-31") == (D(2024, 7, 1), D(2024, 12, 31))
    for bad in ("2024-01-01", "2024-12-31..2024-01-01", "x..y"):
        with pytest.raises(P4gnError):
            period(bad)
