"""Import and export against real stores (GeoPackage and PostGIS) and through the geo-p4gn command."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from geo_p4gn import cli
from geo_p4gn._errors import P4gnError
from geo_p4gn.importers import import_file
from geo_p4gn.render.data import INTERNAL_COLUMNS, PUBLIC_COLUMNS, export_records
from geo_p4gn.seed import seed_store
from geo_p4gn.store import open_store

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "import"
BASIC_IDS = ["6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e01", "6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e02"]


@pytest.fixture
def seeded(store):
    seed_store(store, starter=False)
    return store


def rows_of(path, delimiter=","):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh, delimiter=delimiter))


def test_import_into_the_store(seeded, tmp_path):
    rejects = tmp_path / "rejects.csv"
    report = import_file(seeded, FIX / "basic.csv", user="budi", rejects_path=rejects, lang="en")
    assert report.summary() == {"accepted": 3, "rejected": 6, "duplicates": 0, "conflicts": 0}
    stored = seeded.list().sort_values("date", kind="stable")
    assert len(stored) == 3 and set(BASIC_IDS) <= set(stored["id"])
    assert dict(zip(stored["id"], stored["kelurahan_code"], strict=True))[BASIC_IDS[0]] == "31.73.01.1004"
    log = seeded.audit_log(entity="intervention")
    assert (len(log), set(log["who"]), set(log["action"])) == (3, {"budi"}, {"create"})
    assert [r[11:] for r in rows_of(rejects)][1:] == [
        ["5", "date", "row 5: date: '31/02/2024' is not a real calendar day (day is out of range for month)"],
        ["6", "type", ("row 6: type: 'senam' is not a known type (known keys: pemetaan, diskusi_tokoh, fgd_peneliti, "
                      "seni_budaya, kelurahan_bersinar, deklarasi, tim_terpadu)")],
        ["7", "lat/lon", ("row 7: lat/lon: latitude -5.95, longitude 106.7 is outside DKI Jakarta (more than 50 m "
                         "from every kelurahan, Kepulauan Seribu included)")],
        ["8", "lat/lon", ("row 8: lat/lon: latitude 106.82644 and longitude -6.175305 look swapped (Jakarta is near "
                         "latitude -6.2, longitude 106.8); exchange them")],
        ["9", "participants", "row 9: participants: '-5' is not a whole number >= 0"],
        ["10", "notes", ("row 10: notes: holds something shaped like a phone number; personal contacts must not be "
                        "recorded")],
    ]
    # the same file again: every row is a duplicate, the row without an id too (its id comes from its
    # content and the file's name, issue 13)
    again = import_file(seeded, FIX / "basic.csv", user="budi")
    assert again.summary() == {"accepted": 0, "rejected": 6, "duplicates": 3, "conflicts": 0}
    assert again.stored == 3
    assert len(seeded.list()) == 3


def test_fixed_rejects_import_once(seeded, tmp_path):
    text = ("tanggal;jenis;aktor;organisasi;lintang;bujur\n"
            "17/08/2024;deklarasi;komunitas;Karang Taruna;-6,151539;106,760338\n"
            "18/08/2024;senam;komunitas;Karang Taruna;-6,108734;106,885901\n"
            "19/08/2024;deklarasi;komunitas;Karang Taruna;106,885901;-6,108734\n")
    src = tmp_path / "no_ids.csv"
    src.write_text(text, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    first = import_file(seeded, src, user="ani", rejects_path=rejects, lang="en")
    assert first.summary() == {"accepted": 1, "rejected": 2, "duplicates": 0, "conflicts": 0}
    rows = rows_of(rejects, ";")  # the file's own delimiter
    assert rows[0] == ["id", "tanggal", "jenis", "aktor", "organisasi", "lintang", "bujur", "_row", "_field",
                       "_reason"]
    made = [r[0] for r in rows[1:]]
    assert all(uuid.UUID(m).version == 5 for m in made)  # from the row's content and source
    # the user fixes both rows in the rejects file and imports it -- twice, by mistake
    fixed = rejects.read_text(encoding="utf-8-sig").replace(";senam;", ";deklarasi;")
    fixed = fixed.replace("106,885901;-6,108734", "-6,108734;106,885901")
    rejects.write_text(fixed, encoding="utf-8")
    assert import_file(seeded, rejects, user="ani").summary() == {
        "accepted": 2, "rejected": 0, "duplicates": 0, "conflicts": 0}
    assert import_file(seeded, rejects, user="ani").summary() == {
        "accepted": 0, "rejected": 0, "duplicates": 2, "conflicts": 0}
    assert set(made) <= set(seeded.list()["id"]) and len(seeded.list()) == 3


def test_conflicts_are_rejected_never_overwritten(seeded, tmp_path):
    import_file(seeded, FIX / "kobo_export.csv", user="ani")
    rid = "3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e01"
    changed = tmp_path / "changed.csv"
    changed.write_text(
        (FIX / "kobo_export.csv").read_text(encoding="utf-8").replace("Karang Taruna RW 07", "Someone Else"),
        encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    report = import_file(seeded, changed, user="eve", rejects_path=rejects)
    assert report.summary() == {"accepted": 0, "rejected": 1, "duplicates": 1, "conflicts": 1}
    assert [(r.row, r.field, r.conflict) for r in report.rejects] == [
        (2, "meta/instanceID", True), (4, "grp_lokasi/lokasi", False)]
    assert report.rejects[0].reason == (
        f"row 2: meta/instanceID: {rid} is already stored with different content; not overwritten "
        "(edit the stored record, or give this row a new id)")
    assert seeded.get(rid).organisation == "Karang Taruna RW 07"
    # an edited record: its original content is still recognised (a retry of the first import)
    seeded.update(rid, {"participants": 90}, user="ani")
    retry = import_file(seeded, FIX / "kobo_export.csv", user="ani")
    assert retry.summary() == {"accepted": 0, "rejected": 1, "duplicates": 2, "conflicts": 0}
    assert seeded.get(rid).participants == 90


def test_dry_run_and_unreadable_files_change_nothing(seeded, tmp_path):
    before = (len(seeded.list()), len(seeded.audit_log()), seeded.data_version())
    dry = import_file(seeded, FIX / "features.geojson", user="ani", dry_run=True)
    assert dry.summary() == {"accepted": 3, "rejected": 3, "duplicates": 0, "conflicts": 0}
    bad = tmp_path / "bad.csv"
    bad.write_bytes("tanggal,organisasi\n2024-08-17,Caf\u00e9\n".encode("cp1252"))
    with pytest.raises(P4gnError, match="line 2 is not UTF-8"):
        import_file(seeded, bad, user="ani")
    with pytest.raises(P4gnError, match="no column for date, type, actor, organisation, location"):
        import_file(seeded, _headerless(tmp_path), user="ani")
    assert (len(seeded.list()), len(seeded.audit_log()), seeded.data_version()) == before


def _headerless(tmp_path):
    p = tmp_path / "headerless.csv"
    p.write_text("17/08/2024,deklarasi,komunitas\n", encoding="utf-8")
    return p


def test_a_failing_batch_stores_nothing(seeded, monkeypatch):
    def boom(*a, **k):
        raise P4gnError("disk full (simulated)")

    monkeypatch.setattr(seeded, "_bump_revision", boom)  # the last step inside the write transaction
    with pytest.raises(P4gnError, match="simulated"):
        import_file(seeded, FIX / "workbook.xlsx", user="ani")
    monkeypatch.undo()
    assert len(seeded.list()) == 0 and len(seeded.audit_log(entity="intervention")) == 0
    assert import_file(seeded, FIX / "workbook.xlsx", user="ani").accepted == 3


def test_every_fixture_imports(seeded):
    got = {f: import_file(seeded, FIX / f, user="ani").summary() for f in
           ("basic.csv", "semicolon_id.csv", "kobo_export.csv", "kobo_geopoint.csv", "features.geojson",
            "workbook.xlsx")}
    assert got == {
        "basic.csv": {"accepted": 3, "rejected": 6, "duplicates": 0, "conflicts": 0},
        "semicolon_id.csv": {"accepted": 3, "rejected": 2, "duplicates": 0, "conflicts": 0},
        "kobo_export.csv": {"accepted": 2, "rejected": 1, "duplicates": 0, "conflicts": 0},
        "kobo_geopoint.csv": {"accepted": 3, "rejected": 1, "duplicates": 0, "conflicts": 0},
        "features.geojson": {"accepted": 3, "rejected": 3, "duplicates": 0, "conflicts": 0},
        "workbook.xlsx": {"accepted": 3, "rejected": 1, "duplicates": 0, "conflicts": 0},
    }
    assert len(seeded.list()) == 17 and seeded.check_integrity() == []


def test_internal_exports_re_import_as_duplicates(seeded, tmp_path):
    for f in ("basic.csv", "features.geojson", "workbook.xlsx"):
        import_file(seeded, FIX / f, user="ani")
    n = len(seeded.list())
    for fmt in ("csv", "xlsx", "geojson"):
        out = tmp_path / f"all.{fmt}"
        assert export_records(seeded, out, fmt) == n
        assert import_file(seeded, out, user="ani").summary() == {
            "accepted": 0, "rejected": 0, "duplicates": n, "conflicts": 0}, fmt
    assert len(seeded.list()) == n


# -- the command ---------------------------------------------------------------------------------------
def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "geo_p4gn", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)


@pytest.fixture
def gpkg(tmp_path, boundaries, taxonomy):
    path = tmp_path / "store.gpkg"
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as s:
        seed_store(s, starter=False)
    return str(path)


def test_cli_import_json_and_exit_status(gpkg, tmp_path):
    out = run("import", str(FIX / "basic.csv"), "--store", gpkg, "--json", "--lang", "en",
              "--rejects", str(tmp_path / "r.csv"))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {k: data[k] for k in ("accepted", "rejected", "duplicates", "conflicts", "rows", "dry_run")} == {
        "accepted": 3, "rejected": 6, "duplicates": 0, "conflicts": 0, "rows": 9, "dry_run": False}
    assert data["rejects"][0] == {"row": 5, "field": "date", "reason": "row 5: date: '31/02/2024' is not a real "
                                                                      "calendar day (day is out of range for month)"}
    assert len(rows_of(tmp_path / "r.csv")) == 7
    dry = run("import", str(FIX / "kobo_geopoint.csv"), "--store", gpkg, "--dry-run")
    assert dry.returncode == 0
    assert dry.stdout.splitlines()[0] == (f"{FIX / 'kobo_geopoint.csv'}: 4 rows: 3 would be stored (dry run: "
                                          "nothing written), 0 already stored, 1 rejected, 0 conflicts")
    with open_store(gpkg) as s:
        assert len(s.list()) == 3
    bad = run("import", str(tmp_path / "missing.csv"), "--store", gpkg)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "geo-p4gn: error: missing.csv: cannot be read (No such file or directory)\n"
    bad = run("import", str(tmp_path / "missing.csv"), "--store", gpkg, "--json")
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"].endswith("cannot be read (No such file or directory)")


def test_cli_export_formats_and_filters(gpkg, tmp_path):
    assert run("import", str(FIX / "basic.csv"), "--store", gpkg).returncode == 0
    out = run("export", "csv", str(tmp_path / "pub.csv"), "--store", gpkg, "--public", "--hxl", "--kota", "31.73")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"wrote {tmp_path / 'pub.csv'}: 2 records (public csv)\n"
    rows = rows_of(tmp_path / "pub.csv")
    assert rows[0] == list(PUBLIC_COLUMNS) and rows[1][0] == "#date+start" and len(rows) == 4
    for fmt in ("xlsx", "geojson", "gpkg"):
        res = run("export", fmt, str(tmp_path / f"all.{fmt}"), "--store", gpkg, "--from", "2024-08-18")
        assert res.returncode == 0, res.stderr
        assert res.stdout == f"wrote {tmp_path / f'all.{fmt}'}: 2 records (internal {fmt})\n"
    doc = json.loads((tmp_path / "all.geojson").read_text())
    assert list(doc["features"][0]["properties"]) == [c for c in INTERNAL_COLUMNS if c != "geometry"]
    bad = run("export", "xlsx", str(tmp_path / "x.xlsx"), "--store", gpkg, "--hxl")
    assert (bad.returncode, bad.stderr) == (2, "geo-p4gn: error: the HXL hashtag row is for CSV exports only\n")


def test_cli_export_html_is_delegated(gpkg, tmp_path):
    assert run("import", str(FIX / "basic.csv"), "--store", gpkg).returncode == 0
    res = run("export", "html", str(tmp_path / "map.html"), "--store", gpkg, "--public")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "map.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_progress_bar_on_a_terminal(gpkg, monkeypatch, capsys):
    import geo_p4gn.cli.data as cd

    monkeypatch.setattr(cd, "PROGRESS_ROWS", 1)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(["import", str(FIX / "semicolon_id.csv"), "--store", gpkg]) == 0
    err = capsys.readouterr().err
    assert "\r[" in err and "100% write" in err and err.endswith("\n")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert cli.main(["import", str(FIX / "semicolon_id.csv"), "--store", gpkg]) == 0
    assert capsys.readouterr().err == ""


def test_cli_import_and_export_check_the_role(gpkg, tmp_path):
    """The CLI goes through the same services as the app: a field team member may not import or export."""
    from geo_p4gn import auth

    users = tmp_path / "users.toml"
    auth.add_user("ani", "petugas", path=users)
    auth.add_user("rudi", "perencana", path=users)
    env = {"GEO_P4GN_USERS": str(users)}
    out = run("import", str(FIX / "basic.csv"), "--store", gpkg, "--as", "ani", env=env)
    assert out.returncode == 2 and "may not import files" in out.stderr
    out = run("export", "csv", str(tmp_path / "x.csv"), "--store", gpkg, "--as", "ani", env=env)
    assert out.returncode == 2 and "may not export data for internal use" in out.stderr
    out = run("export", "csv", str(tmp_path / "p.csv"), "--store", gpkg, "--public", "--as", "rudi", env=env)
    assert out.returncode == 2 and "may not make public exports" in out.stderr
    out = run("export", "csv", str(tmp_path / "i.csv"), "--store", gpkg, "--as", "rudi", env=env)
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "p.csv").exists()


def test_reasons_and_the_rejects_file_in_indonesian_by_default(seeded, tmp_path):
    """Issue 13: the rejects file in the user's language, Indonesian first; columns by the file's own headers."""
    src = tmp_path / "laporan.csv"
    src.write_text("tanggal,jenis,aktor,organisasi,lokasi,lintang,bujur\n"
                   "31/02/2024,deklarasi,komunitas,Karang Taruna,,-6.151539,106.760338\n"
                   "17/08/2024,senam,komunitas,Karang Taruna,,-6.151539,106.760338\n"
                   "17/08/2024,deklarasi,komunitas,Karang Taruna,Kampung Tidak Ada,-6.151539,106.760338\n"
                   "17/08/2024,deklarasi,komunitas,Karang Taruna,,-5.95,106.70\n", encoding="utf-8")
    rejects = tmp_path / "ditolak.csv"
    report = import_file(seeded, src, user="ani", rejects_path=rejects)
    rows = rows_of(rejects)
    assert rows[0][-3:] == ["_baris", "_kolom", "_alasan"]
    assert [r[-3:] for r in rows[1:]] == [
        ["2", "tanggal", "baris 2: tanggal: '31/02/2024' bukan tanggal yang ada di kalender (day is out of range "
                         "for month)"],
        ["3", "jenis", ("baris 3: jenis: 'senam' bukan jenis intervensi yang dikenal (kunci yang dikenal: pemetaan, "
                        "diskusi_tokoh, fgd_peneliti, seni_budaya, kelurahan_bersinar, deklarasi, tim_terpadu)")],
        ["4", "lokasi", ("baris 4: lokasi: 'Kampung Tidak Ada' bukan situs yang dikenal (tulis id, nama, atau alias "
                         "situs dari daftar situs)")],
        ["5", "lintang/bujur", ("baris 5: lintang/bujur: lintang -5.95, bujur 106.7 berada di luar DKI Jakarta (lebih "
                                "dari 50 m dari setiap kelurahan, Kepulauan Seribu termasuk)")],
    ]
    assert [r.reason_in("en") for r in report.rejects][2] == (
        "row 4: lokasi: 'Kampung Tidak Ada' is not a known site (give a site id, name or alias from the site "
        "registry)")
    # the Indonesian rejects file, fixed, imports as it is (its _baris/_kolom/_alasan columns are ignored)
    fixed = rejects.read_text(encoding="utf-8-sig").replace("31/02/2024", "28/02/2024").replace(",senam,", ",deklarasi,")
    fixed = fixed.replace("Kampung Tidak Ada", "").replace("-5.95", "-6.151539").replace("106.7,", "106.760338,")
    rejects.write_text(fixed, encoding="utf-8")
    again = import_file(seeded, rejects, user="ani")
    assert (again.accepted, again.rejected, again.ignored_columns) == (4, 0, ())
