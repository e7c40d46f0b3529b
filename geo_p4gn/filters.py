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
import re
import unicodedata

import numpy as np
import pandas as pd

from ._errors import P4gnError
from .column_codes import value_mask
from .records import parse_date
from .regions import codes_at, level_of, within, within_codes

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

    def areas(self) -> tuple[str, ...]:
        """The areas the area filters select, by the rule of :meth:`area_mask`: every chosen kota,
        kecamatan or kelurahan code except those holding a finer chosen one (sorted).

        >>> Filters(kota=("31.73",), kecamatan=("31.73.01",)).areas()  # a finer choice narrows
        ('31.73.01',)
        >>> Filters(kota=("31.73",), kecamatan=("31.71.02",)).areas()  # different branches add up
        ('31.71.02', '31.73')
        """
        chosen = set(self.kota) | set(self.kecamatan) | set(self.kelurahan)
        return tuple(sorted(c for c in chosen if not any(d != c and within(d, c) for d in chosen)))

    def area_mask(self, codes: pd.Series) -> np.ndarray:
        """Which kelurahan codes pass the area filters.

        The rule: a finer choice inside a coarser one narrows to it (kota Jakarta Barat + kecamatan
        Cengkareng = Cengkareng), choices in different branches add up (kecamatan Cengkareng + kelurahan
        Tanjung Priok = both). So a code passes when it lies in one of :meth:`areas`. No area filter
        passes every code; a missing code passes only then.

        A new, writable array: callers combine it in place with their other conditions.
        """
        if not (self.kota or self.kecamatan or self.kelurahan):
            return np.ones(len(codes), dtype=bool)
        text = codes.astype(object)
        text = text.where(text.notna(), "").astype(str)
        keep = np.zeros(len(codes), dtype=bool)
        by_level: dict[str, list[str]] = {}
        for area in self.areas():
            by_level.setdefault(level_of(area) or "", []).append(area)
        for level, chosen in by_level.items():
            if level in ("kota", "kecamatan", "kelurahan"):
                keep |= codes_at(text, level).isin(chosen).to_numpy(dtype=bool)
            else:  # a code of no known length: itself or anything inside it
                for area in chosen:
                    keep |= within_codes(text, area).to_numpy(dtype=bool)
        return keep

    def record_mask(self, records: pd.DataFrame, sites: pd.DataFrame | None = None) -> pd.Series:
        """Boolean mask of the records that pass (a multi-day record passes when it overlaps the window).

        ``records`` needs ``date``, ``end_date``, ``type_key``, ``actor_key``, ``kelurahan_code``,
        ``site_id``; ``sites`` (``id``, ``ikrn``) is needed only for the IKRN filter, which keeps the
        records at sites of those categories.
        """
        m = np.ones(len(records), dtype=bool)
        if self.date_from or self.date_to:
            start = _datetimes(records["date"])
            end = _datetimes(records["end_date"])
            end = np.where(np.isnat(end), start, end)
            if self.date_from:
                m &= end >= np.datetime64(self.date_from)
            if self.date_to:
                m &= start <= np.datetime64(self.date_to)
        # the text columns: each condition on the column's distinct values (geo_p4gn.column_codes), then by code
        if self.types:
            m &= value_mask(records["type_key"], lambda u: u.isin(self.types))
        if self.actors:
            m &= value_mask(records["actor_key"], lambda u: u.isin(self.actors))
        if self.kota or self.kecamatan or self.kelurahan:
            m &= value_mask(records["kelurahan_code"], self.area_mask)
        if self.sites:
            m &= value_mask(records["site_id"], lambda u: u.isin(self.sites))
        if self.ikrn:
            if sites is None:
                msg = "the IKRN filter needs the site registry"
                raise ValueError(msg)
            keep = sites.loc[sites["ikrn"].isin(self.ikrn), "id"]
            m &= value_mask(records["site_id"], lambda u: u.isin(keep))
        return pd.Series(m, index=records.index)


def _datetimes(values) -> np.ndarray:
    """A date column as a numpy datetime64 array (NaT when missing); no copy when it is datetime64 already."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        return values.to_numpy()
    return pd.to_datetime(values).to_numpy()


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


# -- filter values by code or name ----------------------------------------------------------------------------
#: What a filter value is matched against, per field (for messages).
_WHAT = {"kota": "kota", "kecamatan": "kecamatan", "kelurahan": "kelurahan", "sites": "site",
         "types": "intervention type", "actors": "actor class", "ikrn": "IKRN category"}
#: The command-line option of each field (for messages).
OPTION = {"types": "--type", "actors": "--actor", "kota": "--kota", "kecamatan": "--kecamatan",
          "kelurahan": "--kelurahan", "sites": "--site", "ikrn": "--ikrn"}
_PREFIX = re.compile(r"^(kota administrasi|kabupaten administrasi|kota adm|kab adm|kabupaten|kota|kab"
                     r"|kecamatan|kec|kelurahan|kel|desa)\b\s*")


class FilterValueError(P4gnError):
    """Filter values that match nothing (or several things). ``problems`` lists ``(field, value, reason)``
    with ``reason`` ``"unknown"`` or ``"ambiguous"``; ``candidates[(field, value)]`` the codes an
    ambiguous name matched; ``resolved`` the filters with the values that did match (for a view that
    drops the others and says so)."""

    def __init__(self, problems: list[tuple[str, str, str]], candidates: dict | None = None,
                 resolved: Filters | None = None) -> None:
        self.problems = problems
        self.candidates = candidates or {}
        self.resolved = resolved
        parts = []
        for field, value, reason in problems:
            what = _WHAT.get(field, field)
            if reason == "ambiguous":
                codes = ", ".join(self.candidates.get((field, value), ()))
                parts.append(f"{OPTION.get(field, field)} {value!r}: more than one {what} has this name "
                             f"({codes}); give the code")
            else:
                parts.append(f"{OPTION.get(field, field)} {value!r}: no {what} has this code or name")
        super().__init__("; ".join(parts))


def normalise_name(text: str) -> str:
    """A name as compared by :func:`resolve_filters`: no accents, case, punctuation, spaces or
    administrative prefix ("Kota Administrasi", "Kecamatan", "Kel.").

    >>> normalise_name("Kota Administrasi Jakarta Barat") == normalise_name("jakarta  barat")
    True
    >>> normalise_name("Pal Merah"), normalise_name("Kel. Tanjung Priok"), normalise_name("Cílíncing")
    ('palmerah', 'tanjungpriok', 'cilincing')
    """
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())
    stripped = _PREFIX.sub("", text)
    return (stripped or text).replace(" ", "")


def _index(pairs) -> tuple[set[str], dict[str, set[str]]]:
    """``(codes, {normalised name: codes})`` from ``(code, name, name, ...)`` tuples."""
    codes, names = set(), {}
    for code, *labels in pairs:
        if not isinstance(code, str) or not code:
            continue
        codes.add(code)
        for label in labels:
            for one in (label if isinstance(label, (list, tuple)) else [label]):
                if isinstance(one, str) and one.strip():
                    names.setdefault(normalise_name(one), set()).add(code)
    return codes, names


def _lookups(areas, sites, taxonomy) -> dict[str, tuple[set[str], dict[str, set[str]]]]:
    out = {}
    if areas is not None:
        kel = getattr(areas, "kelurahan", areas)
        out["kelurahan"] = _index(zip(kel["code"], kel["name"], strict=True))
        out["kecamatan"] = _index(set(zip(kel["kecamatan_code"], kel["kecamatan_name"], strict=True)))
        out["kota"] = _index(set(zip(kel["kota_code"], kel["kota_name"], strict=True)))
    if sites is not None:
        aliases = sites["aliases"] if "aliases" in sites.columns else [()] * len(sites)
        out["sites"] = _index(zip(sites["id"], sites["name"], aliases, strict=True))
    if taxonomy is not None:
        for field, group in (("types", "types"), ("actors", "actors"), ("ikrn", "ikrn")):
            out[field] = _index((t.key, t.key, t.id, t.en) for t in getattr(taxonomy, group))
    return out


def resolve_filters(filters: Filters, *, areas=None, sites: pd.DataFrame | None = None, taxonomy=None) -> Filters:
    """``filters`` with every value replaced by the code or key it names; raise :class:`FilterValueError`
    naming each value that matches nothing (or, for a name, several things).

    A value is matched by its exact code or key first, then by name, ignoring case, accents, spaces,
    punctuation and the administrative prefix: "Jakarta Barat" finds "Kota Administrasi Jakarta Barat",
    "palmerah" finds "Pal Merah". Kota, kecamatan and kelurahan come from ``areas`` (the kelurahan table
    or a Boundaries), sites by id, name or alias, types, actors and IKRN categories by key or either
    label of ``taxonomy``. A field whose lookup is not given is left as it is.

    >>> kel = pd.DataFrame({"code": ["31.73.01.1004"], "name": ["Kedaung Kali Angke"],
    ...     "kecamatan_code": ["31.73.01"], "kecamatan_name": ["Cengkareng"],
    ...     "kota_code": ["31.73"], "kota_name": ["Kota Administrasi Jakarta Barat"]})
    >>> resolve_filters(Filters(kota=("Jakarta Barat",), kecamatan=("cengkareng",)), areas=kel).areas()
    ('31.73.01',)
    >>> resolve_filters(Filters(kota=("Jakarta Bart",)), areas=kel)
    Traceback (most recent call last):
    ...
    geo_p4gn.filters.FilterValueError: --kota 'Jakarta Bart': no kota has this code or name
    """
    lookups = _lookups(areas, sites, taxonomy)
    problems: list[tuple[str, str, str]] = []
    candidates: dict = {}
    changes = {}
    for field, (codes, names) in lookups.items():
        resolved = []
        for value in getattr(filters, field):
            if value in codes:
                resolved.append(value)
                continue
            found = names.get(normalise_name(value), set())
            if len(found) == 1:
                resolved.extend(found)
            elif found:
                problems.append((field, value, "ambiguous"))
                candidates[(field, value)] = tuple(sorted(found))
            else:
                problems.append((field, value, "unknown"))
        changes[field] = tuple(sorted(set(resolved)))
    resolved = dataclasses.replace(filters, **changes)
    if problems:
        raise FilterValueError(problems, candidates, resolved)
    return resolved
