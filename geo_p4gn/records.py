"""The intervention record: its fields, validation and content hash. Knows nothing about storage.

A record has no field for the names of residents or informants. Notes that hold something shaped like
a 16-digit NIK or a phone number are rejected with a reason.

Examples
--------
>>> from geo_p4gn.taxonomy import load_taxonomy
>>> r = validate_record({"date": "17/08/2024", "type": "seni_budaya", "actor": "Komunitas",
...                      "organisation": "Karang Taruna", "lon": 106.758576, "lat": -6.152569},
...                     taxonomy=load_taxonomy(), locate=lambda geom: "31.73.01.1004")
>>> r.date.isoformat(), r.actor_key, r.kelurahan_code
('2024-08-17', 'komunitas', '31.73.01.1004')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import operator
import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from . import _json, settings
from ._errors import ValidationError
from .taxonomy import Taxonomy

#: Columns of a stored intervention, in order (``geometry`` last).
FIELDS = (
    "id", "date", "end_date", "type_key", "actor_key", "organisation", "site_id", "kelurahan_code",
    "participants", "notes", "created_by", "created_at", "updated_by", "updated_at", "deleted", "version",
    "geometry",
)
#: The fields a user supplies; the content hash and the conflict check use these only.
CONTENT_FIELDS = (
    "date", "end_date", "type_key", "actor_key", "organisation", "site_id", "participants", "notes", "geometry",
)

# -- personal identifiers in free text -----------------------------------------------------------------
# Notes are normalised before they are matched (:func:`normalise_digits`), so that the way a number is
# written does not hide it: any Unicode digit, a letter O (or l/I) typed for a digit, any separator
# between digit groups (space, double space, tab, ``. - _ / \ ( ) |``, dashes) and ``+62 (0)``. Things
# that are numbers but never personal (dates, clock times, Kemendagri region codes, Rupiah amounts) are
# taken out first, so that they neither hide nor make up an identifier.
_SEP = r"[\s._/\\()|\[\]\u2010-\u2015\u2212-]"
_MASKS = (
    # dates: 17/08/2024, 17-8-2024, 17.08.2024, 2024-08-17, 2024/8/17 (the same separator twice)
    re.compile(r"(?<![\d.])(?:0?[1-9]|[12]\d|3[01])([./-])(?:0?[1-9]|1[0-2])\1(?:19|20)\d\d(?![.]?\d)"),
    re.compile(r"(?<![\d.])(?:19|20)\d\d([./-])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?![.]?\d)"),
    # clock times 08.00, 19:30 (alone: not a piece of a dotted number)
    re.compile(r"(?<![\d.:])(?:[01]?\d|2[0-3])[.:][0-5]\d(?![.:]?\d)"),
    # Kemendagri codes of kecamatan and kelurahan: 31.73.01, 31.73.01.1004
    re.compile(r"(?<![\d.])\d\d\.\d\d\.\d\d(?:\.\d{4})?(?![.]?\d)"),
    # Rupiah amounts: Rp 1.500.000, Rp1.500.000,00, IDR 2,500,000
    re.compile(r"(?i)(?:rp|idr)\.?\s*\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?(?!\d)"),
)
_LOOKALIKE = re.compile(r"(?<![^\W\d_])[\dOoIl]*\d[\dOoIl]*(?![^\W\d_])")
_LOOKALIKE_HINT = re.compile(r"[OoIl]\d|\d[OoIl]")
_LOOKALIKE_DIGITS = str.maketrans("OoIl", "0011")
_TRUNK_ZERO = re.compile(r"(\+\s*62|\b62)" + _SEP + r"*\(\s*0\s*\)")
_BETWEEN_DIGITS = re.compile(r"(?<=\d)" + _SEP + r"{1,4}(?=\+?\d)")
_ANY_DIGIT = re.compile(r"\d")
_NIK = re.compile(r"(?<!\d)(?:\d ?){15}\d(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:\+ ?62 ?|62 ?|0)\d(?: ?\d){7,13}(?!\d)")
#: The first two digits of a NIK: a province code (Kemendagri). 16 digits that start otherwise are a
#: list of years or an amount, not a NIK.
_PROVINCES = frozenset({11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63,
                        64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96, 97})


def normalise_digits(text: str) -> str:
    """``text`` as the NIK and phone checks read it: Unicode digits as ASCII, look-alike letters inside
    numbers as digits, dates, times, region codes and Rupiah amounts replaced by ``#``, ``+62 (0)`` as
    ``+62``, and every run of separators between two digits as one space.

    >>> normalise_digits("hp +62 (0)812_3456/789O, 17/08/2024, kel. 31.73.01.1004")
    'hp +62 812 3456 7890, #, kel. #'
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    if _LOOKALIKE_HINT.search(text):  # (the checks before each step only save time on imports)
        text = _LOOKALIKE.sub(lambda m: m[0].translate(_LOOKALIKE_DIGITS), text)
    for mask in _MASKS:
        text = mask.sub("#", text)
    if "(" in text:
        text = _TRUNK_ZERO.sub(r"\1 ", text)
    return _BETWEEN_DIGITS.sub(" ", text)


def personal_identifier(text: str) -> str | None:
    """``"nik"`` or ``"phone"`` when the text holds something shaped like a NIK (16 digits starting with a
    province code) or an Indonesian phone number (0, 62 or +62 and 8 to 14 more digits) however it is
    written; None otherwise."""
    if not any(c.isdecimal() for c in text) if not text.isascii() else not _ANY_DIGIT.search(text):
        return None  # the common case: no number at all
    norm = normalise_digits(text)
    for m in _NIK.finditer(norm):
        if int(m[0][:2]) in _PROVINCES:
            return "nik"
    if _PHONE.search(norm):
        return "phone"
    return None
_MAX_ORG = 200


@dataclasses.dataclass(frozen=True)
class Intervention:
    id: str
    date: dt.date
    type_key: str
    actor_key: str
    organisation: str
    geometry: BaseGeometry
    kelurahan_code: str | None = None
    end_date: dt.date | None = None
    site_id: str | None = None
    participants: int | None = None
    notes: str = ""
    created_by: str | None = None
    created_at: str | None = None
    updated_by: str | None = None
    updated_at: str | None = None
    deleted: bool = False
    version: int = 1

    def content(self) -> dict[str, Any]:
        """The user-supplied content as plain JSON-able values (geometry as WKT at 1e-7 degrees)."""
        return _content(self, shapely.to_wkt(self.geometry, rounding_precision=7, trim=True))

    def content_hash(self) -> str:
        return content_hashes([self])[0]

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in FIELDS}


def _content(rec: Intervention, wkt: str) -> dict[str, Any]:
    out = {f: getattr(rec, f) for f in CONTENT_FIELDS}
    out["geometry"] = wkt
    for f in ("date", "end_date"):
        if out[f] is not None:
            out[f] = out[f].isoformat()
    return out


_HASHED = tuple(f for f in CONTENT_FIELDS if f != "geometry")
# dates are the only content json cannot write itself: as isoformat(), like every hook (geo_p4gn._json)
_HASH_JSON = json.JSONEncoder(default=_json.default)


def content_hashes(recs: Sequence[Intervention]) -> list[str]:
    """The content hash of each record (geometry WKT computed in one vectorised call).

    Two records with the same hash hold the same user-supplied content; the store uses it to tell a
    retried write (a no-op) from a conflicting one.
    """
    # the JSON list of the content fields in CONTENT_FIELDS order (geometry last): canonical, and about 3x
    # faster to encode than a key-sorted dict; RecordColumns puts it together column by column
    if isinstance(recs, RecordColumns):
        return recs.content_hashes()
    return RecordColumns.from_records(recs).content_hashes()


def _content_hashes_plain(recs: Sequence[Intervention]) -> list[str]:
    """:func:`content_hashes` written plainly, one JSON list per record (the reference the tests compare with)."""
    wkts = shapely.to_wkt(np.array([r.geometry for r in recs], dtype=object), rounding_precision=7, trim=True)
    get, encode, sha256 = operator.attrgetter(*_HASHED), _HASH_JSON.encode, hashlib.sha256
    return [sha256(encode([*get(r), w]).encode()).hexdigest() for r, w in zip(recs, wkts, strict=True)]


def new_id() -> str:
    """A record id, made once: when a form opens or a row is read."""
    return str(uuid.uuid4())


def parse_date(value: Any, field: str = "date") -> dt.date:
    """ISO (2024-08-17, with or without a time) or dd/mm/yyyy (also dd-mm-yyyy, dd.mm.yyyy)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    try:
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if re.match(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        msg = f"{field}: {text!r} is not a real calendar day ({exc})"
        raise ValidationError(msg) from exc
    msg = f"{field}: {text!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)"
    raise ValidationError(msg)


def parse_number(value: Any, field: str) -> float:
    """A float from a number or a string with a decimal point or a decimal comma."""
    if isinstance(value, bool):
        msg = f"{field}: {value!r} is not a number"
        raise ValidationError(msg)
    if isinstance(value, int | float):
        x = float(value)
    else:
        text = str(value).strip().replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            x = float(text)
        except ValueError:
            msg = f"{field}: {value!r} is not a number"
            raise ValidationError(msg) from None
    if not math.isfinite(x):
        msg = f"{field}: {value!r} is not a finite number"
        raise ValidationError(msg)
    return x


def check_notes(text: str) -> str:
    """Return the notes, or raise when they are too long or hold a NIK or phone number."""
    text = (text or "").strip()
    if len(text) > settings.max_notes_chars:
        msg = f"notes: {len(text)} characters, more than the limit of {settings.max_notes_chars}"
        raise ValidationError(msg)
    found = personal_identifier(text)
    if found == "nik":
        msg = "notes: holds a 16-digit number shaped like a NIK; personal identifiers must not be recorded"
        raise ValidationError(msg)
    if found == "phone":
        msg = "notes: holds something shaped like a phone number; personal contacts must not be recorded"
        raise ValidationError(msg)
    return text


def is_blank(v: Any) -> bool:
    """None, NaN or an empty or blank string."""
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _geometry(raw: dict) -> BaseGeometry:
    geom = raw.get("geometry")
    if not is_blank(geom):
        if isinstance(geom, str):
            try:
                geom = shapely.from_wkt(geom)
            except shapely.errors.GEOSException as exc:
                msg = f"geometry: not readable WKT ({exc})"
                raise ValidationError(msg) from exc
        if not isinstance(geom, BaseGeometry):
            msg = f"geometry: {type(geom).__name__} is not a geometry"
            raise ValidationError(msg)
        if geom.geom_type not in ("Point", "Polygon", "MultiPolygon") or geom.is_empty:
            msg = f"geometry: a {geom.geom_type} (empty={geom.is_empty}) is not a point or a polygon"
            raise ValidationError(msg)
        coords = shapely.get_coordinates(geom)
        if not (coords.size and math.isfinite(coords.sum())):
            msg = "geometry: coordinates are not finite"
            raise ValidationError(msg)
        if not geom.is_valid:
            msg = f"geometry: invalid {geom.geom_type} ({shapely.is_valid_reason(geom)}); it is not repaired"
            raise ValidationError(msg)
        return geom
    if is_blank(raw.get("lon")) or is_blank(raw.get("lat")):
        msg = "lat/lon: a location is required (latitude and longitude, or a geometry)"
        raise ValidationError(msg)
    lon, lat = parse_number(raw["lon"], "lon"), parse_number(raw["lat"], "lat")
    return shapely.Point(lon, lat)


def validate_record(
    raw: dict,
    *,
    taxonomy: Taxonomy,
    locate: Callable[[BaseGeometry], str] | None = None,
    row: str | None = None,
) -> Intervention:
    """Validate a dict of user input and return an :class:`Intervention`.

    ``raw`` keys: id, date, end_date, type (key or label), actor (key or label), organisation,
    site_id, participants, notes, and either lon + lat or geometry (shapely or WKT). ``locate``
    (optional) maps the geometry to a kelurahan code or raises a :class:`LocationError` (see
    :meth:`geo_p4gn.boundaries.Boundaries.locate`): a form uses it for immediate feedback. The store
    assigns the authoritative code itself, in bulk, whatever the record carries. Errors name ``row``
    and the field.
    """
    prefix = f"{row}: " if row else ""
    try:
        rec_id = raw.get("id")
        if is_blank(rec_id):
            rec_id = new_id()
        else:
            try:
                rec_id = str(uuid.UUID(str(rec_id).strip().removeprefix("uuid:")))
            except ValueError:
                msg = f"id: {rec_id!r} is not a UUID"
                raise ValidationError(msg) from None
        if is_blank(raw.get("date")):
            raise ValidationError("date: required")
        date = parse_date(raw["date"])
        end = None if is_blank(raw.get("end_date")) else parse_date(raw["end_date"], "end_date")
        if end is not None and end < date:
            msg = f"end_date: {end} is before the date {date}"
            raise ValidationError(msg)
        if end == date:
            end = None
        if is_blank(raw.get("type")):
            raise ValidationError("type: required")
        type_key = taxonomy.resolve_type(raw["type"])
        if is_blank(raw.get("actor")):
            raise ValidationError("actor: required")
        actor_key = taxonomy.resolve_actor(raw["actor"])
        org = "" if is_blank(raw.get("organisation")) else " ".join(str(raw["organisation"]).split())
        if not org:
            raise ValidationError("organisation: required")
        if len(org) > _MAX_ORG:
            msg = f"organisation: longer than {_MAX_ORG} characters"
            raise ValidationError(msg)
        participants = None
        if not is_blank(raw.get("participants")):
            p = parse_number(raw["participants"], "participants")
            if p < 0 or p != int(p):
                msg = f"participants: {raw['participants']!r} is not a whole number >= 0"
                raise ValidationError(msg)
            participants = int(p)
        notes = check_notes("" if is_blank(raw.get("notes")) else str(raw["notes"]))
        site_id = None if is_blank(raw.get("site_id")) else str(raw["site_id"]).strip()
        geom = _geometry(raw)
        kel = locate(geom) if locate is not None else None
    except ValueError as exc:  # ValidationError and LocationError are both ValueErrors
        if not prefix:
            raise
        raise type(exc)(f"{prefix}{exc}") from exc
    return Intervention(
        id=rec_id, date=date, end_date=end, type_key=type_key, actor_key=actor_key, organisation=org,
        geometry=geom, kelurahan_code=kel, site_id=site_id, participants=participants, notes=notes,
    )


# -- many records as columns ----------------------------------------------------------------------------
#: The columns of a :class:`RecordColumns`: a record's id, its user-supplied content and its kelurahan.
BATCH_COLUMNS = ("id", *CONTENT_FIELDS[:-1], "kelurahan_code", "geometry")
_HASH_CHUNK = 20_000


class GeometryColumn:
    """Many geometries, points held as two float arrays (``lon``, ``lat``: 16 bytes a row where a shapely
    point is about 240) and other shapes as shapely objects (``shapes``: None where the row is the point).

    A slice (``col[start:stop]``) is the shapely array of those rows, made when asked for (the store
    writes a chunk at a time); ``col[i]`` one geometry; :meth:`take` another column; ``np.asarray(col)``
    the whole array.
    """

    __slots__ = ("lat", "lon", "shapes")

    def __init__(self, lon: np.ndarray, lat: np.ndarray, shapes: np.ndarray | None = None) -> None:
        self.lon, self.lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        self.shapes = np.full(len(self.lon), None, dtype=object) if shapes is None else shapes

    def __len__(self) -> int:
        return len(self.lon)

    def __getitem__(self, key):
        if isinstance(key, slice):
            out = self.shapes[key].copy()
            point = np.equal(out, None)
            if point.any():
                out[point] = shapely.points(self.lon[key][point], self.lat[key][point])
            return out
        g = self.shapes[key]
        return shapely.Point(self.lon[key], self.lat[key]) if g is None else g

    def __array__(self, dtype=None, copy=None):
        return self[:]

    def take(self, positions) -> GeometryColumn:
        return GeometryColumn(self.lon[positions], self.lat[positions], self.shapes[positions])

    def points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mask of the rows that are points, their x, their y) without making the points."""
        held = np.not_equal(self.shapes, None)
        mask = ~held
        x, y = self.lon.copy(), self.lat.copy()
        if held.any():
            shapes = self.shapes[held]
            is_pt = shapely.get_type_id(shapes) == 0
            mask[np.flatnonzero(held)[is_pt]] = True
            x[np.flatnonzero(held)] = np.where(is_pt, shapely.get_x(shapes), np.nan)
            y[np.flatnonzero(held)] = np.where(is_pt, shapely.get_y(shapes), np.nan)
        return mask, x, y

    def bounds(self) -> np.ndarray:
        """``shapely.bounds`` of every row (minx, miny, maxx, maxy)."""
        out = np.column_stack([self.lon, self.lat, self.lon, self.lat])
        held = np.flatnonzero(np.not_equal(self.shapes, None))
        if len(held):
            out[held] = shapely.bounds(self.shapes[held])
        return out


def geometry_points(geoms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask of the points, x, y) of a geometry array or a :class:`GeometryColumn`."""
    if isinstance(geoms, GeometryColumn):
        return geoms.points()
    mask = shapely.get_type_id(geoms) == 0
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    x[mask], y[mask] = shapely.get_x(geoms[mask]), shapely.get_y(geoms[mask])
    return mask, x, y


def geometry_bounds(geoms) -> np.ndarray:
    """``shapely.bounds`` of a geometry array or a :class:`GeometryColumn`."""
    return geoms.bounds() if isinstance(geoms, GeometryColumn) else shapely.bounds(geoms)


class RecordColumns(Sequence[Intervention]):
    """Many new records held as columns (one object array per field of :data:`BATCH_COLUMNS`), not as one
    :class:`Intervention` per record: an import of 200 000 rows holds about 100 bytes a row instead of
    about 1.8 KB (a dataclass with its ``__dict__`` per record), and the store writes them column by column.

    It is a sequence of records: ``batch[i]`` makes that one :class:`Intervention` when it is asked for,
    ``batch.take(positions)`` is another batch. Values are the ones an Intervention would hold (``date``
    objects, int participants, shapely geometries), so :meth:`content_hashes` equals
    :func:`content_hashes` of the same records.
    """

    __slots__ = ("_cols",)

    def __init__(self, columns: dict[str, Any]) -> None:
        n = len(columns["id"])
        cols = {}
        for c in BATCH_COLUMNS:
            v = columns.get(c)
            if isinstance(v, GeometryColumn):
                if len(v) != n:
                    msg = f"RecordColumns: column {c} has {len(v)} values, id has {n}"
                    raise ValueError(msg)
                cols[c] = v
                continue
            if v is None:
                default = "" if c == "notes" else None
                arr = np.full(n, default, dtype=object)
            else:
                arr = np.asarray(v, dtype=object) if not (isinstance(v, np.ndarray) and v.dtype == object) else v
                if arr.ndim != 1:  # np.asarray of a list of geometries stays 1-d; guard anything else
                    arr = np.fromiter(v, dtype=object, count=n)
            if len(arr) != n:
                msg = f"RecordColumns: column {c} has {len(arr)} values, id has {n}"
                raise ValueError(msg)
            cols[c] = arr
        self._cols = cols

    @classmethod
    def from_records(cls, recs: Sequence[Intervention]) -> RecordColumns:
        if isinstance(recs, RecordColumns):
            return recs
        recs = list(recs)
        cols = {}
        for c in BATCH_COLUMNS:
            arr = np.empty(len(recs), dtype=object)
            arr[:] = [getattr(r, c) for r in recs]
            cols[c] = arr
        return cls(cols)

    def __len__(self) -> int:
        return len(self._cols["id"])

    def column(self, name: str) -> np.ndarray:
        """One column as an object array (shared: treat as read-only); ``geometry`` may be a
        :class:`GeometryColumn` (slice it, or :func:`geometry_points` / :func:`geometry_bounds`)."""
        return self._cols[name]

    @property
    def ids(self) -> np.ndarray:
        return self._cols["id"]

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        if not isinstance(i, int | np.integer):
            return self.take(i)
        c = self._cols
        return Intervention(id=c["id"][i], date=c["date"][i], end_date=c["end_date"][i], type_key=c["type_key"][i],
                            actor_key=c["actor_key"][i], organisation=c["organisation"][i], site_id=c["site_id"][i],
                            participants=c["participants"][i], notes=c["notes"][i], geometry=c["geometry"][i],
                            kelurahan_code=c["kelurahan_code"][i])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def take(self, positions) -> RecordColumns:
        idx = np.asarray(positions, dtype=np.int64) if not isinstance(positions, np.ndarray) else positions
        return RecordColumns({c: v.take(idx) if isinstance(v, GeometryColumn) else v[idx] for c, v in self._cols.items()})

    def content_hashes(self) -> list[str]:
        """:func:`content_hashes` of these records, computed column by column in chunks (no record made)."""
        out: list[str] = []
        for k in range(0, len(self), _HASH_CHUNK):
            out.extend(self.content_hashes_slice(k, k + _HASH_CHUNK))
        return out

    def content_hashes_slice(self, start: int, stop: int) -> list[str]:
        """The hashes of rows ``start:stop``: the same JSON text as :func:`content_hashes` encodes, put
        together from each column's distinct values encoded once (most columns repeat a few values)."""
        c = self._cols
        wkts = shapely.to_wkt(c["geometry"][start:stop], rounding_precision=7, trim=True)
        parts = [_encoded(c[f][start:stop]).tolist() for f in _HASHED]
        parts.append([_ENCODE_TEXT(w) if isinstance(w, str) else _HASH_JSON.encode(w) for w in wkts.tolist()])
        sha256, join = hashlib.sha256, ", ".join  # JSONEncoder's list: "[" items joined by ", " "]"
        return [sha256(f"[{join(t)}]".encode()).hexdigest() for t in zip(*parts, strict=True)]


_ENCODE_TEXT = json.encoder.encode_basestring_ascii  # what _HASH_JSON (ensure_ascii) writes for a str


def _encoded(values: np.ndarray) -> np.ndarray:
    """Each value as _HASH_JSON encodes it. Each distinct object is encoded once: the importer's columns
    repeat the same few objects (one per distinct cell), and the same object always encodes alike."""
    if not len(values):
        return np.array([], dtype=object)
    codes, _ = pd.factorize(np.fromiter(map(id, values), dtype=np.int64, count=len(values)))
    top = np.maximum.accumulate(codes)  # codes are numbered in order of first appearance
    first = np.flatnonzero(np.r_[True, top[1:] > top[:-1]])
    encode = _HASH_JSON.encode
    return np.array([encode(values[i]) for i in first.tolist()], dtype=object)[codes]
