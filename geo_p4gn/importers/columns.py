from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import pandas as pd

from .._errors import P4gnError
from ..records import is_blank
from ._common import _GEOPOINT, ALL_REJECT_COLUMNS, COLUMN_NAMES, KOBO_DATE_COLUMNS, normalise_column
from .read import RawTable

_KOBO_GEO_PART = re.compile(r"_(?P<name>.+)_(?P<part>latitude|longitude)")

#: Fields a file must provide (the location may come from lat/lon, a geopoint, a geometry or a site).
REQUIRED = ("date", "type", "actor", "organisation")

# -- columns -------------------------------------------------------------------------------------


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
    ignored = tuple(h for i, h in enumerate(table.header) if i not in used and norm[i] not in ALL_REJECT_COLUMNS)
    return ColumnMap(fields, geopoint, kobo_date, ignored, location)


