"""Coverage at every level for 1M synthetic records over the real 267 kelurahan, against DuckDB.

Usage: ``python bench/bench_coverage.py [--n 1000000] [--sites 400] [--repeat 5]``
(``GEO_P4GN_BOUNDARY_MIRROR`` as for the tests). Prints the time of ``coverage.coverage_tables`` for all
five levels and the time DuckDB takes to compute the same table from the same frames in the same run
(goal: <= 0.3 s and <= 1.5x DuckDB), then checks that both give the same numbers. It asserts nothing
about time; it exits 1 only when the numbers differ.

The synthetic records have the columns of ``Store.list()``: datetime64 dates, pandas ``str`` columns, nullable
participants, 1 % soft-deleted, 5 % multi-day (the 2023 window cuts some at both ends), 1 % of a type that
is no longer in the taxonomy, organisation names that differ only in case and spacing. The same records with
``datetime.date`` objects in the date columns (what ``GeoPackageStore.list()`` returns) are timed too: the
conversion of a million Python dates is paid by pandas whoever computes the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

import duckdb
import numpy as np
import pandas as pd

from geo_p4gn import coverage
from geo_p4gn.boundaries import load_boundaries
from geo_p4gn.filters import Filters
from geo_p4gn.taxonomy import load_taxonomy

WINDOW = Filters(date_from=dt.date(2023, 1, 1), date_to=dt.date(2023, 12, 31))
AS_OF = dt.date(2024, 6, 30)
COMPARED = ("interventions", "participants", "participants_reported", "organisations", "types_done",
            "actors_done", "reached", "covered", "last_date", "days_since_last", "target_sites",
            "sites_reached", "sites_covered", "pct_sites_reached", "pct_sites_covered")


def synthetic(n: int, n_sites: int, kel_codes: np.ndarray, taxonomy, seed: int = 7):
    rng = np.random.default_rng(seed)
    ikrn = np.array([*taxonomy.ikrn_keys, None], dtype=object)
    site_ids = np.array([f"site-{i:04d}" for i in range(n_sites)], dtype=object)
    site_kel = kel_codes[rng.integers(0, len(kel_codes), n_sites)]
    sites = pd.DataFrame({
        "id": site_ids, "name": [f"Site {i}" for i in range(n_sites)], "aliases": [[]] * n_sites,
        "kelurahan_code": site_kel, "approximate": True, "ikrn": ikrn[rng.integers(0, len(ikrn), n_sites)],
        "sources": [[]] * n_sites, "geometry": None,
    })

    base_orgs = [f"Organisasi {i}" for i in range(3000)]
    variants = np.array(base_orgs + [o.upper() for o in base_orgs[:300]]
                        + [f" {o.lower().replace(' ', '  ')} " for o in base_orgs[300:600]], dtype=object)
    types = np.array([*taxonomy.type_keys, "posko"], dtype=object)
    type_p = np.r_[np.full(len(types) - 1, 0.99 / (len(types) - 1)), 0.01]
    actors = np.array(taxonomy.actor_keys, dtype=object)

    at_site = rng.random(n) < 0.4
    site_pick = rng.integers(0, n_sites, n)
    kel = np.where(at_site, site_kel[site_pick], kel_codes[rng.integers(0, len(kel_codes), n)])
    start = np.datetime64("2022-01-01") + rng.integers(0, 3 * 365, n).astype("timedelta64[D]")
    multi = rng.random(n) < 0.05
    end = np.where(multi, start + rng.integers(1, 60, n).astype("timedelta64[D]"), np.datetime64("NaT"))
    participants = np.where(rng.random(n) < 0.8, rng.integers(5, 300, n), -1)
    records = pd.DataFrame({
        "id": pd.array([f"r{i:07d}" for i in range(n)], dtype="str"),
        "date": start.astype("datetime64[ms]"),
        "end_date": end.astype("datetime64[ms]"),
        "type_key": pd.array(rng.choice(types, n, p=type_p), dtype="str"),
        "actor_key": pd.array(actors[rng.integers(0, len(actors), n)], dtype="str"),
        "organisation": pd.array(variants[rng.integers(0, len(variants), n)], dtype="str"),
        "site_id": pd.array(np.where(at_site, site_ids[site_pick], None), dtype="str"),
        "kelurahan_code": pd.array(kel, dtype="str"),
        "participants": pd.array(np.where(participants >= 0, participants, None), dtype="Int64"),
        "deleted": rng.random(n) < 0.01,
    })
    return records, sites


def duckdb_table(con, taxonomy, types: tuple[str, ...], actors: tuple[str, ...]) -> pd.DataFrame:
    """The same table in SQL (frames registered as rec, sites, kel)."""
    n_types = len(types)
    t_list = ", ".join(f"'{t}'" for t in types)
    a_list = ", ".join(f"'{a}'" for a in actors)
    d_from, d_to, as_of = WINDOW.date_from, WINDOW.date_to, AS_OF
    agg = f"""
        count(*) FILTER (WHERE win) AS interventions,
        sum(p) FILTER (WHERE win) AS p_sum,
        count(p) FILTER (WHERE win) AS participants_reported,
        count(DISTINCT org) FILTER (WHERE win) AS organisations,
        count(DISTINCT type_key) FILTER (WHERE win AND type_key IN ({t_list})) AS types_done,
        count(DISTINCT actor_key) FILTER (WHERE win AND actor_key IN ({a_list})) AS actors_done,
        max(last_day) AS last_day"""
    sql = f"""
    WITH orgs AS (
        SELECT organisation, lower(regexp_replace(trim(organisation), '\\s+', ' ', 'g')) AS org
        FROM (SELECT DISTINCT organisation FROM rec)
    ),
    b AS (
        SELECT r.site_id, r.kelurahan_code, r.type_key, r.actor_key, o.org, r.participants AS p,
               coalesce(r.end_date, r.date)::DATE >= DATE '{d_from}' AS win,
               least(coalesce(r.end_date, r.date)::DATE, DATE '{d_to}') AS last_day
        FROM rec r LEFT JOIN orgs o USING (organisation)
        WHERE NOT r.deleted AND r.date::DATE <= DATE '{d_to}'
    ),
    site_agg AS (
        SELECT s.id AS code, {agg}
        FROM sites s LEFT JOIN b ON b.site_id = s.id GROUP BY s.id
    ),
    site_status AS (
        SELECT code, interventions > 0 AS reached,
               interventions > 0 AND types_done = {n_types} AS covered
        FROM site_agg
    ),
    area_agg AS (
        SELECT CASE WHEN grouping(k.code) = 0 THEN 'kelurahan' WHEN grouping(k.kecamatan_code) = 0 THEN 'kecamatan'
                    WHEN grouping(k.kota_code) = 0 THEN 'kota' ELSE 'province' END AS level,
               coalesce(k.code, k.kecamatan_code, k.kota_code, '31') AS code, {agg}
        FROM kel k LEFT JOIN b ON b.kelurahan_code = k.code
        GROUP BY GROUPING SETS ((k.code), (k.kecamatan_code), (k.kota_code), ())
    ),
    area_targets AS (
        SELECT CASE WHEN grouping(k.code) = 0 THEN 'kelurahan' WHEN grouping(k.kecamatan_code) = 0 THEN 'kecamatan'
                    WHEN grouping(k.kota_code) = 0 THEN 'kota' ELSE 'province' END AS level,
               coalesce(k.code, k.kecamatan_code, k.kota_code, '31') AS code,
               count(ss.code) AS target_sites, count(ss.code) FILTER (WHERE ss.reached) AS sites_reached,
               count(ss.code) FILTER (WHERE ss.covered) AS sites_covered
        FROM kel k LEFT JOIN sites s ON s.kelurahan_code = k.code LEFT JOIN site_status ss ON ss.code = s.id
        GROUP BY GROUPING SETS ((k.code), (k.kecamatan_code), (k.kota_code), ())
    ),
    rows AS (
        SELECT 'site' AS level, a.*, 1 AS target_sites, ss.reached::INT AS sites_reached,
               ss.covered::INT AS sites_covered
        FROM site_agg a JOIN site_status ss USING (code)
        UNION ALL
        SELECT a.*, t.target_sites, t.sites_reached, t.sites_covered
        FROM area_agg a JOIN area_targets t USING (level, code)
    )
    SELECT level, code, interventions,
           CASE WHEN interventions = 0 THEN 0 ELSE p_sum END AS participants,
           participants_reported, organisations, types_done, actors_done,
           interventions > 0 AS reached, interventions > 0 AND types_done = {n_types} AS covered,
           last_day AS last_date, greatest(DATE '{as_of}' - last_day, 0) AS days_since_last,
           target_sites, sites_reached, sites_covered,
           CASE WHEN target_sites > 0 THEN 100.0 * sites_reached / target_sites END AS pct_sites_reached,
           CASE WHEN target_sites > 0 THEN 100.0 * sites_covered / target_sites END AS pct_sites_covered
    FROM rows
    """
    return con.execute(sql).df()


def _timed(fn, repeat: int):
    """Result, best and median wall time, and the process CPU time of the best run (all threads)."""
    runs, out = [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        runs.append((time.perf_counter() - t0, time.process_time() - c0))
    best = min(runs)
    return out, best[0], statistics.median(r[0] for r in runs), best[1]


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["level", "code", *COMPARED]].copy()
    out["level"] = out["level"].astype(str)
    out["code"] = out["code"].astype(str)
    out["last_date"] = pd.to_datetime(out["last_date"]).astype("datetime64[s]")
    for col in ("interventions", "participants", "participants_reported", "organisations", "types_done",
                "actors_done", "days_since_last", "target_sites", "sites_reached", "sites_covered"):
        out[col] = out[col].astype("Int64")
    for col in ("reached", "covered"):
        out[col] = out[col].astype(bool)
    for col in ("pct_sites_reached", "pct_sites_covered"):
        out[col] = out[col].astype("float64")
    return out.sort_values(["level", "code"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic records (default 1,000,000)")
    parser.add_argument("--sites", type=int, default=400, help="synthetic target sites (default 400)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    boundaries = load_boundaries()
    taxonomy = load_taxonomy()
    kel = boundaries.kelurahan.drop(columns="geometry")
    t0 = time.perf_counter()
    records, sites = synthetic(args.n, args.sites, kel["code"].to_numpy(dtype=object), taxonomy, args.seed)
    made = time.perf_counter() - t0

    def ours():
        return coverage.coverage_tables(records, sites, kel, taxonomy, WINDOW, as_of=AS_OF)

    con = duckdb.connect()
    con.register("rec", records)
    con.register("sites", sites[["id", "kelurahan_code"]])
    con.register("kel", kel[["code", "kecamatan_code", "kota_code"]])
    types = tuple(t.key for t in taxonomy.types if t.active)
    actors = tuple(a.key for a in taxonomy.actors if a.active)

    def theirs():
        return duckdb_table(con, taxonomy, types, actors)

    as_dates = records.assign(date=records["date"].dt.date, end_date=records["end_date"].dt.date.astype(object))
    as_dates["end_date"] = as_dates["end_date"].where(records["end_date"].notna(), None)

    def ours_dates():
        return coverage.coverage_tables(as_dates, sites, kel, taxonomy, WINDOW, as_of=AS_OF)

    ours(), theirs()  # warm up (imports, caches) before timing
    tables, best, median, cpu = _timed(ours, args.repeat)
    sql, d_best, d_median, d_cpu = _timed(theirs, args.repeat)
    tables_d, o_best, o_median, o_cpu = _timed(ours_dates, args.repeat)

    mine = _normalise(pd.concat(tables.values(), ignore_index=True))
    mine_d = _normalise(pd.concat(tables_d.values(), ignore_index=True))
    other = _normalise(sql)
    same = mine.shape == other.shape and mine.equals(other) and mine_d.equals(other)
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]

    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    print(f"records: {len(records):,} ({int(records['deleted'].sum()):,} soft-deleted; made in {made:.1f} s), "
          f"kelurahan: {len(kel)}, target sites: {len(sites)}, window {WINDOW.date_from}..{WINDOW.date_to}")
    sizes = ", ".join(f"{lv} {len(t)}" for lv, t in tables.items())
    print(f"geo_p4gn coverage_tables, all 5 levels ({sizes}): best {best:.3f} s, median {median:.3f} s "
          f"(best of {args.repeat}; CPU {cpu:.3f} s)")
    print(f"DuckDB {duckdb.__version__} ({threads} threads), the same table:   best {d_best:.3f} s, "
          f"median {d_median:.3f} s (CPU {d_cpu:.3f} s)")
    print(f"geo_p4gn, dates as datetime.date objects (GeoPackageStore.list today): best {o_best:.3f} s, "
          f"median {o_median:.3f} s (CPU {o_cpu:.3f} s)")
    print(f"ratio geo_p4gn / DuckDB: {best / d_best:.2f}x best, {median / d_median:.2f}x median (goal <= 1.5x); "
          f"time goal <= 0.3 s: {'met' if best <= 0.3 else 'NOT met'}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    if same:
        print(f"same numbers: yes ({len(mine)} rows x {len(COMPARED)} columns compared)")
        return 0
    print("same numbers: NO")
    merged = mine.merge(other, on=["level", "code"], how="outer", suffixes=("", "_duckdb"), indicator=True)
    for col in COMPARED:
        a, b = merged[col], merged[f"{col}_duckdb"]
        bad = ~((a == b).fillna(False) | (a.isna() & b.isna()))
        if bad.any():
            print(f"  {col}: {int(bad.sum())} rows differ, e.g.\n"
                  f"{merged.loc[bad, ['level', 'code', col, f'{col}_duckdb']].head(3).to_string()}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
