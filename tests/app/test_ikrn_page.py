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
    assert list(hist.columns)[:2] == ["Kode", "Kelurahan"]
    row = hist[hist["Kode"] == "31.72.02.1001"].iloc[0]
    assert (row["2024"], row["2025"]) == ("Aman", "-")  # Tanjung Priok: not surveyed in 2025, not Aman
    ba = at.dataframe[1].value
    assert list(ba.columns) == ["Kode", "Kelurahan", "IKRN 2024", "IKRN 2025", "Perubahan", "Intervensi",
                                "Jumlah jenis", "Jenis", "Jumlah aktor", "Aktor", "Organisasi"]
    assert ba[["Kode", "IKRN 2024", "IKRN 2025", "Perubahan"]].values.tolist() == [
        ["31.73.01.1004", "Bahaya", "Waspada", "membaik"], ["31.73.07.1006", "Siaga", "Bahaya", "memburuk"]]
    assert ba["Jenis"].tolist()[1] == ("Penetapan Kelurahan Bersinar (Bersih Narkoba), "
                                       "Deklarasi masyarakat anti narkoba")  # labels, not taxonomy keys
    assert "IKRN: nilai tahun 2024 (3 kelurahan" in texts(at)
