"""Issue 13: a file without an id column imported twice adds nothing (ids from content and source), and
the dry run says how many rows match stored records. On both backends."""

from __future__ import annotations

import csv

from geo_p4gn import services
from geo_p4gn.identity import User

ADMIN = User("admin-test", "admin")
ROWS = ("tanggal,jenis,aktor,organisasi,peserta,lintang,bujur\n"
        "2024-08-17,seni_budaya,komunitas,Karang Taruna RW 07,120,-6.151539,106.760338\n"
        "2024-08-17,seni_budaya,komunitas,Karang Taruna RW 07,120,-6.151539,106.760338\n"
        "17/08/2024,deklarasi,pemerintah,BNNP DKI Jakarta,250,-6.108734,106.885901\n"
        "2024-09-02,bukan_jenis,akademisi,Universitas Indonesia,30,-6.18,106.80\n")


def _counts(report) -> tuple:
    return (report.rows, report.accepted, report.duplicates, report.stored, report.rejected, report.conflicts)


def test_the_same_file_twice_adds_nothing(store, tmp_path):
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    path = first_dir / "laporan.csv"
    path.write_text(ROWS, encoding="utf-8")
    # (rows, accepted, duplicates, stored, rejected, conflicts)
    assert _counts(services.import_file(store, ADMIN, path, name="laporan.csv", dry_run=True)) == (4, 3, 0, 0, 1, 0)
    assert _counts(services.import_file(store, ADMIN, path, name="laporan.csv")) == (4, 3, 0, 0, 1, 0)
    assert len(store.list()) == 3  # the two identical rows stay two records
    # a new session uploads it again (another temporary path, the same file name): nothing would be added
    again = second_dir / "upload-5f3a.csv"
    again.write_text(ROWS, encoding="utf-8")
    assert _counts(services.import_file(store, ADMIN, again, name="laporan.csv", dry_run=True)) == (4, 0, 3, 3, 1, 0)
    assert _counts(services.import_file(store, ADMIN, again, name="laporan.csv")) == (4, 0, 3, 3, 1, 0)
    assert len(store.list()) == 3
    # the rejects file carries the row's id; fixed and imported (twice) it is stored once
    rejects = tmp_path / "rejects.csv"
    services.import_file(store, ADMIN, again, name="laporan.csv", dry_run=True, rejects_path=rejects)
    with open(rejects, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and len(rows[0]["id"]) == 36
    fixed = tmp_path / "laporan-ditolak.csv"
    fixed.write_text(rejects.read_text(encoding="utf-8-sig").replace("bukan_jenis", "fgd_peneliti"), encoding="utf-8")
    for expected in ((1, 1, 0, 0, 0, 0), (1, 0, 1, 1, 0, 0)):
        assert _counts(services.import_file(store, ADMIN, fixed, name=fixed.name)) == expected
    assert len(store.list()) == 4
    # another file name is another source: stored again (the duplicate review flags such rows)
    assert services.import_file(store, ADMIN, path, name="laporan-kelurahan.csv").accepted == 3
    assert len(store.list()) == 7
