"""Upload limits: huge files, zip bombs, deep nesting and hostile names are refused before any parser runs,
without reading the file into memory."""

from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
import zipfile

import openpyxl
import pytest

from geo_p4gn import PermissionDenied, ValidationError, importers, services
from geo_p4gn.importers import limits
from geo_p4gn.importers.limits import UploadLimitError, check_upload, received_upload, safe_name


def test_defaults():
    assert (limits.max_upload_bytes, limits.max_rows, limits.max_columns) == (50_000_000, 200_000, 200)
    assert (limits.max_zip_entries, limits.max_zip_uncompressed, limits.max_zip_ratio) == (500, 300_000_000, 100.0)
    assert limits.max_json_depth == 32


def _peak(fn, *args, **kw):
    """Run fn; return (exception or result, peak bytes allocated by Python meanwhile)."""
    tracemalloc.start()
    try:
        try:
            out = fn(*args, **kw)
        except Exception as exc:  # noqa: BLE001 - returned to the test, which checks its type
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_1_gb_file_is_refused_without_being_read(tmp_path):
    path = tmp_path / "besar.csv"
    with open(path, "wb") as fh:  # sparse: 1 GiB on paper, nothing on disk
        fh.truncate(1 << 30)
    exc, peak = _peak(check_upload, path)
    assert isinstance(exc, UploadLimitError)
    assert exc.limit == "max_upload_bytes"
    assert str(exc) == ("besar.csv: 1,073.7 MB is larger than the upload limit of 50.0 MB "
                        "(limit max_upload_bytes = 50,000,000); nothing was imported")
    assert peak < 100_000


def test_services_check_the_limits_before_the_importer(tmp_path, monkeypatch):
    path = tmp_path / "besar.geojson"
    with open(path, "wb") as fh:
        fh.truncate(1 << 30)

    def importer_must_not_run(*a, **kw):
        raise AssertionError("the importer ran")

    monkeypatch.setattr(importers, "import_file", importer_must_not_run)
    admin = services.User("a", "admin")
    with pytest.raises(UploadLimitError, match="max_upload_bytes"):
        services.import_file(object(), admin, path)
    # and the role is checked before the file is even looked at
    with pytest.raises(PermissionDenied):
        services.import_file(object(), services.User("p", "perencana"), tmp_path / "does-not-exist.csv")


def _zip(path, entries: dict[str, bytes | int], compression=zipfile.ZIP_DEFLATED):
    """A zip; an int value is that many zero bytes, written in chunks."""
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries.items():
            with zf.open(name, "w", force_zip64=isinstance(data, int) and data > 2**31) as fh:
                if isinstance(data, int):
                    chunk = b"\0" * (1 << 20)
                    for _ in range(data >> 20):
                        fh.write(chunk)
                else:
                    fh.write(data)
    return path


XLSX_PARTS = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def test_a_zip_bomb_xlsx_is_refused_without_inflating_it(tmp_path):
    path = _zip(tmp_path / "bom.xlsx", {**XLSX_PARTS, "xl/worksheets/sheet1.xml": 200 << 20})
    assert path.stat().st_size < 400_000
    exc, peak = _peak(check_upload, path)
    assert isinstance(exc, UploadLimitError)
    assert exc.limit == "max_zip_ratio"
    assert str(exc).startswith("bom.xlsx: entry 'xl/worksheets/sheet1.xml' is compressed 1,0")
    assert str(exc).endswith(" times (a zip bomb?) (limit max_zip_ratio = 100.0); nothing was imported")
    assert peak < 1_000_000


def test_too_much_once_uncompressed(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "max_zip_uncompressed", 3_000_000)
    path = _zip(tmp_path / "b.xlsx", {**XLSX_PARTS, **{f"xl/media/i{i}.bin": os.urandom(1_000_000) for i in range(4)}})
    with pytest.raises(UploadLimitError, match=r"more than 3\.0 MB once uncompressed") as exc:
        check_upload(path)
    assert exc.value.limit == "max_zip_uncompressed"


def test_too_many_entries(tmp_path):
    path = _zip(tmp_path / "many.xlsx", {f"x/{i}.xml": b"<a/>" for i in range(501)})
    with pytest.raises(UploadLimitError, match="the workbook holds 501 entries") as exc:
        check_upload(path)
    assert exc.value.limit == "max_zip_entries"


def test_a_lying_size_is_caught_by_the_streamed_pass(tmp_path):
    path = _zip(tmp_path / "liar.xlsx", {**XLSX_PARTS, "xl/worksheets/sheet1.xml": b"<row>" * 400_000},
                compression=zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x01\x02")  # the last central directory entry: the sheet
    struct.pack_into("<L", data, cd + 24, 100)  # its uncompressed size: 100 bytes
    lh = data.find(b"xl/worksheets/sheet1.xml") - 30
    struct.pack_into("<L", data, lh + 22, 100)
    path.write_bytes(bytes(data))
    with pytest.raises(ValidationError, match=r"^liar\.xlsx: part 'xl/worksheets/sheet1\.xml' cannot be read "
                                               r"\(Bad CRC-32"):
        check_upload(path)


@pytest.mark.parametrize("name", ["../../etc/cron.d/x", "/etc/passwd", "C:/Windows/x.xml", "xl\\..\\x.xml",
                                  "xl/../../x.xml"])
def test_paths_that_leave_the_archive(tmp_path, name):
    path = _zip(tmp_path / "trav.xlsx", {**XLSX_PARTS, name: b"<a/>"})
    with pytest.raises(UploadLimitError, match="a path that leaves the archive") as exc:
        check_upload(path)
    assert exc.value.limit == "zip_entry_path"


def test_billion_laughs_in_a_sheet(tmp_path):
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
           b"<worksheet><sheetData><row><c><v>&lol2;</v></c></row></sheetData></worksheet>")
    path = _zip(tmp_path / "lol.xlsx", {**XLSX_PARTS, "xl/worksheets/sheet1.xml": lol})
    with pytest.raises(UploadLimitError, match="declares a DTD or entities") as exc:
        check_upload(path)
    assert exc.value.limit == "xml_dtd"


def test_a_real_workbook_passes_with_its_row_count(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["tanggal", "jenis", "aktor", "organisasi", "lintang", "bujur"])
    for i in range(2500):
        ws.append(["2024-08-17", "deklarasi", "komunitas", f"RW {i % 10}", -6.15, 106.75])
    wb.save(tmp_path / "ok.xlsx")
    info = check_upload(tmp_path / "ok.xlsx")
    assert (info.kind, info.rows) == ("xlsx", 2500)


def test_too_many_sheet_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "max_rows", 100)
    wb = openpyxl.Workbook()
    for i in range(103):
        wb.active.append([i])
    wb.save(tmp_path / "rows.xlsx")
    with pytest.raises(UploadLimitError, match="more than 102 rows") as exc:
        check_upload(tmp_path / "rows.xlsx")
    assert exc.value.limit == "max_rows"
    wb.active.delete_rows(103)
    wb.save(tmp_path / "rows.xlsx")
    assert check_upload(tmp_path / "rows.xlsx").rows == 101  # 102 rows: a header, an HXL row, 100 rows


def _feature(i, coords=(106.75, -6.15)):
    return {"type": "Feature", "properties": {"n": i, "s": 'a "[{" \\'},
            "geometry": {"type": "Point", "coordinates": list(coords)}}


def test_deep_geojson_is_refused(tmp_path):
    path = tmp_path / "dalam.geojson"
    path.write_text('{"type": "FeatureCollection", "features": ' + "[" * 100_000 + "]" * 100_000 + "}")
    exc, peak = _peak(check_upload, path)
    assert isinstance(exc, UploadLimitError)
    assert str(exc) == ("dalam.geojson: JSON nested more than 32 levels deep (limit max_json_depth = 32); "
                        "nothing was imported")
    assert peak < 20_000_000


def test_nesting_is_counted_outside_strings_only(tmp_path):
    path = tmp_path / "s.geojson"
    tricky = {"type": "FeatureCollection", "features": [_feature(i) for i in range(3)],
              "note": "[[[[" * 20 + '\\"' + "{{{{" * 20, "x": "\\\\", "y": ["]]]]"]}
    path.write_text(json.dumps(tricky))
    assert check_upload(path) == limits.UploadInfo("geojson", path.stat().st_size, 3)
    multi = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "MultiPolygon", "coordinates": [[[[106.7, -6.1], [106.8, -6.1], [106.8, -6.2], [106.7, -6.1]]]]}}]}
    path.write_text(json.dumps(multi))
    assert check_upload(path).rows == 1
    path.write_text("\ufeff  \n" + "{" + '"a": ' + "[" * 32 + "1" + "]" * 32 + "}")  # 33 levels
    with pytest.raises(UploadLimitError, match="nested more than 32"):
        check_upload(path)


def test_chunk_boundaries_do_not_matter(tmp_path, monkeypatch):
    path = tmp_path / "c.geojson"
    doc = {"type": "FeatureCollection", "features": [_feature(i) for i in range(40)], "t": "\\\\\\\"[[[[[[" * 9}
    path.write_text(json.dumps(doc))
    expected = check_upload(path)
    for size in (1, 2, 3, 7, 64):
        monkeypatch.setattr(limits, "CHUNK", size)
        assert check_upload(path) == expected
    assert expected.rows == 40


def test_too_many_features(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "max_rows", 10)
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature(i) for i in range(11)]}))
    with pytest.raises(UploadLimitError, match="more than 10 features"):
        check_upload(path)


def test_csv_rows_and_columns(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "max_rows", 10)
    path = tmp_path / "a.csv"
    path.write_text("a,b\n" + "1,2\n" * 11)
    assert check_upload(path) == limits.UploadInfo("csv", path.stat().st_size, 11)
    path.write_text("a,b\n" + "1,2\n" * 12)
    with pytest.raises(UploadLimitError, match=r"^a\.csv: more than 12 lines \(limit max_rows = 10\)"):
        check_upload(path)
    path.write_text(";".join(f"c{i}" for i in range(201)) + "\n")
    with pytest.raises(UploadLimitError, match="the header has 201 columns") as exc:
        check_upload(path)
    assert exc.value.limit == "max_columns"
    path.write_text('"a,b,c",' + ",".join(f"c{i}" for i in range(199)))  # quoted commas do not count
    assert check_upload(path).rows == 0


@pytest.mark.parametrize(("name", "safe"), [
    ("data.csv", "data.csv"), ("../../etc/passwd.csv", "passwd.csv"), ("C:\\Users\\ani\\laporan.xlsx", "laporan.xlsx"),
    ("..\u202egnp.csv", "gnp.csv"), ("  .hidden.csv", "hidden.csv"), ("a\x00b.csv", "ab.csv"),
    ("x" * 300 + ".csv", "x" * 196 + ".csv"),
])
def test_safe_names(name, safe):
    assert safe_name(name) == safe


@pytest.mark.parametrize("name", ["", "..", "/", "\x00"])
def test_unusable_names(name):
    with pytest.raises(ValidationError, match="nothing usable"):
        safe_name(name)


def test_received_upload(tmp_path, monkeypatch):
    data = b"tanggal,jenis\n2024-01-01,deklarasi\n"
    with received_upload(io.BytesIO(data), "../../../tmp/evil.csv", directory=tmp_path) as path:
        assert path.name == "evil.csv" and path.parent.parent == tmp_path
        assert path.read_bytes() == data
    assert list(tmp_path.iterdir()) == []
    with (pytest.raises(UploadLimitError, match="not a CSV, XLSX or GeoJSON file name"),
          received_upload(io.BytesIO(data), "run.exe", directory=tmp_path)):
        pass
    monkeypatch.setattr(limits, "max_upload_bytes", 3 * (1 << 20))

    class Endless(io.RawIOBase):  # a client that never stops sending
        def readinto(self, b):
            b[:] = b"a" * len(b)
            return len(b)

    with (pytest.raises(UploadLimitError, match="larger than the upload limit of 3.1 MB"),
          received_upload(Endless(), "big.csv", directory=tmp_path)):
        pass
    assert list(tmp_path.iterdir()) == []
