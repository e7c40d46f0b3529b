"""Fuzz the importers: whatever the file, the only exception that may escape is the project's own P4gnError.

A short run is part of every test run (``GEO_P4GN_FUZZ_EXAMPLES`` examples per test, default 40). The
long run (docs/deployment.md)::

    GEO_P4GN_FUZZ_EXAMPLES=20000 python -m pytest tests/integration/test_fuzz_importers.py -p no:randomly -x

Hypothesis keeps failing examples in ``.hypothesis/`` (git-ignored) and replays them first.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_p4gn import P4gnError, importers, services
from geo_p4gn.importers import limits
from geo_p4gn.store import open_store

EXAMPLES = int(os.environ.get("GEO_P4GN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

COLUMNS = sorted({n for first, fallback in importers.COLUMN_NAMES.values() for n in (*first, *fallback)}
                 | {"Tanggal", " JENIS ", "group/aktor", "_lokasi_latitude", "_lokasi_longitude", "lokasi",
                    "meta/instanceID", "_uuid", "_submission_time", "today", "_row", "_reason", ""})
TRICKY = [
    "", " ", "nan", "NaN", "inf", "-inf", "1e309", "-1e309", "1e-400", "0", "-0", "106,758576", "-6,152569",
    "106.758576", "-6.152569", "-6.152569 106.758576 0 5", "106.758576 -6.152569", "6.152569", "-90", "181",
    "31/02/2024", "2024-02-30", "2024-13-01", "0000-00-00", "9999-12-31", "17/08/2024", "2024-08-17T25:61:00",
    "deklarasi", "seni_budaya", "Komunitas", "komunitas", "Media", "kampung-ambon", "Kampung Boncos",
    "POINT (106.758576 -6.152569)", "POLYGON ((0 0, 1 1, 1 0, 0 0))", "POLYGON ((106.75 -6.15, 106.76 -6.15))",
    "POINT EMPTY", "LINESTRING (0 0, 1 1)", "GEOMETRYCOLLECTION (POINT (1 1))", "POINT (nan nan)",
    "=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "uuid:" + str(uuid.UUID(int=7)), str(uuid.UUID(int=7)),
    "3173012345678901", "081234567890", "x" * 3000, "\x00", "\ufeff", "\u202e", "\r\n", '"', "'", "#date",
    "2024-08-17T10:00:00.000+07:00", "-1", "1.5", "10000000000000000000000", "True",
]
cell = st.one_of(st.sampled_from(TRICKY), st.text(max_size=30),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str))


@pytest.fixture(scope="module")
def store(tmp_path_factory, boundaries, taxonomy):
    s = open_store(str(tmp_path_factory.mktemp("fuzz") / "fuzz.gpkg"), boundaries=boundaries, taxonomy=taxonomy)
    s.upsert_site({"id": "kampung-uji", "name": "Kampung Uji", "aliases": ["Kampung Boncos"],
                   "geometry": __import__("shapely").Point(106.758576, -6.152569)}, user="seed")
    yield s
    s.close()


def _import(store, data: bytes, suffix: str, *, dry_run: bool = True, via_services: bool = False):
    """Import ``data`` as a file; let P4gnError through, any other exception fails the test."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            if via_services:
                report = services.import_file(store, services.User("fuzz", "admin"), path, dry_run=dry_run,
                                              rejects_path=Path(folder) / "rejects.csv")
            else:
                report = importers.import_file(store, path, user="fuzz", dry_run=dry_run,
                                               rejects_path=Path(folder) / "rejects.csv")
        except P4gnError:
            return None
    assert report.accepted + report.rejected + report.duplicates + report.conflicts == report.rows
    return report


def _csv(header, rows, delimiter, bom):
    buf = io.StringIO()
    import csv

    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n" if delimiter == "\t" else "\r\n")
    w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" if bom else "") + buf.getvalue()


@FUZZ
@given(header=st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=9),
       rows=st.lists(st.lists(cell, max_size=10), max_size=12), delimiter=st.sampled_from([",", ";", "\t"]),
       bom=st.booleans(), dry_run=st.booleans())
def test_csv(store, header, rows, delimiter, bom, dry_run):
    _import(store, _csv(header, rows, delimiter, bom).encode("utf-8", "surrogatepass"), ".csv", dry_run=dry_run)


@FUZZ
@given(data=st.binary(max_size=3000))
def test_any_bytes(store, data):
    _import(store, data, ".csv")


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
    | st.sampled_from(TRICKY),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)
coordinate = st.one_of(st.floats(allow_nan=False), st.sampled_from([106.758576, -6.152569, 0.0, 1e308]))
position = st.lists(coordinate, min_size=0, max_size=4)
geometry = st.one_of(
    st.none(), json_value,
    st.fixed_dictionaries({"type": st.sampled_from(["Point", "MultiPoint", "LineString", "Polygon",
                                                    "MultiPolygon", "GeometryCollection", "Bogus"]),
                           "coordinates": st.one_of(position, st.lists(position, max_size=5),
                                                    st.lists(st.lists(position, max_size=5), max_size=3),
                                                    st.lists(st.lists(st.lists(position, max_size=5), max_size=2),
                                                             max_size=2), json_value)}),
)
feature = st.one_of(
    json_value,
    st.fixed_dictionaries({"type": st.sampled_from(["Feature", "feature", "FeatureCollection"]),
                           "properties": st.one_of(st.none(), json_value,
                                                   st.dictionaries(st.sampled_from(COLUMNS), cell, max_size=8)),
                           "geometry": geometry}, optional={"id": json_value}),
)


@FUZZ
@given(features=st.lists(feature, max_size=8), crs=st.one_of(st.none(), json_value,
                                                              st.just({"properties": {"name": "EPSG:32748"}})),
       top=st.sampled_from(["FeatureCollection", "Feature", "Topology"]))
def test_geojson(store, features, crs, top):
    doc = {"type": top, "features": features}
    if crs is not None:
        doc["crs"] = crs
    if top == "Feature":
        doc = features[0] if features and isinstance(features[0], dict) else {"type": "Feature"}
    _import(store, json.dumps(doc).encode(), ".geojson")


def _workbook(rows) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX = _workbook([["tanggal", "jenis", "aktor", "organisasi", "lintang", "bujur"],
                  ["2024-08-17", "deklarasi", "komunitas", "RW 03", -6.152569, 106.758576],
                  ["17/08/2024", "Seni Budaya", "Media", "=1+1", "-6,15", "106,75"]])
xlsx_cell = st.one_of(st.none(), st.sampled_from(TRICKY).filter(lambda v: "\x00" not in v), st.integers(),
                      st.floats(allow_nan=False, allow_infinity=False),
                      st.dates().map(lambda d: d), st.booleans())


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, len(XLSX) - 1), st.integers(0, 255)), max_size=6),
       cut=st.one_of(st.none(), st.integers(0, len(XLSX))))
def test_damaged_xlsx(store, flips, cut):
    data = bytearray(XLSX)
    for pos, byte in flips:
        data[pos] = byte
    if cut is not None:
        data = data[:cut]
    _import(store, bytes(data), ".xlsx", via_services=True)


@FUZZ
@given(header=st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=8),
       rows=st.lists(st.lists(xlsx_cell, max_size=9), max_size=8))
def test_xlsx_cells(store, header, rows):
    cleaned = [list(r) for r in rows]
    try:
        data = _workbook([header, *cleaned])
    except (ValueError, TypeError):  # openpyxl refuses some values itself (illegal characters)
        return
    _import(store, data, ".xlsx")


def test_deep_json_is_a_p4gn_error(store):
    """Found by the fuzzer's deep cases: without the upload limits a deeply nested file must still be
    refused as a P4gnError, not a RecursionError."""
    for depth in (1_000, 100_000):
        doc = '{"type": "FeatureCollection", "features": ' + "[" * depth + "]" * depth + "}"
        _import(store, doc.encode(), ".geojson")
        feat = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
                '{"type": "Point", "coordinates": ' + "[" * depth + "1, 2" + "]" * depth + "}}]}")
        _import(store, feat.encode(), ".geojson")


def _depth(v) -> int:
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    return 0


@FUZZ
@given(doc=st.dictionaries(st.text(alphabet='ab"\\[]{}', max_size=6),
                           st.recursive(st.text(alphabet='a"\\[]{}', max_size=6),
                                        lambda c: st.lists(c, max_size=3)
                                        | st.dictionaries(st.text(alphabet='"\\[{', max_size=4), c, max_size=3),
                                        max_leaves=30)),
       chunk=st.integers(1, 64))
def test_the_depth_scanner_agrees_with_json(doc, chunk):
    text = json.dumps(doc)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.geojson"
        path.write_text(text)
        saved = limits.CHUNK, limits.max_json_depth
        try:
            limits.CHUNK = chunk
            limits.max_json_depth = _depth(doc)
            limits.check_upload(path)  # exactly at the limit: accepted
            if _depth(doc) > 0:
                limits.max_json_depth = _depth(doc) - 1
                with pytest.raises(limits.UploadLimitError):
                    limits.check_upload(path)
        finally:
            limits.CHUNK, limits.max_json_depth = saved


@FUZZ
@given(data=st.binary(max_size=2000), head=st.sampled_from([b"", b"PK\x03\x04", b"{", b"\xef\xbb\xbf{"]))
def test_check_upload_raises_only_its_own_errors(data, head):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.bin"
        path.write_bytes(head + data)
        try:
            limits.check_upload(path)
        except P4gnError:
            pass
