from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely.geometry

from .._errors import P4gnError, ValidationError
from ..records import is_blank
from . import limits
from ._common import COLUMN_NAMES, KOBO_DATE_COLUMNS, PY_WHITESPACE, normalise_column

_BLANK_TEXT = f"[{PY_WHITESPACE}]*"  # literal characters: valid for Arrow (RE2) and Python's re alike

_HXL_TAG = re.compile(r"#[a-z][a-z0-9_]*(\s*\+[a-z][a-z0-9_]*)*", re.IGNORECASE)

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


