"""Bulk kelurahan assignment vs a per-point shapely loop, measured in the same run.

    python bench/bench_assign.py [--n 100000] [--loop-sample 2000]

Points are drawn uniformly in a box around Jakarta (Kepulauan Seribu included), so most fall outside any
kelurahan, as field errors would. The loop baseline tests each point against the kelurahan polygons
with prepared geometries (the usual hand-written approach) on a sample, scaled to n.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely

from geo_p4gn.boundaries import load_boundaries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--loop-sample", type=int, default=2_000)
    args = ap.parse_args()
    b = load_boundaries()
    rng = np.random.default_rng(42)
    # 80% on the mainland box, 20% over the bay and the islands
    k = int(args.n * 0.8)
    lon = np.r_[rng.uniform(106.68, 106.98, k), rng.uniform(106.35, 107.0, args.n - k)]
    lat = np.r_[rng.uniform(-6.38, -6.08, k), rng.uniform(-6.1, -5.15, args.n - k)]

    b.assign(lon[:100], lat[:100])  # warm-up
    t0 = time.perf_counter()
    res = b.assign(lon, lat)
    bulk = time.perf_counter() - t0

    polys = list(b.kelurahan.geometry)
    codes = b.kelurahan["code"].tolist()
    for p in polys:
        shapely.prepare(p)
    m = min(args.loop_sample, args.n)
    t0 = time.perf_counter()
    loop_codes = []
    for x, y in zip(lon[:m], lat[:m], strict=True):
        pt = shapely.Point(x, y)
        loop_codes.append(next((c for c, p in zip(codes, polys, strict=True) if p.covers(pt)), None))
    loop = (time.perf_counter() - t0) * args.n / m

    inside = res["status"].isin(["inside", "overlap"]).to_numpy()[:m]
    agree = np.mean([a == c for a, c, i in zip(loop_codes, res["kelurahan_code"][:m], inside, strict=True) if i])
    counts = res["status"].value_counts().to_dict()
    print(f"points: {args.n:,}  statuses: {counts}")
    print(f"bulk assign (one spatial-index query + gap rule + swap check): {bulk:.3f} s")
    print(f"per-point prepared-shapely loop, {m:,} sampled, scaled to {args.n:,}: {loop:.2f} s")
    print(f"speed-up: {loop / bulk:.0f}x  (goal >= 20x); agreement on points inside one polygon: {agree:.4f}")


if __name__ == "__main__":
    main()
