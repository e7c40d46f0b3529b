from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely.geometry

from .._errors import LocationError, ValidationError
from ..boundaries import ASSIGNED, _raise_for
from ..records import (
    _MAX_ORG,
    BATCH_COLUMNS,
    GeometryColumn,
    Intervention,
    RecordColumns,
    check_notes,
    is_blank,
    parse_date,
    parse_number,
    validate_record,
)
from ..spreadsheet import unneutralise
from . import reasons
from ._common import _GEOPOINT, Progress, _bulk, normalise_column
from .columns import ColumnMap, map_columns
from .read import MAX_REASON_CHARS, QUOTE_CHARS, RawTable, _blank_mask, _is_text, _shorten

_MESSAGE_FIELD = re.compile(r"(?P<field>[a-z_/]+)(?P<detail> \([^)]*\))?: ")

_WIB = dt.timezone(dt.timedelta(hours=7))

_DECIMAL_COMMA = r"[+-]?\d+,\d+"

_DECIMAL_POINT = r"[+-]?\d+(?:\.\d+)?"

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# -- values --------------------------------------------------------------------------------------
#: Undo the formula neutralisation of our exports and rejects files ("'=x" -> "=x").
_unquote = unneutralise


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


#: The namespace of the ids made from a row's content and source (:func:`content_ids`); never change it,
#: or every file imported before would be stored again.
ROW_ID_NAMESPACE = uuid.UUID("6f1d2c4e-1d3a-5b7e-9c1f-7a2b3c4d5e6f")


def _canon(value: Any) -> str:
    """A cell as text for :func:`content_ids`: spacing collapsed, 17.0 as 17, a blank as ""."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return " ".join(str(value).split())


def source_name(source: str | os.PathLike | None) -> str:
    """The source part of a content id: the file's name without its folder, case and outer spaces.

    >>> source_name("/tmp/upload-x/Laporan BNNK.xlsx") == source_name("laporan bnnk.XLSX")
    True
    """
    return os.path.basename(str(source or "")).strip().casefold()


def content_ids(table: RawTable, cmap: ColumnMap, rows: np.ndarray, source: str = "") -> list[str]:
    """Stable ids for the rows at positions ``rows`` (sorted), made from their content and their source.

    The content is the row's cells in the columns the importer reads (each field's column, the Kobo
    geopoint and date columns; ignored columns, the column order and the header spelling do not count),
    the source :func:`source_name`. Rows with the same content and source are told apart by their
    order (the first such row, the second, ...), so two identical rows of one file stay two records,
    and the same file imported again gives every row the same id: nothing is added twice. The id is a
    UUID (version 5 of :data:`ROW_ID_NAMESPACE`).
    """
    if not len(rows):
        return []
    cols = sorted({(key, i) for key, i in cmap.fields.items() if key != "id"}
                  | ({("geopoint", cmap.geopoint)} if cmap.geopoint is not None else set())
                  | {(f"kobo:{normalise_column(name)}", i) for name, i in cmap.kobo_date})
    seen: dict[bytes, int] = {}  # how many rows of each content so far, keyed on a digest of the content
    src = source_name(source)
    out = []
    for start in range(0, len(rows), _ID_CHUNK):  # a chunk of rows at a time: no Python string per cell
        chunk = rows[start:start + _ID_CHUNK]
        parts = [table.cells[i].iloc[chunk].to_numpy(dtype=object) for _, i in cols]
        keys = [json.dumps([[k, _canon(v)] for (k, _), v in zip(cols, cells, strict=True)], ensure_ascii=False)
                for cells in zip(*parts, strict=True)] if parts else ["[]"] * len(chunk)
        for key in keys:
            digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
            n = seen.get(digest, 0)
            seen[digest] = n + 1
            out.append(str(uuid.uuid5(ROW_ID_NAMESPACE, f"{src}\x1f{key}\x1f{n}")))
    return out


_ID_CHUNK = 10_000


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
    rest = np.flatnonzero(rest)
    values = col.iloc[rest].to_numpy(dtype=object) if len(rest) else []  # (not a Python string per cell)
    for i, v in zip(rest.tolist(), values, strict=True):
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
    #: The parts of ``reason``: ``row 7``, the detail (`` (vertex 2)``) and the English text after the column.
    label: str = ""
    detail: str = ""
    text: str = ""

    def reason_in(self, lang: str = "id") -> str:
        """The reason in ``lang`` (``"id"`` or ``"en"``), naming the column by the file's own header."""
        if lang == "en" or not self.label:
            return self.reason
        return (f"{reasons.label(self.label, lang)}: {self.field}{reasons.label(self.detail, lang)}: "
                f"{reasons.translate(self.text, lang)}")


@dataclasses.dataclass
class Checked:
    """The result of :func:`check_table`: valid records (kelurahan assigned) and rejects. ``records`` is a
    :class:`~geo_p4gn.records.RecordColumns`: a sequence of Interventions held as columns."""

    table: RawTable
    columns: ColumnMap
    records: RecordColumns
    positions: list[int]  # position in the table of each record
    rejects: list[Reject]
    ids: list[Any]  # the id each row was given when read (None when its id cell is not a UUID)
    generated: np.ndarray  # True where that id was made by the importer


def _reject(table: RawTable, cmap: ColumnMap, pos: int, exc_or_msg: Exception | str, field: str | None = None,
            conflict: bool = False) -> Reject:
    """A Reject whose reason reads ``"row 7: tanggal: ..."``, naming the column by the file's own header."""
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
    return Reject(pos, int(table.rows[pos]), source, f"{label}: {source}{detail}: {text}", conflict,
                  label=label, detail=detail, text=text)


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
    source: str | None = None,
) -> Checked:
    """Validate every row of a table and place it in a kelurahan; no store is touched.

    Returns the valid records (``kelurahan_code`` set) and one :class:`Reject` per other row, each
    naming the row, the file's column and the reason. See the module docstring for how rows are
    validated in bulk with validate_record's rules. A row without an id gets one from its content and
    ``source`` (the file's name; default the table's path): :func:`content_ids`.
    """
    with _bulk():
        return _check_table(table, taxonomy, boundaries, sites, progress, source)


def _check_table(table: RawTable, taxonomy, boundaries, sites, progress, source=None) -> Checked:
    source = table.path if source is None else source
    cmap = map_columns(table)
    n = len(table)

    def col(key: str) -> pd.Series | None:
        i = cmap.fields.get(key)
        return None if i is None else table.cells[i]

    def raw(key: str) -> np.ndarray:
        c = col(key)
        return np.full(n, None, dtype=object) if c is None else c.to_numpy(dtype=object, copy=True)

    # ids: the file's, else made from the row's content and source (the rejects file carries them)
    id_raw = raw("id")
    generated = _blank_mask(col("id")) if col("id") is not None else np.ones(n, dtype=bool)
    ids = id_raw.copy()
    ids[generated] = content_ids(table, cmap, np.flatnonzero(generated), source)
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
    point_xy: dict[int, tuple[float, float]] = {}  # GeoJSON points: their (lon, lat) stand for the cells
    lat_blank = np.ones(n, dtype=bool) if lat_col is None else _blank_mask(lat_col)
    lon_blank = np.ones(n, dtype=bool) if lon_col is None else _blank_mask(lon_col)
    geoms = raw("geometry")
    geom_blank = np.ones(n, dtype=bool) if col("geometry") is None else _blank_mask(col("geometry"))
    for i in np.flatnonzero(~geom_blank & lat_blank & lon_blank):  # a GeoJSON point is a lon/lat pair
        g = geoms[i]
        if isinstance(g, shapely.Point) and not g.is_empty and not g.has_z:
            lon[i], lat[i], point_xy[int(i)], geoms[i] = g.x, g.y, (g.x, g.y), None
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
    # the cells of those rows only (a Python string per cell of every row would be most of the memory)
    at = np.array(todo, dtype=np.int64)
    cells = {k: _cells_at(col(k), at) for k in ("end_date", "type", "actor", "organisation", "participants", "notes",
                                                 "site_id")}
    day_cells, lat_cells, lon_cells = _cells_at(date_col, at), _cells_at(lat_col, at), _cells_at(lon_col, at)
    for j, i in enumerate(todo):
        rec_raw = {k: _unquote(v[j]) for k, v in cells.items()}
        x, y = point_xy.get(i) or (_unquote(lon_cells[j]), _unquote(lat_cells[j]))
        rec_raw.update(
            id=ids[i], date=_unquote(day_cells[j]), site_id=None if bad_site[i] else site_ids[i],
            lat=lat[i] if from_site[i] else y, lon=lon[i] if from_site[i] else x,
            geometry=_unquote(geoms[i]),
        )
        try:
            rec = validate_record(rec_raw, taxonomy=taxonomy, row=table.label(i))
        except ValueError as exc:
            if bad_site[i] and str(exc).startswith(f"{table.label(i)}: lat/lon"):
                rejects[i] = _reject(table, cmap, i, finder.reason(cells["site_id"][j]), field="site_id")
            else:
                rejects[i] = _reject(table, cmap, i, exc)
            continue
        if bad_site[i]:
            rejects[i] = _reject(table, cmap, i, finder.reason(cells["site_id"][j]), field="site_id")
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
        code_of, uniques = pd.factorize(res["kelurahan_code"])  # one string per kelurahan, not one per row
        codes[point_pos[ok]] = np.append(np.asarray(uniques, dtype=object), [None])[code_of][ok]
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

    # the records, in file order, as columns: no Intervention per row (issue 10: memory within ~10x the file)
    good = fast.copy()
    slow_ok = [i for i in slow if i not in rejects]
    good[slow_ok] = True
    positions = np.flatnonzero(good)
    columns = {"id": ids, "date": dates, "end_date": ends, "type_key": types, "actor_key": actors,
               "organisation": orgs, "site_id": site_ids, "participants": parts, "notes": notes,
               "kelurahan_code": _interned(codes)}
    every = len(positions) == n and not slow_ok  # (no copy: nothing below changes these arrays)
    out: dict[str, Any] = {f: v if every else v[positions] for f, v in columns.items()}
    del columns
    # points as their coordinates (a shapely point per row would be 240 bytes), other shapes as they are
    geometry = out["geometry"] = GeometryColumn(lon[positions], lat[positions])
    for k, i in zip(np.searchsorted(positions, slow_ok).tolist(), slow_ok, strict=True):
        rec = slow[i]
        for f in BATCH_COLUMNS:
            if f == "geometry":
                geometry.shapes[k] = rec.geometry
            else:
                out[f][k] = codes[i] if f == "kelurahan_code" else getattr(rec, f)
    if progress:
        progress("locate", n, n)
    return Checked(
        table=table, columns=cmap, records=RecordColumns(out), positions=positions.tolist(),
        rejects=sorted(rejects.values(), key=lambda r: r.pos),
        ids=[None if bad_id[i] else ids[i] for i in range(n)], generated=generated,
    )


def _cells_at(col: pd.Series | None, rows: np.ndarray) -> np.ndarray:
    """The cells of ``col`` at positions ``rows`` as objects (None for every row when there is no column)."""
    if col is None:
        return np.full(len(rows), None, dtype=object)
    return col.iloc[rows].to_numpy(dtype=object) if len(rows) else np.array([], dtype=object)


def _interned(values: np.ndarray) -> np.ndarray:
    """An object array whose equal strings are one object (the kelurahan codes of 200 000 rows come from
    Arrow as 200 000 strings; a few hundred distinct ones are enough)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.append(np.asarray(uniques, dtype=object), [None])[codes]


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


