"""Riwayat IKRN: the made-up test grades per kelurahan and year, not surveyed shown as "-", and before/after."""

from __future__ import annotations

from pathlib import Path

from geo_p4gn import services
from geo_p4gn.identity import SINGLE_USER
from tests.app.conftest import open_app, texts

MADE_UP = Path(__file__).resolve().parents[1] / "fixtures" / "ikrn" / "test_ikrn_MADE_UP.csv"


def test_history_and_before_after(app_env, store):
    at = open_app("ikrn")
    assert "Belum ada nilai IKRN yang diimpor" in texts(at)
    services.import_ikrn(store, SINGLE_USER, MADE_UP)
    at = open_app("ikrn")
    hist = at.dataframe[0].value
    row = hist[hist["kelurahan_code"] == "31.72.02.1001"].iloc[0]
    assert (row["2024"], row["2025"]) == ("Aman", "-")  # Tanjung Priok: not surveyed in 2025, not Aman
    ba = at.dataframe[1].value
    assert ba[["kelurahan_code", "grade_before", "grade_after", "change"]].values.tolist() == [
        ["31.73.01.1004", "Bahaya", "Waspada", "membaik"], ["31.73.07.1006", "Siaga", "Bahaya", "memburuk"]]
    assert "IKRN: nilai tahun 2024 (3 kelurahan" in texts(at)
