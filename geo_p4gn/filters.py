"""Filters shared by the store, coverage, exports, the CLI and the app's URL query.

A :class:`Filters` is hashable (usable as a cache key) and round-trips through a flat dict of strings
(``to_query`` / ``from_query``) so that a planner's view can be shared as a link.

Examples
--------
>>> f = Filters(date_from=dt.date(2024, 1, 1), types=("deklarasi",))
>>> Filters.from_query(f.to_query()) == f
True
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from .records import parse_date
from .regions import kecamatan_codes, kota_codes

_LIST_FIELDS = ("types", "actors", "kota", "kecamatan", "kelurahan", "sites", "ikrn")


@dataclasses.dataclass(frozen=True)
class Filters:
    """Which records to look at. Empty tuples mean "all"; dates are inclusive days."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    kota: tuple[str, ...] = ()
    kecamatan: tuple[str, ...] = ()
    kelurahan: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    ikrn: tuple[str, ...] = ()

    def to_query(self) -> dict[str, str]:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, dt.date):
                out[f.name] = v.isoformat()
            elif v:
                out[f.name] = ",".join(v)
        return out

    @classmethod
    def from_query(cls, query) -> Filters:
        """From a mapping of strings (``st.query_params``, CLI); unknown keys are ignored."""
        kw = {}
        for name in ("date_from", "date_to"):
            if query.get(name):
                kw[name] = parse_date(query[name], name)
        for name in _LIST_FIELDS:
            if query.get(name):
                kw[name] = tuple(sorted({v.strip() for v in str(query[name]).split(",") if v.strip()}))
        return cls(**kw)

    def describe(self) -> dict[str, str]:
        """The active filters, for titles and report headers."""
        return self.to_query()

    def area_mask(self, codes: pd.Series) -> np.ndarray:
        """Which kelurahan codes pass the area filters: in any of the chosen kota, kecamatan or kelurahan
        (the levels are OR-ed; no area filter passes every code, a missing code passes only then).

        A new, writable array: callers combine it in place with their other conditions.
        """
        if not (self.kota or self.kecamatan or self.kelurahan):
            return np.ones(len(codes), dtype=bool)
        text = codes.astype(object)
        text = text.where(text.notna(), "").astype(str)
        keep = np.zeros(len(codes), dtype=bool)
        if self.kota:
            keep |= kota_codes(text).isin(self.kota).to_numpy(dtype=bool)
        if self.kecamatan:
            keep |= kecamatan_codes(text).isin(self.kecamatan).to_numpy(dtype=bool)
        if self.kelurahan:
            keep |= text.isin(self.kelurahan).to_numpy(dtype=bool)
        return keep

    def record_mask(self, records: pd.DataFrame, sites: pd.DataFrame | None = None) -> pd.Series:
        """Boolean mask of the records that pass (a multi-day record passes when it overlaps the window).

        ``records`` needs ``date``, ``end_date``, ``type_key``, ``actor_key``, ``kelurahan_code``,
        ``site_id``; ``sites`` (``id``, ``ikrn``) is needed only for the IKRN filter, which keeps the
        records at sites of those categories.
        """
        m = pd.Series(True, index=records.index)
        start = pd.to_datetime(records["date"])
        end = pd.to_datetime(records["end_date"]).fillna(start)
        if self.date_from:
            m &= end >= pd.Timestamp(self.date_from)
        if self.date_to:
            m &= start <= pd.Timestamp(self.date_to)
        if self.types:
            m &= records["type_key"].isin(self.types)
        if self.actors:
            m &= records["actor_key"].isin(self.actors)
        m &= self.area_mask(records["kelurahan_code"])
        if self.sites:
            m &= records["site_id"].isin(self.sites)
        if self.ikrn:
            if sites is None:
                msg = "the IKRN filter needs the site registry"
                raise ValueError(msg)
            keep = sites.loc[sites["ikrn"].isin(self.ikrn), "id"]
            m &= records["site_id"].isin(keep)
        return m.astype(bool)


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--from --to --type --actor --kota --kecamatan --kelurahan --site --ikrn`` to a CLI parser."""
    g = parser.add_argument_group("filters")
    g.add_argument("--from", dest="date_from", metavar="DATE", help="first day (YYYY-MM-DD or DD/MM/YYYY)")
    g.add_argument("--to", dest="date_to", metavar="DATE", help="last day, inclusive")
    for flag, dest in (("--type", "types"), ("--actor", "actors"), ("--kota", "kota"),
                       ("--kecamatan", "kecamatan"), ("--kelurahan", "kelurahan"), ("--site", "sites"),
                       ("--ikrn", "ikrn")):
        g.add_argument(flag, dest=dest, action="append", metavar="KEY",
                       help="repeat or comma-separate for several")


def filters_from_args(args: argparse.Namespace) -> Filters:
    query = {}
    for name in ("date_from", "date_to"):
        if getattr(args, name, None):
            query[name] = getattr(args, name)
    for name in _LIST_FIELDS:
        values = getattr(args, name, None)
        if values:
            query[name] = ",".join(values)
    return Filters.from_query(query)
