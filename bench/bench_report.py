"""The Jakarta map book (6 kota + the seed sites, 10k records) and the map image, against the HTML export of
the same data in the same run.

Usage: ``python bench/bench_report.py [--records 10000] [--repeat 3]`` (``GEO_P4GN_BOUNDARY_MIRROR`` as for
the tests). The records come from ``bench_coverage.synthetic`` (the columns of ``Store.list()``), 40% of them
at the six seed sites; the sites are the real seed sites. Goals: the book in <= 15 s and <= 5 MB; the PNG
<= 400 KB. Printed: the first (cold: matplotlib's imports and font set-up included) and the best of the
following runs, each as a ratio to the HTML export (:func:`geo_p4gn.render.html.render_export`) of the same
records measured in the same run. Exits 1 when a size goal is missed; times are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_coverage import synthetic

from geo_p4gn.boundaries import load_boundaries
from geo_p4gn.render.html import render_export
from geo_p4gn.sites import seed_sites
from geo_p4gn.taxonomy import load_taxonomy

AS_OF = dt.date(2025, 1, 31)
BOOK_SECONDS, BOOK_BYTES, PNG_BYTES = 15.0, 5_000_000, 400_000


def data(n: int, boundaries, taxonomy):
    sites = seed_sites(boundaries, taxonomy)
    records, _ = synthetic(n, len(sites), boundaries.kelurahan["code"].to_numpy(), taxonomy)
    at = records["site_id"].notna().to_numpy()
    ids = sites["id"].to_numpy(dtype=object)
    kel = dict(zip(sites["id"], sites["kelurahan_code"]))
    pick = ids[np.arange(at.sum()) % len(ids)]
    records.loc[at, "site_id"] = pick
    records.loc[at, "kelurahan_code"] = [kel[s] for s in pick]
    return records, sites


def timed(fn):
    """Wall seconds, CPU seconds of this process (a loaded machine inflates the first, not the second), result."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    boundaries, taxonomy = load_boundaries(), load_taxonomy()
    records, sites = data(args.records, boundaries, taxonomy)
    kw = {"boundaries": boundaries, "taxonomy": taxonomy, "as_of": AS_OF}

    def html():
        return render_export(records, sites, **kw).encode("utf-8")

    def book(public=False):
        from geo_p4gn.render.report import render_report

        return render_report(records, sites, public=public, **kw)

    def png():
        from geo_p4gn.render.image import render_png

        return render_png(records, sites, **kw)

    runs = {"html": [], "book": [], "book_public": [], "png": []}
    cpu = {k: [] for k in runs}
    sizes = {}
    for _ in range(1 + args.repeat):
        for name, fn in (("html", html), ("book", book), ("book_public", lambda: book(True)), ("png", png)):
            seconds, cpu_seconds, out = timed(fn)
            runs[name].append(seconds)
            cpu[name].append(cpu_seconds)
            sizes[name] = len(out)
    base_cold, base = runs["html"][0], min(runs["html"][1:])
    print(f"{args.records} records, {len(sites)} seed sites, 6 kota; best of {args.repeat} after a cold run")
    print(f"{'what':<12} {'cold s':>7} {'best s':>7} {'x html':>7} {'cpu s':>7} {'size':>10}")
    for name in runs:
        cold, best = runs[name][0], min(runs[name][1:])
        print(f"{name:<12} {cold:7.2f} {best:7.2f} {best / base:7.2f} {min(cpu[name][1:]):7.2f} "
              f"{sizes[name] / 1e6:8.2f} MB")
    print(f"(html cold {base_cold:.2f} s)")
    ok = sizes["book"] <= BOOK_BYTES and sizes["book_public"] <= BOOK_BYTES and sizes["png"] <= PNG_BYTES
    worst = max(runs["book"][0], runs["book_public"][0])
    print(f"goal: book <= {BOOK_SECONDS:g} s and <= {BOOK_BYTES / 1e6:g} MB: "
          f"{'met' if worst <= BOOK_SECONDS and ok else 'NOT met'} (cold {worst:.2f} s); "
          f"png <= {PNG_BYTES / 1e3:g} KB: {'met' if sizes['png'] <= PNG_BYTES else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
