"""Area shapes for the app's maps in tiles, simplified per zoom (issue 16: a whole country's 84k polygons).

One GeoJSON file of every kelurahan is 0.3 MB for Jakarta but about 100 MB for the country; the browser would
fetch and draw all of it for the first screen. :func:`write_tiles` writes, next to that file, a folder of
small files: for each zoom band, the shapes simplified to half a screen pixel at the band's closest zoom
(no vertex moves more than that), areas smaller than a pixel at its farthest zoom left out, and cut into
web-mercator tiles (an area in every tile its box touches). ``index.json`` lists the bands and the tiles that
exist (per band and tile row, runs of x). The page's script (``geoP4gn.fill`` in ``static/support.js``)
reads the index, fetches only the tiles in view for the map's zoom, draws each area once, and fetches again
on a pan or a zoom into another band; without an index it fetches the one file as before. The app writes
tiles only for a layer whose one file is larger than :data:`TILE_ABOVE`.

Bands: ``(tile zoom, first map zoom, last map zoom)``; the last band keeps the full shapes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

#: (tile zoom, first map zoom, last map zoom, simplify) of each band; the last one is not simplified.
BANDS = ((6, 0, 7, True), (9, 8, 10, True), (11, 11, 12, True), (12, 13, 22, False))
INDEX = "index.json"
#: The app cuts a layer into tiles only when its one file is larger than this (bytes): Jakarta's 0.3 MB stay
#: one file, fetched once, exactly as before; a country's 100 MB never reach a browser whole.
TILE_ABOVE = 1_500_000
#: Changes when the tiles are cut differently (part of the files' address, so a browser never keeps old ones).
VERSION = "geotiles-1"


def _pixel(zoom: int) -> float:
    """A screen pixel in degrees of longitude at ``zoom`` (256-pixel tiles)."""
    return 360.0 / (256 * 2**zoom)


def _tile_xy(lon: np.ndarray, lat: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    n = 2**zoom
    lat = np.clip(lat, -85.0511, 85.0511)
    x = np.floor((lon + 180.0) / 360.0 * n).astype(np.int64)
    rad = np.radians(lat)
    y = np.floor((1.0 - np.log(np.tan(rad) + 1 / np.cos(rad)) / math.pi) / 2.0 * n).astype(np.int64)
    return np.clip(x, 0, n - 1), np.clip(y, 0, n - 1)


def _digits(tolerance: float) -> int:
    """Decimals for coordinates: half the tolerance (at least 1e-6 degrees), fewer characters, the same drawing."""
    return max(0, min(6, math.ceil(-math.log10(max(tolerance / 2, 1e-6)))))


_PAIR = re.compile(r"(-?[0-9.]+(?:e-?[0-9]+)?) (-?[0-9.]+(?:e-?[0-9]+)?)")
_TYPES = {3: "Polygon", 6: "MultiPolygon", 1: "LineString", 5: "MultiLineString"}


def _geojson(shapes: np.ndarray, digits: int) -> list[str | None]:
    """Each geometry's GeoJSON with ``digits`` decimals, from GEOS' rounded WKT (vectorised; GEOS' own GeoJSON
    writer has no precision); None for an empty or unsupported one."""
    if not len(shapes):
        return []
    wkt = shapely.to_wkt(shapes, rounding_precision=digits, trim=True)
    kinds = shapely.get_type_id(shapes)
    empty = shapely.is_empty(shapes)
    out: list[str | None] = []
    for text, kind, none in zip(wkt, kinds, empty, strict=True):
        name = _TYPES.get(int(kind))
        if none or name is None:
            out.append(None)
            continue
        body = text[text.index("("):].replace("(", "[").replace(")", "]")
        body = _PAIR.sub(r"[\1,\2]", body).replace(", ", ",")
        out.append(f'{{"type":"{name}","coordinates":{body}}}')
    return out


def write_tiles(layer: gpd.GeoDataFrame, folder: Path, write: Callable[[Path, bytes], None]) -> dict:
    """Write the tiles of ``layer`` (``code``, geometry in EPSG:4326) under ``folder`` with ``write`` (an atomic
    writer), the index last: a folder with an index is complete. Returns the index."""
    geoms = layer.geometry.to_numpy()
    codes = layer["code"].astype(str).to_numpy()
    bounds = shapely.bounds(geoms)
    extent = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    bands, tiles = [], {}
    for zoom, first, last, simplify in BANDS:
        keep = np.flatnonzero(extent >= _pixel(first)) if simplify else np.arange(len(geoms))
        tol = _pixel(last) / 2 if simplify else 0.0
        shapes = geoms[keep]
        if simplify and len(shapes):  # Douglas-Peucker: no point moves more than tol (half a pixel)
            shapes = shapely.simplify(shapes, tol, preserve_topology=True)
        digits = _digits(tol if simplify else 2e-5)  # the last band: the 1.1 m grid of maps.simplify
        text = _geojson(shapes, digits)
        # each area in every tile its box touches (the page draws an area once, whichever tile brings it)
        x0, y1 = _tile_xy(bounds[keep, 0], bounds[keep, 1], zoom)
        x1, y0 = _tile_xy(bounds[keep, 2], bounds[keep, 3], zoom)
        members: dict[tuple[int, int], list[int]] = {}
        for i in range(len(keep)):
            if text[i] is None:
                continue
            for tx in range(int(x0[i]), int(x1[i]) + 1):
                for ty in range(int(y0[i]), int(y1[i]) + 1):
                    members.setdefault((tx, ty), []).append(i)
        runs: dict[str, list[list[int]]] = {}  # per tile row y: [first x, last x] of each run of tiles
        for (tx, ty), rows in sorted(members.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            feats = ",".join(f'{{"type":"Feature","properties":{{"code":{json.dumps(codes[keep[i]])}}},'
                             f'"geometry":{text[i]}}}' for i in rows)
            body = '{"type":"FeatureCollection","features":[' + feats + "]}"
            write(folder / str(zoom) / f"{tx}-{ty}.json", body.encode())
            row = runs.setdefault(str(ty), [])
            if row and row[-1][1] == tx - 1:
                row[-1][1] = tx
            else:
                row.append([tx, tx])
        bands.append([zoom, first, last, 0])
        tiles[str(zoom)] = runs
    index = {"bands": bands, "tiles": tiles}
    write(folder / INDEX, json.dumps(index, separators=(",", ":")).encode())
    return index


def view_bytes(folder: Path, lon: float, lat: float, zoom: int, width: int = 1200, height: int = 430) -> int:
    """The bytes the page fetches for a map of ``width`` x ``height`` pixels centred on ``lon``/``lat`` at ``zoom``
    (the index and the tiles in view, as ``geoP4gn.fill`` picks them): for the benches."""
    index = json.loads((folder / INDEX).read_text())
    band = index["bands"][0]
    for b in index["bands"]:
        if zoom >= b[1]:
            band = b
    t = band[0]
    scale = 256 * 2**zoom
    px = (lon + 180) / 360 * scale
    rad = math.radians(lat)
    py = (1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * scale

    def lonlat(x: float, y: float) -> tuple[float, float]:
        n = math.pi - 2 * math.pi * y / scale
        return x / scale * 360 - 180, math.degrees(math.atan(math.sinh(n)))

    west, north = lonlat(px - width / 2, py - height / 2)
    east, south = lonlat(px + width / 2, py + height / 2)
    x0, y0 = _tile_xy(np.array([west]), np.array([north]), t)
    x1, y1 = _tile_xy(np.array([east]), np.array([south]), t)
    total = (folder / INDEX).stat().st_size
    have = {f"{x}-{y}" for y, runs in index["tiles"][str(t)].items() for a, b in runs for x in range(a, b + 1)}
    for tx in range(int(x0[0]) - band[3], int(x1[0]) + band[3] + 1):
        for ty in range(int(y0[0]) - band[3], int(y1[0]) + band[3] + 1):
            if f"{tx}-{ty}" in have:
                total += (folder / str(t) / f"{tx}-{ty}.json").stat().st_size
    return total
