"""Reading a store of a million records, after a write and on a filter change, against baselines timed in the
same run (issue 16). Server time only: what the app computes, without a browser.

Usage: ``python bench/bench_store_read.py [--n 1000000] [--filters 6]`` (``GEO_P4GN_BOUNDARY_MIRROR`` when
offline). The store (``--n`` synthetic records over the real 267 kelurahan, written with ``add_many``) is
built once and kept in ``bench/out/``. Prints, each with its baseline:

- **full read**: ``Store.list()`` on a newly opened store (what a process pays once) against
  ``pyogrio.read_dataframe(use_arrow=True)`` of the same layer (goal <= 1.5x);
- **after one write**: one new record (``Store.add``), then the next coverage view (``Store.list()`` refreshed
  from the records changed since the last read, plus the site and kelurahan coverage tables) against the
  same view after a full re-read (goal <= 0.5 s);
- **filter change**: for ``--filters`` different filters (a type, an actor, a kota, a window, ... none repeated),
  what the coverage page computes from the records for a new filter (the count, the coverage tables, the gap
  list, the type x actor matrix, the timeline, the points mask) (goal <= 0.3 s), against the same with the
  dates as ``datetime.date`` objects (what ``Store.list()`` returned before issue 16);
- **memory**: the peak resident size of this process (goal: the app at 1M under 2 GB).

Asserts nothing about time; exits 1 only when the refreshed frame differs from a full read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_p4gn import coverage  # noqa: E402
from geo_p4gn.boundaries import load_boundaries  # noqa: E402
from geo_p4gn.filters import Filters  # noqa: E402
from geo_p4gn.records import Intervention  # noqa: E402
from geo_p4gn.seed import seed_store  # noqa: E402
from geo_p4gn.store import open_store  # noqa: E402
from geo_p4gn.taxonomy import load_taxonomy  # noqa: E402

OUT = ROOT / "bench" / "out"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_store(path: Path, n: int, boundaries, taxonomy, seed: int = 11) -> Path:
    """Seed sites and ``n`` synthetic records (points inside the kelurahan, 2023-2024, 30 % at a site),
    written in batches of 200k."""
    if path.exists():
        return path
    tmp = path.with_name(path.name + ".building")
    for p in tmp.parent.glob(tmp.name + "*"):
        p.unlink()
    rng = np.random.default_rng(seed)
    with open_store(tmp, boundaries=boundaries, taxonomy=taxonomy) as store:
        seed_store(store, starter=False)
        sites = store.list_sites()
        pts = shapely.point_on_surface(boundaries.kelurahan.geometry.to_numpy())
        types, actors = list(taxonomy.type_keys), list(taxonomy.actor_keys)
        for start in range(0, n, 200_000):
            m = min(200_000, n - start)
            k = rng.integers(0, len(pts), m)
            geoms = shapely.points(shapely.get_x(pts)[k] + rng.uniform(-2e-4, 2e-4, m),
                                   shapely.get_y(pts)[k] + rng.uniform(-2e-4, 2e-4, m))
            days = (np.datetime64("2023-01-01") + rng.integers(0, 730, m)).astype(object)
            at_site = rng.random(m) < 0.3
            site = sites["id"].to_numpy()[rng.integers(0, len(sites), m)]
            recs = [Intervention(
                id=str(uuid.UUID(bytes=rng.bytes(16), version=4)), date=days[i],
                end_date=days[i] + dt.timedelta(days=3) if i % 20 == 0 else None,
                type_key=types[i % len(types)], actor_key=actors[(i // 3) % len(actors)],
                organisation=f"Organisasi {int(rng.integers(0, 800))}", geometry=geoms[i],
                site_id=site[i] if at_site[i] else None, participants=int(rng.integers(5, 300)) if i % 5 else None,
            ) for i in range(m)]
            store.add_many(recs, user="bench")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(tmp) + suffix)
        if src.exists():
            src.rename(str(path) + suffix)
    return path


def page_work(records, sites, kel, taxonomy, filters: Filters, today: dt.date) -> None:
    """What the coverage page computes from the records when its filters change."""
    mask = filters.record_mask(records, sites if filters.ikrn else None)
    int(mask.sum())
    tables = coverage.coverage_tables(records, sites, kel, taxonomy, filters, levels=("site", "kelurahan"),
                                      as_of=today)
    coverage.rank_gaps(tables, taxonomy)
    coverage.type_actor_matrix(records, taxonomy, filters, sites=sites)
    coverage.timeline(records, taxonomy, filters, by="type", sites=sites)
    filters.record_mask(records, sites if filters.ikrn else None)  # the points layer's own mask


def filter_set(taxonomy, kel, k: int) -> list[Filters]:
    """``k`` different filters, none repeated."""
    kota = sorted(set(kel["kota_code"]))
    out = [
        Filters(types=(taxonomy.type_keys[0],)),
        Filters(actors=(taxonomy.actor_keys[1],)),
        Filters(kota=(kota[1],)),
        Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 6, 30)),
        Filters(types=(taxonomy.type_keys[2], taxonomy.type_keys[3])),
        Filters(kecamatan=(sorted(set(kel["kecamatan_code"]))[5],), actors=(taxonomy.actor_keys[0],)),
        Filters(date_from=dt.date(2023, 3, 1)),
        Filters(types=(taxonomy.type_keys[4],), kota=(kota[3],)),
    ]
    return out[:k]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--filters", type=int, default=6)
    args = parser.parse_args(argv)
    boundaries, taxonomy = load_boundaries(), load_taxonomy()
    kel = boundaries.kelurahan.drop(columns="geometry")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"store_{args.n}.gpkg"
    t0 = time.perf_counter()
    make_store(path, args.n, boundaries, taxonomy)
    print(f"store: {path} ({args.n:,} records; ready in {time.perf_counter() - t0:.1f} s); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} (other work on the machine inflates every figure)")
    work = path.with_name(path.stem + ".work.gpkg")  # the write below goes to a copy
    from geo_p4gn.store.geopackage import GeoPackageStore

    with GeoPackageStore(path, boundaries=boundaries, taxonomy=taxonomy) as src:
        src.backup(str(work))

    # -- full read -------------------------------------------------------------------------------
    def ogr_read() -> float:
        # in a child process: GDAL links its own SQLite, and its closing the file drops this process's POSIX
        # locks on it (a later open fails with "disk I/O error"), the reason Store.list() reads it in a child too
        code = ("import sys, time, pyogrio; t0 = time.perf_counter(); "
                "pyogrio.read_dataframe(sys.argv[1], layer='interventions', use_arrow=True); "
                "print(time.perf_counter() - t0)")
        res = subprocess.run([sys.executable, "-c", code, str(work)], capture_output=True, text=True, check=True)
        return float(res.stdout.strip().splitlines()[-1])

    t_ogr = ogr_read()
    store = open_store(work, boundaries=boundaries, taxonomy=taxonomy)
    t0 = time.perf_counter()
    records = store.list()
    t_list = time.perf_counter() - t0
    t_ogr = min(t_ogr, ogr_read())  # before and after: neither gets the file's pages cached for it alone
    print(f"full read:   Store.list() {t_list:.2f} s vs pyogrio arrow read {t_ogr:.2f} s = {t_list / t_ogr:.2f}x "
          f"(goal <= 1.5x: {'met' if t_list <= 1.5 * t_ogr else 'NOT met'})")

    # -- after one write ---------------------------------------------------------------------------
    sites = store.list_sites()
    today = dt.date(2024, 12, 31)
    view = Filters()
    coverage.coverage_tables(records, sites, kel, taxonomy, view, levels=("site", "kelurahan"), as_of=today)
    del records
    pt = shapely.point_on_surface(boundaries.kelurahan.geometry.iloc[10])
    runs = []
    for i in range(3):
        rec = Intervention(id=str(uuid.uuid4()), date=dt.date(2024, 12, 1 + i), type_key=taxonomy.type_keys[0],
                           actor_key=taxonomy.actor_keys[0], organisation="Bench", geometry=pt, participants=9)
        store.add(rec, user="bench")
        t0 = time.perf_counter()
        records = store.list()
        t_refresh = time.perf_counter() - t0
        coverage.coverage_tables(records, sites, kel, taxonomy, view, levels=("site", "kelurahan"), as_of=today)
        runs.append((time.perf_counter() - t0, t_refresh))
        del records
    fresh = open_store(work, boundaries=boundaries, taxonomy=taxonomy)
    t0 = time.perf_counter()
    full = fresh._read_all(include_deleted=False)  # the full re-read of the SQL path (before issue 16)
    coverage.coverage_tables(full, sites, kel, taxonomy, view, levels=("site", "kelurahan"), as_of=today)
    t_full = time.perf_counter() - t0
    records = store.list()
    same = records.equals(full)
    del full
    fresh.close()
    best = min(runs)
    print(f"after a write: refresh + coverage view {best[0]:.3f} s (refresh {best[1]:.3f} s; median "
          f"{statistics.median(r[0] for r in runs):.3f} s of {len(runs)}) vs a full SQL re-read + view {t_full:.2f} s "
          f"(goal <= 0.5 s: {'met' if best[0] <= 0.5 else 'NOT met'}); refreshed frame equals a full read: "
          f"{'yes' if same else 'NO'}")

    # -- filter change -------------------------------------------------------------------------------
    as_objects = records.assign(date=records["date"].dt.date.astype(object),
                                end_date=[None if pd.isna(d) else d.date() for d in records["end_date"]])
    page_work(records, sites, kel, taxonomy, Filters(ikrn=("bahaya",)), today)  # warm up
    new, old = [], []
    for f in filter_set(taxonomy, kel, args.filters):
        t0 = time.perf_counter()
        page_work(records, sites, kel, taxonomy, f, today)
        new.append(time.perf_counter() - t0)
    for f in filter_set(taxonomy, kel, args.filters):
        t0 = time.perf_counter()
        page_work(as_objects, sites, kel, taxonomy, f, today)
        old.append(time.perf_counter() - t0)
    print(f"filter change ({len(new)} different filters): median {statistics.median(new):.3f} s, best {min(new):.3f} s "
          f"(datetime64 dates) vs median {statistics.median(old):.3f} s with datetime.date objects "
          f"(goal <= 0.3 s: {'met' if statistics.median(new) <= 0.3 else 'NOT met'})")
    print(f"peak resident memory of this process: {peak_mb():.0f} MB (it held the records frame, a copy with date "
          "objects, and pyogrio's frame at one point)")
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
