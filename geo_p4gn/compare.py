"""Two periods compared: per site or area, what was reached in both, newly reached, no longer reached, and
the change in intervention types and actor classes.

A pure function over the coverage tables of :mod:`geo_p4gn.coverage` (same inputs, same rules: a record
counts in a period when its days overlap it; every filter but the window applies to both periods).

Columns of :func:`compare_periods` (:data:`COLUMNS`): ``level``, ``code``, ``name``, ``kelurahan_code``,
``kecamatan_code``, ``kota_code``, ``target``, ``change`` (``both``: reached in both periods, ``new``: only in
the second, ``lost``: only in the first, ``neither``), ``interventions_a``, ``interventions_b``,
``interventions_change`` (b - a), ``types_a``, ``types_b`` (types done), ``types_gained``, ``types_lost``
(comma-separated keys, taxonomy order), ``actors_a``, ``actors_b``, ``actors_gained``, ``actors_lost``,
``organisations_a``, ``organisations_b``.

>>> import datetime as dt
>>> from geo_p4gn.taxonomy import load_taxonomy
>>> kel = pd.DataFrame({"code": ["31.73.01.1004"], "name": ["Kedaung Kali Angke"],
...     "kecamatan_code": ["31.73.01"], "kecamatan_name": ["Cengkareng"],
...     "kota_code": ["31.73"], "kota_name": ["Kota Administrasi Jakarta Barat"]})
>>> recs = pd.DataFrame({"id": ["r1"], "date": [dt.date(2025, 3, 1)], "end_date": [None],
...     "type_key": ["deklarasi"], "actor_key": ["komunitas"], "organisation": ["Karang Taruna"],
...     "site_id": [None], "kelurahan_code": ["31.73.01.1004"], "participants": [10], "deleted": [False]})
>>> t = compare_periods(recs, None, kel, load_taxonomy(), period("2024"), period("2025"))
>>> t.loc[0, ["code", "change", "types_gained"]].tolist()
['31.73.01.1004', 'new', 'deklarasi']
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from . import coverage
from ._errors import P4gnError
from .filters import Filters
from .records import parse_date
from .taxonomy import Taxonomy

COLUMNS = (
    "level", "code", "name", "kelurahan_code", "kecamatan_code", "kota_code", "target", "change",
    "interventions_a", "interventions_b", "interventions_change", "types_a", "types_b", "types_gained",
    "types_lost", "actors_a", "actors_b", "actors_gained", "actors_lost", "organisations_a", "organisations_b",
)


def period(text: str) -> tuple[dt.date, dt.date]:
    """A period as ``FROM..TO`` (inclusive days, ISO or DD/MM/YYYY) or a bare year (``2024``).

    >>> period("2024")
    (datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))
    >>> period("2024-07-01..31/12/2024")
    (datetime.date(2024, 7, 1), datetime.date(2024, 12, 31))
    """
    text = str(text).strip()
    if text.isdigit() and len(text) == 4:
        return dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
    start, sep, end = text.partition("..")
    if not sep:
        msg = f"period {text!r}: give FROM..TO (for example 2024-01-01..2024-12-31) or a year (2024)"
        raise P4gnError(msg)
    a, b = parse_date(start.strip(), "period start"), parse_date(end.strip(), "period end")
    if b < a:
        msg = f"period {text!r}: ends before it starts"
        raise P4gnError(msg)
    return a, b


def _done(missing: pd.Series, scope: tuple[str, ...]) -> list[set[str]]:
    return [set(scope) - set(m.split(",")) if isinstance(m, str) and m else set(scope) for m in missing]


def _keys(sets, scope) -> list[str]:
    return [",".join(k for k in scope if k in s) for s in sets]


def compare_periods(
    records: pd.DataFrame,
    sites: pd.DataFrame | None,
    areas,
    taxonomy: Taxonomy,
    a: tuple[dt.date, dt.date],
    b: tuple[dt.date, dt.date],
    filters: Filters | None = None,
    *,
    level: str = "kelurahan",
) -> pd.DataFrame:
    """Period ``a`` against period ``b`` (each ``(first day, last day)``) for every row of ``level``.

    ``filters`` (their window is replaced by each period) narrow the records and the rows as in
    :func:`geo_p4gn.coverage.coverage_table`. Rows are sorted by code. See the module docstring.
    """
    filters = filters or Filters()
    tables = []
    for start, end in (a, b):
        f = dataclasses.replace(filters, date_from=start, date_to=end)
        tables.append(coverage.coverage_table(records, sites, areas, taxonomy, level, f, as_of=end))
    ta, tb = (t.set_index("code") for t in tables)
    if not ta.index.equals(tb.index):  # pragma: no cover - the rows do not depend on the window
        msg = "compare_periods: the two periods have different rows"
        raise P4gnError(msg)
    types, actors = coverage._scope(taxonomy, filters)
    done = {}
    for name, t in (("a", ta), ("b", tb)):
        done[f"types_{name}"] = _done(t["missing_types"], types)
        done[f"actors_{name}"] = _done(t["missing_actors"], actors)
        # a row with no intervention has done nothing (missing lists every key then)
        reached = t["reached"].to_numpy(dtype=bool)
        for k in (f"types_{name}", f"actors_{name}"):
            done[k] = [s if r else set() for s, r in zip(done[k], reached, strict=True)]
    ra, rb = ta["reached"].to_numpy(dtype=bool), tb["reached"].to_numpy(dtype=bool)
    change = np.select([ra & rb, ~ra & rb, ra & ~rb], ["both", "new", "lost"], default="neither")
    out = pd.DataFrame({
        "level": level, "code": ta.index.to_numpy(dtype=object), "name": ta["name"].to_numpy(dtype=object),
        "kelurahan_code": ta["kelurahan_code"].to_numpy(dtype=object),
        "kecamatan_code": ta["kecamatan_code"].to_numpy(dtype=object),
        "kota_code": ta["kota_code"].to_numpy(dtype=object),
        "target": ta["target"].to_numpy(dtype=bool) | tb["target"].to_numpy(dtype=bool),
        "change": change,
        "interventions_a": ta["interventions"].to_numpy(dtype=np.int64),
        "interventions_b": tb["interventions"].to_numpy(dtype=np.int64),
    })
    out["interventions_change"] = out["interventions_b"] - out["interventions_a"]
    for what, scope in (("types", types), ("actors", actors)):
        sa, sb = done[f"{what}_a"], done[f"{what}_b"]
        out[f"{what}_a"] = np.array([len(s) for s in sa], dtype=np.int64)
        out[f"{what}_b"] = np.array([len(s) for s in sb], dtype=np.int64)
        out[f"{what}_gained"] = _keys([y - x for x, y in zip(sa, sb, strict=True)], scope)
        out[f"{what}_lost"] = _keys([x - y for x, y in zip(sa, sb, strict=True)], scope)
    out["organisations_a"] = ta["organisations"].to_numpy(dtype=np.int64)
    out["organisations_b"] = tb["organisations"].to_numpy(dtype=np.int64)
    return out[list(COLUMNS)].sort_values("code", kind="stable").reset_index(drop=True)
