"""The area shapes a map page fetches (issue 16): one file of every polygon against tiles simplified per zoom.

Usage: ``python bench/bench_shapes.py [--copies 315]`` (``GEO_P4GN_BOUNDARY_MIRROR`` when offline; the replicated
cache is the one :mod:`bench.bench_boundaries` builds in ``bench/out/``, built here when missing).

For Jakarta's 267 kelurahan and for Jakarta replicated to 84,105 polygons, the kelurahan shapes are written
as the app writes them (:func:`geo_p4gn_app.mapview.geometry_url`: the one file, then the tiles of
:mod:`geo_p4gn.render.geotiles`), and for a view the bytes the page fetches (the index and the tiles in
view at that zoom, as ``geoP4gn.fill`` picks them) are compared with the one file (what every page fetched
before). Views, a map of 1200 x 430 pixels (the app's maps are 430 high): the app's first screen (centred on
mainland Jakarta, ``maps.MAINLAND_BOUNDS``, at zoom 10, where fitting those bounds puts it, and at 11; for the
replicated layer the same place over the copy nearest the middle), a street-level view at zoom 14, and the
middle of everything at zoom 5 and 7. Goal: <= 1.5 MB for the first screen at 84k polygons, no more than the one file for Jakarta.
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import geopandas as gpd  # noqa: E402
import pyogrio  # noqa: E402

from geo_p4gn import boundaries as bnd  # noqa: E402
from geo_p4gn.render import geotiles, maps  # noqa: E402

OUT = ROOT / "bench" / "out"


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def measure(layer: gpd.GeoDataFrame, folder: Path, first_box: tuple) -> dict:
    t0 = time.perf_counter()
    body = json.dumps(maps.feature_collection(layer[["code", "geometry"]], ["code"]), separators=(",", ":")).encode()
    t_file = time.perf_counter() - t0
    t0 = time.perf_counter()
    geotiles.write_tiles(layer[["code", "geometry"]], folder, _write)
    t_tiles = time.perf_counter() - t0
    files = sum(1 for _ in folder.rglob("*.json"))
    (s, w), (n, e) = first_box
    minx, miny, maxx, maxy = layer.total_bounds
    cx, cy = (w + e) / 2, (s + n) / 2
    views = {f"first screen z{z}": geotiles.view_bytes(folder, cx, cy, z) for z in (10, 11)}
    views["street z14"] = geotiles.view_bytes(folder, cx, cy, 14)
    for z in (5, 7):
        views[f"everything z{z}"] = geotiles.view_bytes(folder, (minx + maxx) / 2, (miny + maxy) / 2, z)
    return {"polygons": len(layer), "file": len(body), "t_file": t_file, "t_tiles": t_tiles, "files": files,
            "views": views}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=315)
    args = parser.parse_args(argv)
    b = bnd.load_boundaries()
    big = OUT / f"boundaries_x{args.copies}.gpkg"
    if not big.exists():
        import bench_boundaries

        bench_boundaries.main([f"--copies={args.copies}"])
    kel_big = pyogrio.read_dataframe(big, layer="kelurahan", use_arrow=True)
    (s, w), (n, e) = maps.MAINLAND_BOUNDS
    # the same box over the copy whose Jakarta is nearest the middle of the grid (codes 0000.. are copy 0)
    minx, miny, _, _ = b.kelurahan.total_bounds
    bx0, by0, bx1, by1 = kel_big.total_bounds
    mx, my = (bx0 + bx1) / 2, (by0 + by1) / 2
    import numpy as np
    import shapely

    c = shapely.centroid(kel_big.geometry.to_numpy())
    i = int(np.argmin((shapely.get_x(c) - mx) ** 2 + (shapely.get_y(c) - my) ** 2))
    copy = str(kel_big["code"].iloc[i])[:4]
    part = kel_big[kel_big["code"].astype(str).str.startswith(copy)]
    px0, py0, _, _ = part.total_bounds
    dx, dy = px0 - minx, py0 - miny
    big_box = ((s + dy, w + dx), (n + dy, e + dx))
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        for name, layer, box in (("Jakarta", b.kelurahan, maps.MAINLAND_BOUNDS), (f"x{args.copies}", kel_big, big_box)):
            r = measure(layer, Path(tmp) / name, box)
            print(f"{name}: {r['polygons']:,} kelurahan; one file {r['file'] / 1e6:.2f} MB ({r['t_file']:.1f} s to make); "
                  f"tiles written in {r['t_tiles']:.1f} s ({r['files']:,} files)")
            for view, size in r["views"].items():
                print(f"  {view:>16}: {size / 1e6:.3f} MB = {size / r['file']:.3f}x the one file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
