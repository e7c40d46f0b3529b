"""Issue 13, IKRN history: reading BNN's yearly grades (made-up test data), not surveyed kept apart from Aman,
the grade of year Y used for a window in Y, and the before/after table (exact tables)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from geo_p4gn import coverage, ikrn
from geo_p4gn._errors import ValidationError
from geo_p4gn.filters import Filters
from geo_p4gn.records import FIELDS
from geo_p4gn.taxonomy import Taxonomy, Term

D = dt.date
K1, K2, K3, K4 = "31.73.01.1004", "31.73.01.1005", "31.73.07.1006", "31.72.02.1001"
MADE_UP = Path(__file__).resolve().parents[1] / "fixtures" / "ikrn" / "test_ikrn_MADE_UP.csv"
Y2024 = Filters(date_from=D(2024, 1, 1), date_to=D(2024, 12, 31))


def _taxonomy() -> Taxonomy:
    def terms(*keys):
        return tuple(Term(k, k.title(), k.title()) for k in keys)

    return Taxonomy(year=2024, types=terms("deklarasi", "seni_budaya"), actors=terms("pemerintah", "komunitas"),
                    ikrn=tuple(Term(k, k.title(), k.title(), rank=i) for i, k in
                               enumerate(("bahaya", "waspada", "siaga", "aman"), 1)))


def _areas() -> pd.DataFrame:
    rows = [(K1, "Kedaung Kali Angke", "31.73.01", "Cengkareng", "31.73", "Jakarta Barat"),
            (K2, "Kapuk", "31.73.01", "Cengkareng", "31.73", "Jakarta Barat"),
            (K3, "Kota Bambu Selatan", "31.73.07", "Pal Merah", "31.73", "Jakarta Barat"),
            (K4, "Tanjung Priok", "31.72.02", "Tanjung Priok", "31.72", "Jakarta Utara")]
    return pd.DataFrame(rows, columns=["code", "name", "kecamatan_code", "kecamatan_name", "kota_code", "kota_name"])


def _sites() -> pd.DataFrame:
    return pd.DataFrame({"id": ["kampung-ambon", "kampung-bahari", "kampung-boncos"],
                         "name": ["Kampung Ambon", "Kampung Bahari", "Kampung Boncos"],
                         "kelurahan_code": [K1, K4, K3], "ikrn": [None, "aman", "bahaya"]})


def _records() -> pd.DataFrame:
    def rec(rid, kel, day, type_key, actor, org, site=None):
        return {"id": rid, "date": day, "end_date": None, "type_key": type_key, "actor_key": actor,
                "organisation": org, "site_id": site, "kelurahan_code": kel, "participants": 10, "notes": "",
                "created_by": "t", "created_at": "2025-01-01T00:00:00Z", "updated_by": None, "updated_at": None,
                "deleted": False, "version": 1, "geometry": None}

    return pd.DataFrame([
        rec("a1", K1, D(2024, 3, 1), "deklarasi", "komunitas", "Karang Taruna", "kampung-ambon"),
        rec("a2", K1, D(2024, 7, 1), "seni_budaya", "pemerintah", "BNNK", "kampung-ambon"),
        rec("a3", K1, D(2025, 2, 1), "deklarasi", "pemerintah", "BNNK", "kampung-ambon"),  # 2025: not in 2024
        rec("a4", K4, D(2024, 5, 1), "deklarasi", "komunitas", "Karang Taruna"),
        rec("a5", K3, D(2024, 6, 1), "deklarasi", "komunitas", "Karang Taruna", "kampung-boncos"),
    ], columns=list(FIELDS))


def _grades() -> pd.DataFrame:
    return ikrn.read_grades(MADE_UP, areas=_areas(), taxonomy=_taxonomy())


def test_the_made_up_file_is_marked_as_test_data():
    head = MADE_UP.read_text(encoding="utf-8").splitlines()[:2]
    assert "TEST DATA, MADE UP" in head[0] and "NOT BNN's IKRN results" in head[0]


def test_reading_codes_names_and_labels():
    g = _grades()
    assert tuple(g.columns) == ikrn.GRADE_FIELDS
    assert g.values.tolist() == [
        [2024, K1, "bahaya", "TEST-LETTER-001 (made up)"],
        [2025, K1, "waspada", "TEST-LETTER-002 (made up)"],  # by name
        [2024, K3, "siaga", "TEST-LETTER-001 (made up)"],  # a name in lower case
        [2025, K3, "bahaya", "TEST-LETTER-002 (made up)"],
        [2024, K4, "aman", "TEST-LETTER-003 (made up)"],
    ]


def test_errors_name_the_row_and_the_field(tmp_path):
    bad = tmp_path / "salah.csv"
    bad.write_text("tahun;kelurahan;kategori;sumber\n2024;Kedaung Kali Angke;Bahaya;x\n20x4;Kapuk;Aman;x\n"
                   "2024;Atlantis;Aman;x\n2024;Kapuk;Tidak disurvei;x\n2024;31.73.01.1004;Siaga;x\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        ikrn.read_grades(bad, areas=_areas(), taxonomy=_taxonomy())
    text = str(err.value)
    assert text.startswith("salah.csv: nothing imported: ")
    assert "row 3, tahun: '20x4' is not a year" in text
    assert "row 4, kelurahan: 'Atlantis' is no kelurahan code or name" in text
    assert "row 5, kategori: 'Tidak disurvei' is not an IKRN category" in text
    assert "row 6, kelurahan: '31.73.01.1004' is graded for 2024 on row 2 already" in text
    nohead = tmp_path / "kosong.csv"
    nohead.write_text("tahun,nama\n2024,x\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="no column for kelurahan, category"):
        ikrn.read_grades(nohead, areas=_areas(), taxonomy=_taxonomy())


def test_not_surveyed_is_unknown_never_aman():
    s = ikrn.sites_for_year(_sites(), _grades(), 2025)  # Tanjung Priok has no 2025 grade
    assert s[["id", "ikrn"]].values.tolist() == [["kampung-ambon", "waspada"], ["kampung-bahari", None],
                                                 ["kampung-boncos", "bahaya"]]
    t = coverage.coverage_table(_records(), s, _areas(), _taxonomy(), "site",
                                Filters(date_from=D(2025, 1, 1), date_to=D(2025, 12, 31)), as_of=D(2026, 1, 1))
    t = t.astype(object).where(t.notna(), None)
    assert t[["code", "ikrn"]].values.tolist() == [["kampung-ambon", "waspada"], ["kampung-bahari", None],
                                                   ["kampung-boncos", "bahaya"]]


def test_the_grade_of_the_window_year_drives_the_ikrn_filter_and_the_bahaya_share():
    g = _grades()
    assert ikrn.basis(g, Y2024) == {"year": 2024, "source": "grades", "reason": None, "graded": 3}
    assert ikrn.basis(g, Filters(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)))["reason"] == "no_grades"
    assert ikrn.basis(g, Filters(date_from=D(2024, 6, 1), date_to=D(2025, 5, 31)))["reason"] == "no_window_year"
    graded = ikrn.sites_for_window(_sites(), g, Y2024)
    assert graded["ikrn"].tolist() == ["bahaya", "aman", "siaga"]
    bahaya = Filters(date_from=Y2024.date_from, date_to=Y2024.date_to, ikrn=("bahaya",))
    t = coverage.coverage_table(_records(), graded, _areas(), _taxonomy(), "site", bahaya, as_of=D(2025, 1, 1))
    assert t[["code", "ikrn", "interventions"]].values.tolist() == [["kampung-ambon", "bahaya", 2]]
    share = coverage.bahaya_share(_records(), graded, _taxonomy(), Y2024)
    assert (share["interventions"], share["interventions_total"], share["target_sites"],
            share["target_sites_total"]) == (2, 4, 1, 3)
    # no grades for the window's year: the sites' own categories, as before
    none = ikrn.sites_for_window(_sites(), g, Filters(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31)))
    assert [None if pd.isna(v) else v for v in none["ikrn"]] == [None, "aman", "bahaya"]
    t = coverage.coverage_table(_records(), none, _areas(), _taxonomy(), "site", bahaya, as_of=D(2025, 1, 1))
    assert t[["code", "ikrn", "interventions"]].values.tolist() == [["kampung-boncos", "bahaya", 1]]


def test_history_and_before_after():
    h = ikrn.history(_grades(), _areas(), K1)
    assert tuple(h.columns) == ikrn.HISTORY_COLUMNS
    assert h.values.tolist() == [[K1, "Kedaung Kali Angke", 2024, "bahaya", "TEST-LETTER-001 (made up)"],
                                 [K1, "Kedaung Kali Angke", 2025, "waspada", "TEST-LETTER-002 (made up)"]]
    t = ikrn.before_after(_records(), _grades(), _areas(), _taxonomy(), 2024)
    assert tuple(t.columns) == ikrn.BEFORE_AFTER_COLUMNS
    assert t.values.tolist() == [  # Tanjung Priok: graded in 2024 only, not in the table
        [K1, "Kedaung Kali Angke", "bahaya", "waspada", "better", 2, 2, "deklarasi,seni_budaya", 2,
         "pemerintah,komunitas", 2],
        [K3, "Kota Bambu Selatan", "siaga", "bahaya", "worse", 1, 1, "deklarasi", 1, "komunitas", 1],
    ]
    assert ikrn.before_after(_records(), _grades(), _areas(), _taxonomy(), 2025).empty
