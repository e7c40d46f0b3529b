"""Unggah data: the dry-run preview, the import, the summary and the rejects report; limits apply."""

from __future__ import annotations

import pytest

from geo_p4gn.importers import limits
from tests.app.conftest import open_app, texts

pytestmark = pytest.mark.usefixtures("app_env")

GOOD = "6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e{:02d}"
CSV = (
    "id,date,type,actor,organisation,participants,lat,lon\n"
    f"{GOOD.format(1)},2024-08-17,seni_budaya,komunitas,Karang Taruna RW 07,120,-6.151539,106.760338\n"
    f"{GOOD.format(2)},17/08/2024,deklarasi,Government,BNNP DKI Jakarta,250,-6.108734,106.885901\n"
    f"{GOOD.format(3)},2024-09-01,fgd_peneliti,akademisi,Universitas Indonesia,30,-6.60,106.80\n"  # Bogor
    f"{GOOD.format(4)},2024-09-02,bukan_jenis,akademisi,Universitas Indonesia,30,-6.18,106.80\n"
).encode()


def upload(at, content: bytes = CSV, name: str = "laporan.csv"):
    at.file_uploader(key="unggah_file").set_value((name, content, "text/csv"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_preview_then_import_once(store):
    before = len(store.list())
    at = open_app("unggah")
    upload(at)
    assert "4 baris: 2 akan diterima, 2 ditolak, 0 sudah ada, 0 bentrok" in texts(at)
    assert len(store.list()) == before  # a preview stores nothing
    rejects = next(d.value for d in at.dataframe if "Alasan" in d.value.columns)
    assert rejects["Baris"].tolist() == [4, 5]
    assert "di luar DKI Jakarta" in rejects["Alasan"].iloc[0]  # the reasons in the user's language
    assert any(b.key == "unggah_preview_rejects" for b in at.download_button)

    at.button(key="unggah_go").click()
    at.run()
    assert not at.exception
    assert len(store.list()) == before + 2
    assert "Selesai: 2 disimpan, 2 ditolak" in texts(at)
    assert any(b.key == "unggah_done_rejects" for b in at.download_button)
    assert not any(b.key == "unggah_go" for b in at.button)  # the same file is not imported twice
    at.run()
    assert len(store.list()) == before + 2


def test_a_file_over_the_limits_is_refused(store, monkeypatch):
    monkeypatch.setattr(limits, "max_rows", 2)
    at = open_app("unggah")
    upload(at)
    assert any("limit" in e.value for e in at.error)
    assert not any(b.key == "unggah_go" for b in at.button)


def test_an_unreadable_file_gets_a_message(store):
    at = open_app("unggah")
    upload(at, b"\xff\xfe\x00garbage\x00", "rusak.csv")
    assert at.error and not at.exception


def test_the_upload_widget_has_the_core_limit():
    at = open_app("unggah")
    widget = at.file_uploader(key="unggah_file")
    assert {t.lstrip(".") for t in widget.allowed_type} == {s.lstrip(".") for s in limits.UPLOAD_SUFFIXES}
    assert widget.proto.max_upload_size_mb == limits.max_upload_bytes // 1_000_000 == 50


def test_a_file_without_ids_imported_again_in_a_new_session_adds_nothing(store):
    """Issue 13: 25 -> 28 on a second import of an id-less file; now the preview says the rows are stored."""
    no_ids = b"\n".join(line.split(b",", 1)[1] for line in CSV.splitlines()) + b"\n"
    before = len(store.list())
    at = open_app("unggah")
    upload(at, no_ids)
    at.button(key="unggah_go").click()
    at.run()
    assert len(store.list()) == before + 2
    again = open_app("unggah")  # a new browser session
    upload(again, no_ids)
    assert "4 baris: 0 akan diterima, 2 ditolak, 2 sudah ada, 0 bentrok" in texts(again)
    assert "2 baris sama dengan data yang sudah tersimpan" in texts(again)
    assert not any(b.key == "unggah_go" for b in again.button)
    assert len(store.list()) == before + 2
