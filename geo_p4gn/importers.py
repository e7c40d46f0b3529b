"""Import interventions from CSV, XLSX, GeoJSON and KoboToolbox/ODK exports.

Reading
-------
:func:`read_rows` reads a file as it is, whatever its suffix says (the content decides):

- CSV: comma, semicolon or tab separated (chosen from the header line), UTF-8 with or without a BOM.
  A file in another encoding is refused with advice ("save as CSV UTF-8"). Quoted cells may span lines.
- XLSX: the first sheet (read with pandas and openpyxl); the header is the first non-empty row.
  Formulas are read as their last computed value.
- GeoJSON: a FeatureCollection (or one Feature) in longitude/latitude (RFC 7946). Each feature's
  properties are the columns; point features give lat/lon, polygons are kept as area-wide records.

Row numbers
-----------
Every reason names the row **as a spreadsheet shows it**: the header is row 1, so the first data row is
row 2 (in a CSV without line breaks inside cells this is also the line number). Blank rows keep their
numbers and are skipped. A GeoJSON file names features instead: ``feature 1`` is the first feature.
The rejects file repeats the number in its ``_row`` column.

Columns
-------
Columns are matched by name, ignoring case, spaces and a group prefix (``group/field``), in English or
Indonesian: id; date / tanggal; end_date / tanggal_selesai; type / jenis (a key or either label); actor /
aktor (key or label); organisation / organisasi; site_id / lokasi / situs (a site's id, name or alias);
participants / peserta; notes / catatan; lat / lintang and lon / bujur (decimal point or decimal comma);
geometry (WKT). The full list is ``COLUMN_NAMES``. Other columns are ignored and listed in the report.
Two columns meaning the same thing (``date`` and ``tanggal``) make the file ambiguous: it is refused.

KoboToolbox / ODK exports work as they are: the id comes from ``meta/instanceID`` (``uuid:...``) or
``_uuid``; the location from a geopoint column (``"lat lon altitude accuracy"``, e.g. ``lokasi`` -- a
column whose values are geopoints is a location, not a site) or from its ``_lokasi_latitude`` /
``_lokasi_longitude`` columns; when the form has no date field the day is taken from ``today``, else
``start``, else ``_submission_time`` (which Kobo gives in UTC: converted to WIB, UTC+7). Kobo's own
numeric ``_id`` is ignored.

Validation and speed
--------------------
The rules are :func:`geo_p4gn.records.validate_record`'s. To import 100 000 rows in seconds the rows are
not validated one by one: each column is converted once per distinct value with the same functions
validate_record uses (``parse_date``, ``parse_number``, ``check_notes``, ``Taxonomy.resolve_*``), rows
that pass every field are built directly, and every other row is given to validate_record itself, whose
message becomes the reason. A test checks that both paths agree. Locations are then checked in one bulk
:meth:`~geo_p4gn.boundaries.Boundaries.assign` (polygons with :meth:`~geo_p4gn.boundaries.Boundaries.locate`):
points outside DKI Jakarta or with latitude and longitude swapped are rejected with the reason.

Ids, duplicates and conflicts
-----------------------------
A row's id is made once, when the row is read: the file's id when it has one, else a new UUID4. Rows are
then compared with the store: the same id with the same content is a duplicate (counted, nothing
written); the same id with different content is a conflict (rejected, never overwritten). So
re-importing a file **with** ids is idempotent, but re-importing a file **without** ids stores its rows
again under new ids. The rejects file therefore carries the ids made for its rows (in the file's id
column, or in a new ``id`` column): fixing the rejects file and importing it -- even twice -- stores each
row once.

Rejects file
------------
A CSV with the file's own columns (and ``id`` when the file had none), then ``_row``, ``_field`` (the
file's column) and ``_reason``. It is importable as it is: the importer ignores columns starting with
``_row``/``_field``/``_reason``. Cells that a spreadsheet would run as a formula get a leading
apostrophe, which the importer removes again.

Examples
--------
>>> table = read_rows("tests/fixtures/import/basic.csv")  # doctest: +SKIP
>>> report = import_file(store, "tests/fixtures/import/basic.csv", user="budi")  # doctest: +SKIP
>>> report.summary()  # doctest: +SKIP
{'accepted': 3, 'rejected': 1, 'duplicates': 0, 'conflicts': 0}
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import gc
import io
import json
import os
import re
import unicodedata
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from . import limits
from ._errors import ConflictError, LocationError, NotFoundError, P4gnError, ValidationError
from .boundaries import ASSIGNED, _raise_for
from .records import _MAX_ORG, Intervention, check_notes, is_blank, parse_date, parse_number, validate_record

#: Column names understood, per field: (names, fallback names used only when none of the names is present).
#: Names are compared after :func:`normalise_column` (case, spaces, group prefix). Any two of the names
#: in one file are ambiguous; fallbacks are taken in their order (``instanceID`` before ``_uuid``).
COLUMN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "id": (("id", "record_id"), ("instanceid", "_uuid")),
    "date": (("date", "tanggal", "tgl", "tanggal_kegiatan", "tanggal_mulai"), ()),
    "end_date": (("end_date", "tanggal_selesai", "tanggal_akhir"), ()),
    "type": (("type", "type_key", "jenis", "jenis_kegiatan", "jenis_intervensi"), ("type_label",)),
    "actor": (("actor", "actor_key", "aktor", "pentahelix", "unsur_pentahelix"), ("actor_label",)),
    "organisation": (("organisation", "organization", "organisasi", "lembaga", "instansi"), ()),
    "site_id": (("site_id", "site", "situs", "lokasi", "kawasan"), ("site_name",)),
    "participants": (("participants", "peserta", "jumlah_peserta"), ()),
    "notes": (("notes", "catatan", "keterangan"), ()),
    "lat": (("lat", "latitude", "lintang"), ()),
    "lon": (("lon", "lng", "longitude", "bujur"), ()),
    "geometry": (("geometry", "wkt"), ()),
}
#: Kobo/ODK metadata that give the day when the form has no date field, in order of preference.
KOBO_DATE_COLUMNS = ("today", "start", "_submission_time")
#: Columns of a rejects file, ignored on import.
REJECT_COLUMNS = ("_row", "_field", "_reason")
#: Fields a file must provide (the location may come from lat/lon, a geopoint, a geometry or a site).
REQUIRED = ("date", "type", "actor", "organisation")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_GEOPOINT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)(?:\s+-?\d+(?:\.\d+)?){0,2}\s*$")
_KOBO_GEO_PART = re.compile(r"_(?P<name>.+)_(?P<part>latitude|longitude)")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DECIMAL_POINT = r"[+-]?\d+(?:\.\d+)?"
_DECIMAL_COMMA = r"[+-]?\d+,\d+"
_HXL_TAG = re.compile(r"#[a-z][a-z0-9_]*(\s*\+[a-z][a-z0-9_]*)*", re.IGNORECASE)
_WIB = dt.timezone(dt.timedelta(hours=7))
#: The characters Python's ``str.strip``/``isspace`` treat as white space (a test checks the list), as a
#: regular-expression class that pandas/Arrow can match in bulk.
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                 "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_BLANK_TEXT = f"[{PY_WHITESPACE}]*"  # literal characters: valid for Arrow (RE2) and Python's re alike
_MESSAGE_FIELD = re.compile(r"(?P<field>[a-z_/]+)(?P<detail> \([^)]*\))?: ")

Progress = Callable[[str, int, int], None]


@contextlib.contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    Building 100 000 records triggers repeated full collections that re-scan every object made so far
    (measured: validation took twice as long). Nothing built here forms reference cycles; the collector
    is restored (and runs as usual) afterwards.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# -- reading -------------------------------------------------------------------------------------
@dataclasses.dataclass
class RawTable:
    """A file's rows as read, before any interpretation.

    ``header`` holds the column names as written in the file; ``cells`` one column per header position
    (labelled 0, 1, ...) and one row per non-blank data row (CSV cells are text, ``""`` when empty);
    ``rows`` the number the user sees for each (see the module docstring); ``unit`` ``"row"`` or
    ``"feature"``. ``problems`` maps a position to ``(column, reason)`` for rows the reader itself
    could not use (more cells than the header, an unreadable GeoJSON geometry). ``source_ids`` holds
    the numeric GeoJSON feature ids (``"id": 0`` as QGIS writes them): they name the feature in reasons
    (``feature 1 (id 0)``) and are not record ids, so such a feature gets a new UUID.
    """

    path: str
    kind: str
    header: list[str]
    cells: pd.DataFrame
    rows: np.ndarray
    unit: str = "row"
    delimiter: str | None = None
    problems: dict[int, tuple[str, str]] = dataclasses.field(default_factory=dict)
    blank_rows: int = 0
    source_ids: dict[int, Any] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cells)

    def label(self, pos: int) -> str:
        if pos in self.source_ids:
            return f"{self.unit} {self.rows[pos]} (id {self.source_ids[pos]})"
        return f"{self.unit} {self.rows[pos]}"

    def row_cells(self, pos: int) -> list[Any]:
        return self.cells.iloc[pos].tolist()

    def frame(self) -> pd.DataFrame:
        """The cells with the file's column names (a repeated name gets a suffix), indexed by row number."""
        out = self.cells.copy()
        out.columns = _unique_names(self.header)
        out.index = pd.Index(self.rows, name=self.unit)
        return out


def _unique_names(names: Sequence[str]) -> list[str]:
    out, seen = [], {}
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n} ({k + 1})")
    return out


def read_rows(path: str | os.PathLike) -> RawTable:
    """Read a CSV, XLSX or GeoJSON file as a :class:`RawTable`; raise :class:`P4gnError` if it cannot be."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror or exc}"
        raise P4gnError(msg) from exc
    try:  # bounded before any parser runs (cached: free after the services' check)
        limits.check_upload(path)
    except limits.UploadLimitError as exc:
        msg = str(exc).replace(f"{path.name}: ", f"{path}: ", 1)
        raise limits.UploadLimitError(msg, exc.limit) from None
    except ValidationError:
        pass  # a damaged file: the reader below says what it cannot read
    if raw.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        msg = f"{path}: an old Excel (.xls) workbook; save it as .xlsx or CSV UTF-8"
        raise P4gnError(msg)
    text = _decode(raw, path)
    if text.lstrip().startswith("{"):
        return _read_geojson(text, path)
    return _read_csv(text, raw.removeprefix(b"\xef\xbb\xbf"), path)


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        msg = f"{path}: not a text file in UTF-8 (UTF-16 or binary); save it as CSV UTF-8"
        raise P4gnError(msg)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = (f"{path}: line {line} is not UTF-8 (byte {raw[exc.start]:#04x}); save the file as "
               "'CSV UTF-8' and import it again")
        raise P4gnError(msg) from None


_sniff_delimiter = limits.sniff_delimiter


def _too_many_rows(path: Path, rows: int, unit: str = "rows") -> None:
    """The importer's own count, by the measure it stores: data rows after the header and blank rows."""
    if rows > limits.max_rows:
        msg = f"{path}: {rows:,} {unit}, more than the limit of {limits.max_rows:,} (limit max_rows); nothing was imported"
        raise limits.UploadLimitError(msg, "max_rows")


def _is_text(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.StringDtype)


def _blank_mask(col: pd.Series) -> np.ndarray:
    """:func:`~geo_p4gn.records.is_blank` of every cell (text columns in bulk, with the same white space)."""
    if _is_text(col):
        return col.str.fullmatch(_BLANK_TEXT).fillna(True).to_numpy(dtype=bool)
    return np.fromiter((is_blank(v) for v in col.to_numpy(dtype=object)), dtype=bool, count=len(col))


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    out = np.ones(len(frame), dtype=bool)
    for c in frame.columns:
        out &= _blank_mask(frame[c])
    return out


def _is_hxl_row(cells: Sequence[Any]) -> bool:
    """An HXL hashtag row (``#date``, ``#org+name`` ...) under the header."""
    tags = [str(c).strip() for c in cells if not is_blank(c)]
    return bool(tags) and all(_HXL_TAG.fullmatch(t) for t in tags)


def _table(path: Path, kind: str, sheet: pd.DataFrame, delimiter: str | None = None) -> RawTable:
    """From every row of a file (row i = position i - 1): find the header, drop blank and HXL rows."""
    sheet = sheet.reset_index(drop=True)
    sheet.columns = range(sheet.shape[1])
    numbers = np.arange(1, len(sheet) + 1)
    blank = _blank_rows(sheet)
    filled = np.flatnonzero(~blank)
    if not len(filled):
        msg = f"{path}: the file is empty (no header row)"
        raise P4gnError(msg)
    h = _header_position(sheet, filled)
    header = ["" if is_blank(c) else str(c).strip() for c in sheet.iloc[h].tolist()]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    body, numbers, blank = sheet.iloc[h + 1:], numbers[h + 1:], blank[h + 1:]
    keep = ~blank
    if keep.any():
        first = int(np.flatnonzero(keep)[0])
        if _is_hxl_row(body.iloc[first].tolist()):
            keep[first] = False
    _too_many_rows(path, int(keep.sum()))
    table = RawTable(str(path), kind, header, pd.DataFrame(), numbers[keep], delimiter=delimiter,
                     blank_rows=int(blank.sum()))
    body = body[keep]
    if body.shape[1] > width:
        extra = body.iloc[:, width:]
        filled_extra = ~_blank_rows(extra)
        for pos in np.flatnonzero(filled_extra):
            cells = extra.iloc[pos].tolist()
            last = max(i for i, c in enumerate(cells) if not is_blank(c)) + 1
            table.problems[int(pos)] = ("columns", f"has {width + last} cells but the header has {width} columns")
        body = body.iloc[:, :width]
    elif body.shape[1] < width:
        for c in range(body.shape[1], width):
            body[c] = "" if kind == "csv" else None
    body = body.reset_index(drop=True)
    body.columns = range(width)
    table.cells = body
    return table


def _header_position(sheet: pd.DataFrame, filled: np.ndarray) -> int:
    """The header is the first of the first 20 non-blank rows that names two known columns (a title
    or notes above the table are skipped), else the first non-blank row."""
    known = {n for names, fallbacks in COLUMN_NAMES.values() for n in (*names, *fallbacks)}
    known.update(KOBO_DATE_COLUMNS)
    for h in filled[:20]:
        names = {normalise_column(c) for c in sheet.iloc[int(h)].tolist() if not is_blank(c)}
        if len(names & known) >= 2:
            return int(h)
    return int(filled[0])


def _read_csv(text: str, raw: bytes, path: Path) -> RawTable:
    delimiter = _sniff_delimiter(text)
    try:  # pandas' C parser (on the UTF-8 bytes: no re-encoding); it stops at a row longer than the first
        sheet = pd.read_csv(io.BytesIO(raw), encoding="utf-8", sep=delimiter, header=None, dtype=str, na_filter=False,
                            skip_blank_lines=False, engine="c", quotechar='"', doublequote=True)
    except pd.errors.EmptyDataError:
        msg = f"{path}: the file is empty (no header row)"
        raise P4gnError(msg) from None
    except (pd.errors.ParserError, ValueError):
        sheet = None
    if sheet is None:  # the csv module reads rows of any length: the long ones are rejected, not the file
        # each row is cut to max_columns + 1 cells as it is read (check_upload refused wider rows already;
        # this holds when the csv module splits a badly quoted file otherwise), then padded to the widest
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        cut = limits.max_columns + 1
        try:
            rows = [r if len(r) <= cut else r[:cut] for r in reader]
        except csv.Error as exc:
            msg = f"{path}: line {reader.line_num}: the CSV cannot be read ({exc})"
            raise P4gnError(msg) from None
        width = max((len(r) for r in rows), default=0)
        if len(rows) * width > len(raw) + 10_000:
            msg = (f"{path}: {len(rows):,} rows padded to the widest row ({width:,} cells) make more cells than "
                   "the file has bytes (limit max_columns); nothing was imported")
            raise limits.UploadLimitError(msg, "max_columns")
        sheet = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)
    sheet = sheet.fillna("")
    return _table(path, "csv", sheet, delimiter)


def _read_xlsx(path: Path) -> RawTable:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not read; the values are unaffected
            warnings.simplefilter("ignore", UserWarning)
            sheet = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - a damaged workbook raises many types (zipfile, openpyxl, lxml)
        msg = f"{path}: the workbook cannot be read ({type(exc).__name__}: {exc})"
        raise P4gnError(msg) from None
    sheet = sheet.astype(object).where(sheet.notna(), None)
    return _table(path, "xlsx", sheet)


def _read_geojson(text: str, path: Path) -> RawTable:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})"
        raise P4gnError(msg) from None
    except RecursionError:
        msg = f"{path}: JSON nested too deeply to be GeoJSON"
        raise P4gnError(msg) from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not (isinstance(doc, dict) and doc.get("type") == "FeatureCollection"
            and isinstance(doc.get("features"), list)):
        msg = f"{path}: not a GeoJSON FeatureCollection"
        raise P4gnError(msg)
    crs = doc.get("crs")
    if crs is not None:
        props = crs.get("properties") if isinstance(crs, dict) else None
        if not (isinstance(props, dict) and isinstance(props.get("name", ""), str)):
            shown = _shorten(json.dumps(crs, ensure_ascii=False, default=str))
            msg = (f"{path}: crs: {shown} is not a named CRS (it needs \"properties\": {{\"name\": ...}}); "
                   "GeoJSON must be longitude/latitude (EPSG:4326): remove the crs member or name EPSG:4326")
            raise P4gnError(msg)
        name = props.get("name", "")
        if not re.search(r"CRS84$|EPSG:{1,2}4326$", name):
            msg = (f"{path}: crs: coordinates in {_shorten(name or repr(crs))}; GeoJSON must be "
                   "longitude/latitude (EPSG:4326)")
            raise P4gnError(msg)
    feats = doc["features"]
    _too_many_rows(path, len(feats), "features")
    keys: dict[str, None] = {}
    for f in feats:
        props = f.get("properties") if isinstance(f, dict) else None
        if isinstance(props, dict):
            keys.update(dict.fromkeys(str(k) for k in props))
    id_keys = [k for k in keys if normalise_column(k) in COLUMN_NAMES["id"][0]]
    has_id = bool(id_keys)
    header = [*keys, *([] if has_id else ["id"]), "geometry"]
    id_pos = header.index(id_keys[0]) if has_id else len(keys)
    data, problems = [], {}
    sources: dict[int, Any] = {}  # numeric feature ids (QGIS writes 0, 1, 2 ...): the source's row ids
    for pos, f in enumerate(feats):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            data.append([None] * len(header))
            problems[pos] = ("geometry", "is not a GeoJSON Feature")
            continue
        props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        cells = [props.get(k) for k in keys]
        if not has_id:
            cells.append(f.get("id"))
        if _is_json_number(cells[id_pos]):  # a number is never a UUID: the source's row id, a new UUID is made
            sources[pos] = cells[id_pos]
            cells[id_pos] = None
        for k, v in enumerate(cells):  # nested values become their JSON text: every cell is a scalar
            if isinstance(v, dict | list):
                try:
                    cells[k] = json.dumps(v, ensure_ascii=False)
                except (RecursionError, ValueError):
                    cells[k] = None
                    problems[pos] = (str(header[k]), "is nested too deeply")
        geom = None
        if f.get("geometry") is not None:
            try:
                geom = shapely.geometry.shape(f["geometry"])
                if geom.has_z:  # the store is 2D: a height is dropped, never stored, never the file's loss
                    geom = shapely.force_2d(geom)
            except Exception as exc:  # noqa: BLE001 - malformed GeoJSON raises many types in shapely
                reason = f"is not a readable GeoJSON geometry ({type(exc).__name__}: {_shorten(str(exc))})"
                problems[pos] = ("geometry", reason)
        cells.append(geom)
        data.append(cells)
    cells = pd.DataFrame(data, columns=range(len(header)), dtype=object) if data else \
        pd.DataFrame({i: pd.Series([], dtype=object) for i in range(len(header))})
    return RawTable(str(path), "geojson", header, cells, np.arange(1, len(data) + 1), unit="feature",
                    problems=problems, source_ids=sources)


def _is_json_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


#: At most this many characters of a value are quoted in a reason.
QUOTE_CHARS = 80
#: Longest reason text (after the row and column), whatever the value.
MAX_REASON_CHARS = 400


def _shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


# -- columns -------------------------------------------------------------------------------------
def normalise_column(name: Any) -> str:
    """``" Meta/instanceID "`` -> ``"instanceid"``; ``"Tanggal Selesai"`` -> ``"tanggal_selesai"``."""
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "").strip().casefold()
    text = text.rsplit("/", 1)[-1].strip().rstrip(".:")
    return re.sub(r"[\s\-]+", "_", text)


@dataclasses.dataclass(frozen=True)
class ColumnMap:
    """Which column of the file gives each field (positions into the header)."""

    fields: dict[str, int]
    geopoint: int | None
    kobo_date: tuple[tuple[str, int], ...]
    ignored: tuple[str, ...]
    location: str | None = None  # the name shown for a Kobo geopoint given as _x_latitude/_x_longitude

    def source(self, header: Sequence[str], field: str) -> str:
        """The file's column name(s) for a field, as the user sees them."""
        if field == "lat/lon" and self.location:
            return self.location
        if field in ("lat/lon", "lat", "lon"):
            if "lat" in self.fields and "lon" in self.fields:
                if field in ("lat", "lon"):
                    return header[self.fields[field]]
                return f"{header[self.fields['lat']]}/{header[self.fields['lon']]}"
            if self.geopoint is not None:
                return header[self.geopoint]
            if "geometry" in self.fields:
                return header[self.fields["geometry"]]
            return "lat/lon"
        if field == "date" and "date" not in self.fields and self.kobo_date:
            return self.kobo_date[0][0]
        if field in self.fields:
            return header[self.fields[field]]
        return field


def _geopoint_share(col: pd.Series) -> float:
    cells = [str(v) for v in col.iloc[:2000].tolist() if not is_blank(v)]
    if not cells:
        return 0.0
    return sum(1 for c in cells if _GEOPOINT.fullmatch(c)) / len(cells)


def map_columns(table: RawTable) -> ColumnMap:
    """Match the table's columns to fields; raise :class:`P4gnError` when ambiguous or incomplete."""
    norm = [normalise_column(h) for h in table.header]
    fields: dict[str, int] = {}
    # a column of geopoints ("lat lon alt acc") is a location even when named like a site ("lokasi");
    # columns named as another field are never taken for one
    other = {n for k, (names, fallbacks) in COLUMN_NAMES.items() if k != "site_id" for n in (*names, *fallbacks)}
    geo_cols = [i for i, n in enumerate(norm)
                if n and n not in other and _geopoint_share(table.cells[i]) > 0.5]
    for key, (names, fallbacks) in COLUMN_NAMES.items():
        for group in (names, *((name,) for name in fallbacks)):
            hits = [i for i, n in enumerate(norm) if n in group and i not in geo_cols]
            if len(hits) > 1:
                cols = ", ".join(repr(table.header[i]) for i in hits)
                msg = f"{table.path}: columns {cols} all give the {key}; keep one of them"
                raise P4gnError(msg)
            if hits:
                fields[key] = hits[0]
                break
    used = set(fields.values())
    geopoint, location = None, None
    if not ("lat" in fields and "lon" in fields):
        for key in ("lat", "lon"):
            used.discard(fields.pop(key, -1))
        parts: dict[str, dict[str, int]] = {}
        for i, n in enumerate(norm):
            m = _KOBO_GEO_PART.fullmatch(n)
            if m:
                parts.setdefault(m["name"], {})[m["part"]] = i
        pairs = {name: p for name, p in parts.items() if len(p) == 2}
        if len(pairs) > 1 or (not pairs and len(geo_cols) > 1):
            names = sorted(pairs) if len(pairs) > 1 else [table.header[i] for i in geo_cols]
            msg = f"{table.path}: several location columns ({', '.join(names)}); keep one"
            raise P4gnError(msg)
        if pairs:
            ((name, p),) = pairs.items()
            fields["lat"], fields["lon"] = p["latitude"], p["longitude"]
            used.update(p.values())
            combined = [i for i, n in enumerate(norm) if n == name]  # the geopoint itself says the same
            used.update(combined)
            location = table.header[combined[0]] if combined else None
        elif geo_cols:
            geopoint = geo_cols[0]
            used.add(geopoint)
    kobo_date: tuple[tuple[str, int], ...] = ()
    if "date" not in fields:
        kobo_date = tuple((table.header[i], i) for name in KOBO_DATE_COLUMNS
                          for i, n in enumerate(norm) if n == name)
        used.update(i for _, i in kobo_date)
    missing = [k for k in REQUIRED if k not in fields and not (k == "date" and kobo_date)]
    if not ({"lat", "lon"} <= set(fields) or geopoint is not None or "geometry" in fields or "site_id" in fields):
        missing.append("location")
    if missing:
        known = "; ".join(f"{k}: {', '.join(COLUMN_NAMES[k][0])}" for k in missing if k in COLUMN_NAMES)
        if "location" in missing:
            known += ("; " if known else "") + "location: lat + lon (lintang + bujur), a geopoint, geometry or a site"
        msg = f"{table.path}: no column for {', '.join(missing)} (names understood: {known})"
        raise P4gnError(msg)
    ignored = tuple(h for i, h in enumerate(table.header) if i not in used and norm[i] not in REJECT_COLUMNS)
    return ColumnMap(fields, geopoint, kobo_date, ignored, location)


# -- values --------------------------------------------------------------------------------------
def _unquote(value: Any) -> Any:
    """Undo the formula neutralisation of our exports and rejects files ("'=x" -> "=x")."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _kobo_day(name: str, value: Any) -> Any:
    """The day of a Kobo metadata value: ``today`` as is, ``start`` in its own offset, UTC -> WIB."""
    if is_blank(value) or not isinstance(value, str | dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        try:
            stamp = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if normalise_column(name) == "_submission_time" and stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(_WIB)
    return stamp.date()


def new_ids(n: int) -> list[str]:
    """``n`` random UUID4 strings, as ``str(uuid.uuid4())`` makes them but with one call to the OS."""
    if n <= 0:
        return []
    b = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40  # version 4
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    h = b.tobytes().hex()
    return [f"{h[k:k + 8]}-{h[k + 8:k + 12]}-{h[k + 12:k + 16]}-{h[k + 16:k + 20]}-{h[k + 20:k + 32]}"
            for k in range(0, 32 * n, 32)]


def _codes(col: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Distinct values and each row's index into them. Text columns use pandas' hashing; other columns
    key on (type, value) so that 1, 1.0 and True stay apart."""
    if _is_text(col):
        codes, uniques = pd.factorize(col, use_na_sentinel=False)
        return codes, list(uniques)
    keys: dict[tuple, int] = {}
    uniques: list[Any] = []
    codes = np.empty(len(col), dtype=np.int64)
    for j, v in enumerate(col.to_numpy(dtype=object)):
        try:
            key = (v.__class__, v)
            k = keys.get(key)
        except TypeError:  # a list or dict from GeoJSON properties
            key, k = None, None
        if k is None:
            k = len(uniques)
            uniques.append(v)
            if key is not None:
                keys[key] = k
        codes[j] = k
    return codes, uniques


def _convert(col: pd.Series | None, n: int, convert: Callable[[Any], Any], *, blank: Any = None,
             required: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``convert`` each distinct non-blank value once. Returns the values and a mask of the rows the fast
    path does not vouch for (``convert`` raised, or a required value is blank)."""
    if col is None:
        return np.full(n, blank, dtype=object), np.full(n, required, dtype=bool)
    codes, uniques = _codes(col)
    values = np.empty(len(uniques), dtype=object)
    bad = np.zeros(len(uniques), dtype=bool)
    for k, u in enumerate(uniques):
        if is_blank(u):
            values[k], bad[k] = blank, required
            continue
        try:
            values[k] = convert(_unquote(u))
        except (ValueError, TypeError):
            bad[k] = True
    return values[codes], bad[codes]


def _organisation(v: Any) -> str:
    org = " ".join(str(v).split())
    if not org or len(org) > _MAX_ORG:
        raise ValueError
    return org


def _participants(v: Any) -> int:
    p = parse_number(v, "participants")
    if p < 0 or p != int(p):
        raise ValueError
    return int(p)


def _coordinate(v: Any) -> float:
    return parse_number(_unquote(v), "coordinate")


def _coordinates(col: pd.Series | None, n: int) -> np.ndarray:
    """parse_number of each cell (NaN where it fails or is blank); text columns in bulk.

    Cells spelled ``-6.2`` or ``-6,2`` are converted by pandas/Arrow, whose float parsing rounds like
    Python's (a test checks it); anything else goes through parse_number itself.
    """
    out = np.full(n, np.nan)
    if col is None:
        return out
    rest = np.ones(n, dtype=bool)
    if _is_text(col):
        s = col.str.strip()
        point = s.str.fullmatch(_DECIMAL_POINT).fillna(False).to_numpy(dtype=bool)
        comma = s.str.fullmatch(_DECIMAL_COMMA).fillna(False).to_numpy(dtype=bool)
        if point.any():
            out[point] = s[point].astype("float64").to_numpy()
        if comma.any():
            out[comma] = s[comma].str.replace(",", ".", regex=False).astype("float64").to_numpy()
        rest = ~(point | comma) & ~_blank_mask(col)
    values = col.to_numpy(dtype=object)
    for i in np.flatnonzero(rest):
        v = values[i]
        if is_blank(v):
            continue
        try:
            out[i] = _coordinate(v)
        except (ValueError, TypeError):
            pass
    return out


class _Sites:
    """Find a site by id, name or alias (case and spacing ignored)."""

    def __init__(self, sites: pd.DataFrame | None) -> None:
        self.geometry: dict[str, Any] = {}
        self._keys: dict[str, set[str]] = {}
        self._ids: dict[str, str] = {}
        if sites is None or not len(sites):
            return
        for row in sites.itertuples(index=False):
            sid = str(row.id)
            self.geometry[sid] = row.geometry
            self._ids[_site_key(sid)] = sid
            aliases = getattr(row, "aliases", None)
            if isinstance(aliases, str):
                try:
                    aliases = json.loads(aliases)
                except json.JSONDecodeError:
                    aliases = [aliases]
            if not isinstance(aliases, list | tuple | np.ndarray):
                aliases = []
            for name in [getattr(row, "name", None), *aliases]:
                if not is_blank(name):
                    self._keys.setdefault(_site_key(name), set()).add(sid)

    def resolve(self, value: Any) -> str:
        key = _site_key(value)
        if key in self._ids:
            return self._ids[key]
        found = self._keys.get(key, set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            msg = f"{value!r} names several sites ({', '.join(sorted(found))}); give the site id"
            raise ValidationError(msg)
        msg = f"{value!r} is not a known site (give a site id, name or alias from the site registry)"
        raise ValidationError(msg)

    def reason(self, value: Any) -> str:
        try:
            self.resolve(_unquote(value))
        except ValidationError as exc:
            return str(exc)
        return f"{value!r} cannot be used"  # pragma: no cover - only called after resolve failed


def _site_key(value: Any) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(value)).casefold().split())


# -- validation ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Reject:
    """A row that was not imported: its position in the table, number, the file's column and the reason."""

    pos: int
    row: int
    field: str
    reason: str
    conflict: bool = False


@dataclasses.dataclass
class Checked:
    """The result of :func:`check_table`: valid records (kelurahan assigned) and rejects."""

    table: RawTable
    columns: ColumnMap
    records: list[Intervention]
    positions: list[int]  # position in the table of each record
    rejects: list[Reject]
    ids: list[Any]  # the id each row was given when read (None when its id cell is not a UUID)
    generated: np.ndarray  # True where that id was made by the importer


def _reject(table: RawTable, cmap: ColumnMap, pos: int, exc_or_msg: Exception | str, field: str | None = None,
            conflict: bool = False) -> Reject:
    """A Reject whose reason reads ``"row 7: tanggal (date): ..."``, naming the file's column."""
    label = table.label(pos)
    text = str(exc_or_msg).removeprefix(f"{label}: ")
    detail = ""
    if field is not None:
        text = text.removeprefix(f"{field}: ")
    else:
        m = _MESSAGE_FIELD.match(text)
        field = m["field"] if m else "row"
        detail = (m["detail"] or "") if m else ""
        text = text[m.end():] if m else text
    if len(text) > 2 * QUOTE_CHARS:
        text = _quote_briefly(table, pos, text)
    source = cmap.source(table.header, field)
    shown = source if source == field or normalise_column(source) == field else f"{source} ({field})"
    return Reject(pos, int(table.rows[pos]), source, f"{label}: {shown}{detail}: {text}", conflict)


def _quote_briefly(table: RawTable, pos: int, text: str) -> str:
    """A reason quoting at most :data:`QUOTE_CHARS` characters of any cell of the row, and at most
    :data:`MAX_REASON_CHARS` characters long (a 30 000-character cell must not be repeated per row)."""
    for v in table.row_cells(pos):
        if isinstance(v, str) and len(v) > QUOTE_CHARS:
            for form in {v, _unquote(v), v.strip(), " ".join(v.split())}:
                if len(form) > QUOTE_CHARS:
                    brief = f"{form[:QUOTE_CHARS]!r}... ({len(form):,} characters)"
                    text = text.replace(repr(form), brief).replace(form, _shorten(form))
    return _shorten(text, MAX_REASON_CHARS)


def check_table(
    table: RawTable,
    *,
    taxonomy,
    boundaries,
    sites: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> Checked:
    """Validate every row of a table and place it in a kelurahan; no store is touched.

    Returns the valid records (``kelurahan_code`` set) and one :class:`Reject` per other row, each
    naming the row, the file's column and the reason. See the module docstring for how rows are
    validated in bulk with validate_record's rules.
    """
    with _bulk():
        return _check_table(table, taxonomy, boundaries, sites, progress)


def _check_table(table: RawTable, taxonomy, boundaries, sites, progress) -> Checked:
    cmap = map_columns(table)
    n = len(table)

    def col(key: str) -> pd.Series | None:
        i = cmap.fields.get(key)
        return None if i is None else table.cells[i]

    def raw(key: str) -> np.ndarray:
        c = col(key)
        return np.full(n, None, dtype=object) if c is None else c.to_numpy(dtype=object, copy=True)

    # ids: the file's, else made now, once (the rejects file carries them)
    id_raw = raw("id")
    generated = _blank_mask(col("id")) if col("id") is not None else np.ones(n, dtype=bool)
    ids = id_raw.copy()
    ids[generated] = new_ids(int(generated.sum()))
    bad_id = np.zeros(n, dtype=bool)
    given = np.flatnonzero(~generated)
    if len(given):
        canon = (col("id").str.fullmatch(_CANONICAL_UUID.pattern).fillna(False).to_numpy(dtype=bool)
                 if _is_text(col("id")) else np.zeros(n, dtype=bool))
        for i in given[~canon[given]]:
            try:
                ids[i] = str(uuid.UUID(str(_unquote(id_raw[i])).strip().removeprefix("uuid:")))
            except (ValueError, TypeError):
                bad_id[i] = True

    # fields, each distinct value converted once with validate_record's own functions
    if "date" in cmap.fields:
        date_col = col("date")
    else:  # Kobo: the form's today / start / _submission_time
        days = np.full(n, None, dtype=object)
        for name, i in reversed(cmap.kobo_date):
            values = table.cells[i].to_numpy(dtype=object)
            filled = ~_blank_mask(table.cells[i])
            days[filled] = [_kobo_day(name, v) for v in values[filled]]
        date_col = pd.Series(days, dtype=object)
    dates, bad_date = _convert(date_col, n, parse_date, required=True)
    ends, bad_end = _convert(col("end_date"), n, lambda v: parse_date(v, "end_date"))
    types, bad_type = _convert(col("type"), n, taxonomy.resolve_type, required=True)
    actors, bad_actor = _convert(col("actor"), n, taxonomy.resolve_actor, required=True)
    orgs, bad_org = _convert(col("organisation"), n, _organisation, required=True)
    parts, bad_parts = _convert(col("participants"), n, _participants)
    notes, bad_notes = _convert(col("notes"), n, lambda v: check_notes(str(v)), blank="")
    finder = _Sites(sites)
    site_ids, bad_site = _convert(col("site_id"), n, finder.resolve)
    # an end day before the day is validate_record's to report; the same day means no end day
    for i in np.flatnonzero(np.not_equal(ends, None) & ~bad_end & ~bad_date):
        if ends[i] < dates[i]:
            bad_end[i] = True
        elif ends[i] == dates[i]:
            ends[i] = None
    if progress:
        progress("validate", n // 2, n)

    # location: lat/lon, a Kobo geopoint, a geometry (WKT or GeoJSON) or the site's place
    problems = dict(table.problems)
    if cmap.geopoint is not None:
        gp = table.cells[cmap.geopoint]
        gp_blank = _blank_mask(gp)
        if _is_text(gp):
            parts_ = gp.str.extract(_GEOPOINT.pattern).to_numpy(dtype=object)
        else:
            found = [(_GEOPOINT.fullmatch(str(v)) if not is_blank(v) else None) for v in gp.tolist()]
            parts_ = np.array([[m[1], m[2]] if m else [np.nan, np.nan] for m in found], dtype=object).reshape(n, 2)
        unread = ~gp_blank & pd.isna(parts_[:, 0])
        for i in np.flatnonzero(unread):
            reason = f"{gp.iloc[i]!r} is not a geopoint (latitude longitude altitude accuracy)"
            problems.setdefault(int(i), ("lat/lon", reason))
        lat_col = pd.Series(parts_[:, 0], dtype="str").fillna("")
        lon_col = pd.Series(parts_[:, 1], dtype="str").fillna("")
    else:
        lat_col, lon_col = col("lat"), col("lon")
    lat, lon = _coordinates(lat_col, n), _coordinates(lon_col, n)
    lat_raw = np.full(n, None, dtype=object) if lat_col is None else lat_col.to_numpy(dtype=object, copy=True)
    lon_raw = np.full(n, None, dtype=object) if lon_col is None else lon_col.to_numpy(dtype=object, copy=True)
    lat_blank = np.ones(n, dtype=bool) if lat_col is None else _blank_mask(lat_col)
    lon_blank = np.ones(n, dtype=bool) if lon_col is None else _blank_mask(lon_col)
    geoms = raw("geometry")
    geom_blank = np.ones(n, dtype=bool) if col("geometry") is None else _blank_mask(col("geometry"))
    for i in np.flatnonzero(~geom_blank & lat_blank & lon_blank):  # a GeoJSON point is a lon/lat pair
        g = geoms[i]
        if isinstance(g, shapely.Point) and not g.is_empty and not g.has_z:
            lon[i], lat[i], lon_raw[i], lat_raw[i], geoms[i] = g.x, g.y, g.x, g.y, None
            geom_blank[i] = lat_blank[i] = lon_blank[i] = False
    from_site = lat_blank & lon_blank & geom_blank & ~bad_site & np.not_equal(site_ids, None)
    for i in np.flatnonzero(from_site):
        g = finder.geometry[site_ids[i]]
        if g.geom_type == "Point":
            lon[i], lat[i] = g.x, g.y
        else:
            geoms[i] = g
            geom_blank[i] = False

    rejects: dict[int, Reject] = {p: _reject(table, cmap, p, r, field=f) for p, (f, r) in problems.items()}
    fast = ~(bad_id | bad_date | bad_end | bad_type | bad_actor | bad_org | bad_parts | bad_notes | bad_site)
    fast &= geom_blank & np.isfinite(lat) & np.isfinite(lon)
    fast[list(rejects)] = False

    # rows the fast path does not vouch for: validate_record decides, and its message is the reason
    slow: dict[int, Intervention] = {}
    todo = [int(i) for i in np.flatnonzero(~fast) if int(i) not in rejects]
    cells = {k: raw(k) for k in ("end_date", "type", "actor", "organisation", "participants", "notes", "site_id")
             } if todo else {}
    day_cells = date_col.to_numpy(dtype=object) if todo else None
    for i in todo:
        rec_raw = {k: _unquote(v[i]) for k, v in cells.items()}
        rec_raw.update(
            id=ids[i], date=_unquote(day_cells[i]), site_id=None if bad_site[i] else site_ids[i],
            lat=lat[i] if from_site[i] else _unquote(lat_raw[i]), lon=lon[i] if from_site[i] else _unquote(lon_raw[i]),
            geometry=_unquote(geoms[i]),
        )
        try:
            rec = validate_record(rec_raw, taxonomy=taxonomy, row=table.label(i))
        except ValueError as exc:
            if bad_site[i] and str(exc).startswith(f"{table.label(i)}: lat/lon"):
                rejects[i] = _reject(table, cmap, i, finder.reason(cells["site_id"][i]), field="site_id")
            else:
                rejects[i] = _reject(table, cmap, i, exc)
            continue
        if bad_site[i]:
            rejects[i] = _reject(table, cmap, i, finder.reason(cells["site_id"][i]), field="site_id")
            continue
        if rec.geometry.has_z:  # WKT "POINT Z (...)": the same rule as GeoJSON, the height is dropped
            rec = dataclasses.replace(rec, geometry=shapely.force_2d(rec.geometry))
        slow[i] = rec
        if rec.geometry.geom_type == "Point":
            lon[i], lat[i] = rec.geometry.x, rec.geometry.y

    # kelurahan: one bulk assignment for the points, locate() for polygons
    if progress:
        progress("locate", 0, n)
    codes = np.full(n, None, dtype=object)
    is_point = fast.copy()
    for i, rec in slow.items():
        is_point[i] = rec.geometry.geom_type == "Point"
    point_pos = np.flatnonzero(is_point)
    if len(point_pos):
        res = boundaries.assign(lon[point_pos], lat[point_pos])
        ok = res["status"].isin(ASSIGNED).to_numpy()
        codes[point_pos[ok]] = res["kelurahan_code"].to_numpy(dtype=object)[ok]
        for j in np.flatnonzero(~ok):
            i = int(point_pos[j])
            where = f"{table.label(i)}: {'site_id' if from_site[i] else 'lat/lon'}"
            try:
                _raise_for(res.iloc[j], lon[i], lat[i], where)
            except LocationError as exc:
                rejects[i] = _reject(table, cmap, i, exc)
                fast[i] = False
    located: dict[int, str] = {}  # a site's polygon is located once
    for i, rec in slow.items():
        if i in rejects or is_point[i]:
            continue
        key = id(rec.geometry)
        try:
            if key not in located:
                where = f"{table.label(i)}: {'site_id' if from_site[i] else 'geometry'}"
                located[key] = boundaries.locate(rec.geometry, where)
            codes[i] = located[key]
        except LocationError as exc:
            rejects[i] = _reject(table, cmap, i, exc)

    # the records, in file order
    out: dict[int, Intervention] = {}
    keep = np.flatnonzero(fast)
    if len(keep):
        columns = [a[keep].tolist() for a in (ids, dates, ends, types, actors, orgs, site_ids, parts, notes, codes)]
        points = shapely.points(lon[keep], lat[keep]).tolist()
        make = _intervention if not _PLAIN_DATACLASS else None
        new, defaults = object.__new__, _DEFAULTS
        for i, rid, d, e, t, a, o, s, p, nt, c, g in zip(keep.tolist(), *columns, points, strict=True):
            if make is not None:
                out[i] = make(id=rid, date=d, end_date=e, type_key=t, actor_key=a, organisation=o, site_id=s,
                              participants=p, notes=nt, geometry=g, kelurahan_code=c)
                continue
            rec = out[i] = new(Intervention)  # see _intervention
            rec.__dict__.update(defaults, id=rid, date=d, end_date=e, type_key=t, actor_key=a, organisation=o,
                                site_id=s, participants=p, notes=nt, geometry=g, kelurahan_code=c)
    for i, rec in slow.items():
        if i not in rejects:
            out[i] = dataclasses.replace(rec, kelurahan_code=codes[i])
    if progress:
        progress("locate", n, n)
    positions = sorted(out)
    return Checked(
        table=table, columns=cmap, records=[out[i] for i in positions], positions=positions,
        rejects=sorted(rejects.values(), key=lambda r: r.pos),
        ids=[None if bad_id[i] else ids[i] for i in range(n)], generated=generated,
    )


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Intervention) if f.default is not dataclasses.MISSING}
_PLAIN_DATACLASS = not hasattr(Intervention, "__post_init__") and "__slots__" not in Intervention.__dict__


def _intervention(**fields: Any) -> Intervention:
    """An Intervention from already validated fields, 4x faster than the constructor for big imports.

    Equal to ``Intervention(**fields)`` (a test checks it); falls back to the constructor if the class
    ever gains a ``__post_init__`` or slots.
    """
    if not _PLAIN_DATACLASS:
        return Intervention(**fields)
    rec = object.__new__(Intervention)
    rec.__dict__.update(_DEFAULTS)
    rec.__dict__.update(fields)
    return rec


# -- importing -----------------------------------------------------------------------------------
@dataclasses.dataclass
class ImportReport:
    """What an import did. Every data row is counted once: accepted (stored, or would be in a dry
    run), duplicates (already stored with the same content, or repeated in the file), rejected
    (invalid) or conflicts (same id as a stored or earlier row, other content). Rejected and conflict
    rows are listed in ``rejects`` and written to the rejects file."""

    path: str
    rows: int
    accepted: int
    rejected: int
    duplicates: int
    conflicts: int
    dry_run: bool
    rejects: list[Reject]
    columns: dict[str, str]
    ignored_columns: tuple[str, ...]
    rejects_path: str | None = None
    accepted_ids: list[str] = dataclasses.field(default_factory=list, repr=False)

    def summary(self) -> dict[str, int]:
        return {"accepted": self.accepted, "rejected": self.rejected, "duplicates": self.duplicates,
                "conflicts": self.conflicts}


def _existing(store, recs: Sequence[Intervention]) -> tuple[list[int], list[tuple[int, str]]]:
    """Which records the store already holds: (duplicate indexes, [(conflict index, reason)]).

    Same rule as the store: a record is unchanged when its content equals the stored record's current
    content or the content it was first stored with.
    """
    if not recs:
        return [], []
    if len(recs) > 200:  # one read of the ids instead of many lookups
        stored = set(store.list(include_deleted=True)["id"])
        candidates = [i for i, r in enumerate(recs) if r.id in stored]
    else:
        candidates = list(range(len(recs)))
    dups, conflicts = [], []
    for i in candidates:
        rec = recs[i]
        try:
            old = store.get(rec.id, include_deleted=True)
        except NotFoundError:
            continue
        h = rec.content_hash()
        if h == old.content_hash():
            dups.append(i)
            continue
        versions = store.versions(rec.id)
        if versions and versions[0].content_hash() == h:
            dups.append(i)
            continue
        state = " (deleted)" if old.deleted else ""
        reason = (f"id: {rec.id} is already stored{state} with different content; "
                  "not overwritten (edit the stored record, or give this row a new id)")
        conflicts.append((i, reason))
    return dups, conflicts


def import_file(
    store,
    path: str | os.PathLike,
    *,
    user: str,
    dry_run: bool = False,
    rejects_path: str | os.PathLike | None = None,
    progress: Progress | None = None,
    taxonomy=None,
    boundaries=None,
) -> ImportReport:
    """Import a CSV/XLSX/GeoJSON/Kobo file into ``store``; return an :class:`ImportReport`.

    Valid rows are written with one ``store.add_many`` (one transaction: all of them or none).
    Invalid rows, and rows whose id is already stored with other content, are rejected with a reason
    and written to ``rejects_path`` (a CSV) when given. A file that cannot be read raises
    :class:`P4gnError` and changes nothing. With ``dry_run`` nothing is written to the store.
    ``progress(stage, done, total)`` is called as stages advance (read, validate, locate, write).
    ``taxonomy`` and ``boundaries`` default to the store's.
    """
    with _bulk():
        return _import_file(store, path, user=user, dry_run=dry_run, rejects_path=rejects_path,
                            progress=progress, taxonomy=taxonomy, boundaries=boundaries)


def _import_file(store, path, *, user, dry_run, rejects_path, progress, taxonomy, boundaries) -> ImportReport:
    taxonomy = taxonomy or getattr(store, "taxonomy", None)
    boundaries = boundaries or getattr(store, "boundaries", None)
    if taxonomy is None:
        from .taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
    if boundaries is None:
        from .boundaries import load_boundaries

        boundaries = load_boundaries()
    if progress:
        progress("read", 0, 0)
    table = read_rows(path)
    n = len(table)
    if progress:
        progress("read", n, n)
        progress("validate", 0, n)
    checked = _check_table(table, taxonomy, boundaries, store.list_sites(), progress)
    rejects = list(checked.rejects)
    recs, positions = checked.records, checked.positions

    # the same id twice in the file: a repeat is a duplicate, other content a conflict
    duplicates = 0
    first: dict[str, int] = {}
    keep = []
    for k, rec in enumerate(recs):
        j = first.setdefault(rec.id, k)
        if j == k:
            keep.append(k)
        elif recs[j].content_hash() == rec.content_hash():
            duplicates += 1
        else:
            reason = (f"id: {rec.id} is already used by {table.label(positions[j])} with different content; "
                      "not imported")
            rejects.append(_reject(table, checked.columns, positions[k], reason, conflict=True))
    recs, positions = [recs[k] for k in keep], [positions[k] for k in keep]

    if progress:
        progress("write", 0, len(recs))
    explicit = [k for k, p in enumerate(positions) if not checked.generated[p]]
    accepted = 0
    if dry_run:
        dups, conflicts = _existing(store, [recs[k] for k in explicit])
        drop = {explicit[i] for i in dups} | {explicit[i] for i, _ in conflicts}
        for i, reason in conflicts:
            rejects.append(_reject(table, checked.columns, positions[explicit[i]], reason, conflict=True))
        duplicates += len(dups)
        accepted = len(recs) - len(drop)
        stored_ids = [r.id for k, r in enumerate(recs) if k not in drop]
    else:
        batch = list(range(len(recs)))
        for _attempt in range(3):
            try:
                result = store.add_many([recs[k] for k in batch], user=user)
                break
            except ConflictError:
                # someone holds some of these ids with other content: find them and keep the rest
                cand = [k for k in batch if not checked.generated[positions[k]]]
                _, conflicts = _existing(store, [recs[k] for k in cand])
                if not conflicts:
                    raise
                bad = {cand[i] for i, _ in conflicts}
                for i, reason in conflicts:
                    rejects.append(_reject(table, checked.columns, positions[cand[i]], reason, conflict=True))
                batch = [k for k in batch if k not in bad]
        else:  # pragma: no cover - three rounds of writers racing on the same ids
            msg = f"{path}: other writers keep storing the same ids; nothing imported, try again"
            raise ConflictError(msg)
        accepted, duplicates = result.created, duplicates + result.unchanged
        stored_ids = [recs[k].id for k in batch]
    if progress:
        progress("write", len(recs), len(recs))

    rejects.sort(key=lambda r: r.pos)
    report = ImportReport(
        path=str(path), rows=n, accepted=accepted,
        rejected=sum(not r.conflict for r in rejects), duplicates=duplicates,
        conflicts=sum(r.conflict for r in rejects), dry_run=dry_run, rejects=rejects,
        columns={k: table.header[i] for k, i in checked.columns.fields.items()},
        ignored_columns=checked.columns.ignored, accepted_ids=stored_ids,
    )
    if checked.columns.geopoint is not None:
        report.columns["lat/lon"] = table.header[checked.columns.geopoint]
    if rejects_path is not None:
        write_rejects(checked, rejects, rejects_path)
        report.rejects_path = str(rejects_path)
    return report


# -- rejects file --------------------------------------------------------------------------------
def neutralise(value: Any, *, keep_numbers: bool = False) -> Any:
    """Prefix ``'`` to a text a spreadsheet would run as a formula (starts with = + - @ tab or CR).

    With ``keep_numbers`` a plain number such as ``-6.2`` or ``-6,2`` is left as it is.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if keep_numbers and _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def _cell_text(value: Any) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, shapely.Geometry):
        return shapely.to_wkt(value, rounding_precision=-1)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_rejects(checked: Checked, rejects: Sequence[Reject], out: str | os.PathLike) -> None:
    """Write the rejects file (see the module docstring); written whole, then moved into place."""
    table, out = checked.table, Path(out)
    header = [h for h in table.header if normalise_column(h) not in REJECT_COLUMNS]
    keep = [i for i, h in enumerate(table.header) if normalise_column(h) not in REJECT_COLUMNS]
    id_col = checked.columns.fields.get("id")
    add_id = id_col is None
    if add_id:
        header = ["id", *header]
    rows = []
    for r in rejects:
        cells = table.row_cells(r.pos)
        made = checked.ids[r.pos] if checked.generated[r.pos] else None
        if id_col is not None and made:
            cells[id_col] = made
        out_cells = [_cell_text(cells[i]) for i in keep]
        if add_id:
            out_cells = [made or "", *out_cells]
        rows.append([*(neutralise(c, keep_numbers=True) for c in out_cells), r.row, r.field, neutralise(r.reason)])
    tmp = out.with_name(f".{out.name}.partial")
    try:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, delimiter=table.delimiter or ",")
            w.writerow([*header, *REJECT_COLUMNS])
            w.writerows(rows)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        msg = f"cannot write the rejects file {out}: {exc.strerror or exc}"
        raise P4gnError(msg) from exc
