"""An MBTiles raster basemap of the kelurahan boundaries, their names and the sites (``geo-p4gn basemap mbtiles``).

For ODK Collect's offline layers and QGIS / QField: 256 px PNG tiles in one SQLite file (``metadata`` and
``tiles``, rows counted from the south as the MBTiles 1.3 spec says), drawn with Pillow from the boundary
data the project already has, so it is made with no internet. Kelurahan outlines are drawn at every zoom;
kecamatan and kota outlines heavier; names by zoom (kota up to 11, kecamatan 12-13, kelurahan from 13) at a
point inside each area; sites as dots with their names from zoom 14. The caller chooses which sites and
where (the service generalises them to their kelurahan for a public file). Only tiles that touch an area
are written.
"""

from __future__ import annotations

import io
import math
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from .._files import replacing

TILE = 256
_OUTLINE = {"kelurahan": ((120, 120, 120, 255), 1), "kecamatan": ((70, 70, 70, 255), 2), "kota": ((30, 30, 30, 255), 3)}
_NAME_ZOOMS = {"kota": (0, 11), "kecamatan": (12, 13), "kelurahan": (13, 30)}


def _lonlat_to_px(lon, lat, z):
    n = TILE * 2 ** z
    x = (np.asarray(lon) + 180.0) / 360.0 * n
    lat_r = np.radians(np.asarray(lat))
    y = (1.0 - np.arcsinh(np.tan(lat_r)) / math.pi) / 2.0 * n
    return x, y


def _tile_range(bounds, z):
    west, south, east, north = bounds
    (x0, x1), (y0, y1) = (_lonlat_to_px([west, east], [north, south], z))
    return (int(x0 // TILE), int(min(x1, TILE * 2 ** z - 1) // TILE), int(y0 // TILE),
            int(min(y1, TILE * 2 ** z - 1) // TILE))


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def write_mbtiles(out: str | Path, levels: dict[str, gpd.GeoDataFrame], sites: gpd.GeoDataFrame | None = None,
                  *, min_zoom: int = 10, max_zoom: int = 15, name: str = "P4GN DKI Jakarta",
                  attribution: str = "") -> dict:
    """Write the tiles to ``out`` (replaced atomically); return ``{"tiles", "min_zoom", "max_zoom", "bounds"}``.

    ``levels``: ``kelurahan`` (required), ``kecamatan``, ``kota`` frames with ``name`` and a geometry in
    EPSG:4326; ``sites``: ``name`` (empty for none) and a point geometry.
    """
    from PIL import Image, ImageDraw

    kel = levels["kelurahan"]
    bounds = tuple(float(v) for v in kel.total_bounds)
    union = shapely.union_all(kel.geometry.to_numpy())
    tree_geoms = {lvl: frame.geometry.to_numpy() for lvl, frame in levels.items() if frame is not None}
    trees = {lvl: shapely.STRtree(g) for lvl, g in tree_geoms.items()}
    label_pts = {lvl: shapely.point_on_surface(g) for lvl, g in tree_geoms.items()}
    names = {lvl: levels[lvl]["name"].astype(str).str.replace(r"^(Kota|Kabupaten) Administrasi\s+", "", regex=True)
             .to_numpy() for lvl in tree_geoms}
    site_xy = site_names = None
    if sites is not None and len(sites):
        pts = shapely.point_on_surface(sites.geometry.to_numpy())
        site_xy = shapely.get_coordinates(pts)
        site_names = sites["name"].fillna("").astype(str).to_numpy()
    count = 0
    with replacing(Path(out)) as tmp:
        con = sqlite3.connect(tmp)
        con.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                          "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
                          "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);")
        for z in range(min_zoom, max_zoom + 1):
            x0, x1, y0, y1 = _tile_range(bounds, z)
            font = _font(11 if z < 15 else 12)
            big = _font(13)
            rows = []
            for tx in range(x0, x1 + 1):
                for ty in range(y0, y1 + 1):
                    box = _tile_box(tx, ty, z)
                    if not union.intersects(box):
                        continue
                    img = Image.new("RGBA", (TILE, TILE), (0, 0, 0, 0))
                    draw = ImageDraw.Draw(img)
                    ox, oy = tx * TILE, ty * TILE
                    for lvl in ("kelurahan", "kecamatan", "kota"):
                        if lvl not in trees:
                            continue
                        color, width = _OUTLINE[lvl]
                        for i in trees[lvl].query(box):
                            geom = tree_geoms[lvl][i]
                            if lvl == "kelurahan":
                                for poly in getattr(geom, "geoms", [geom]):
                                    xs, ys = _lonlat_to_px(*np.asarray(poly.exterior.coords).T, z)
                                    draw.polygon(list(zip(xs - ox, ys - oy)), fill=(255, 255, 255, 70))
                            for line in _lines(geom.boundary):
                                xs, ys = _lonlat_to_px(*np.asarray(line.coords).T, z)
                                draw.line(list(zip(xs - ox, ys - oy)), fill=color, width=width)
                    for lvl, (lo, hi) in _NAME_ZOOMS.items():
                        if lvl not in trees or not lo <= z <= hi:
                            continue
                        pts = label_pts[lvl]
                        xs, ys = _lonlat_to_px(shapely.get_x(pts), shapely.get_y(pts), z)
                        near = np.nonzero((xs > ox - 120) & (xs < ox + TILE + 120) & (ys > oy - 20) & (ys < oy + TILE + 20))[0]
                        for i in near:
                            draw.text((xs[i] - ox, ys[i] - oy), names[lvl][i], font=big if lvl == "kota" else font,
                                      fill=(40, 40, 40, 255), anchor="mm", stroke_width=2, stroke_fill=(255, 255, 255, 255))
                    if site_xy is not None:
                        xs, ys = _lonlat_to_px(site_xy[:, 0], site_xy[:, 1], z)
                        near = np.nonzero((xs > ox - 120) & (xs < ox + TILE + 20) & (ys > oy - 20) & (ys < oy + TILE + 20))[0]
                        for i in near:
                            cx, cy = xs[i] - ox, ys[i] - oy
                            draw.ellipse((cx - 5, cy - 5, cx + 5, cy + 5), fill=(215, 25, 28, 255), outline=(34, 34, 34, 255))
                            if z >= 14 and site_names[i]:
                                draw.text((cx + 8, cy), site_names[i], font=font, fill=(90, 31, 0, 255), anchor="lm",
                                          stroke_width=2, stroke_fill=(255, 255, 255, 255))
                    buf = io.BytesIO()
                    img.save(buf, "PNG", optimize=True)
                    rows.append((z, tx, (1 << z) - 1 - ty, buf.getvalue()))
            con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
            count += len(rows)
        west, south, east, north = bounds
        con.executemany("INSERT INTO metadata VALUES (?, ?)", [
            ("name", name), ("format", "png"), ("type", "overlay"), ("version", "1.3"),
            ("minzoom", str(min_zoom)), ("maxzoom", str(max_zoom)),
            ("bounds", f"{west:.5f},{south:.5f},{east:.5f},{north:.5f}"),
            ("center", f"{106.83:.5f},{-6.2:.5f},{min(max(min_zoom, 11), max_zoom)}"),
            ("attribution", attribution), ("description", "Batas kelurahan DKI Jakarta, nama wilayah dan situs P4GN"),
        ])
        con.commit()
        con.close()
    return {"tiles": count, "min_zoom": min_zoom, "max_zoom": max_zoom, "bounds": bounds}


def _tile_box(tx: int, ty: int, z: int):
    n = 2 ** z
    west, east = tx / n * 360 - 180, (tx + 1) / n * 360 - 180
    north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))
    south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (ty + 1) / n))))
    return shapely.box(west, south, east, north)


def _lines(boundary) -> Sequence:
    return list(getattr(boundary, "geoms", [boundary]))


__all__ = ["write_mbtiles"]
