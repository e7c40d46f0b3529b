"""A basemap from ONE local file (:data:`geo_p4gn.settings.basemap_path`): what kind it is, its tiles, and
what a map needs to draw it (served by :mod:`geo_p4gn.http.basemap`).

- PMTiles (``PMTiles`` magic): vector tiles, drawn in the browser by ``protomaps-leaflet`` (npm, installed
  by ``npm ci`` into ``node_modules``; served by the app, never from a CDN);
- MBTiles (an SQLite file with ``metadata`` and ``tiles``): raster PNG/JPEG/WebP tiles, rows counted from
  the south (TMS), as QGIS "Generate XYZ tiles" and ODK Collect's offline layers use them.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import threading
from pathlib import Path

from .. import settings

ROOT = Path(__file__).resolve().parent.parent.parent
#: Where ``npm ci`` puts the browser libraries (package.json at the repository's root).
NODE_MODULES = ROOT / "node_modules"
PROTOMAPS_JS = NODE_MODULES / "protomaps-leaflet" / "dist" / "protomaps-leaflet.js"
#: A 1x1 transparent PNG: the answer for a tile the MBTiles file does not hold.
EMPTY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63606060600000000500017aa857500000000049454e44ae426082")
TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


def kind(path: Path | None = None) -> str | None:
    """``"pmtiles"``, ``"mbtiles"`` or None: the kind of the configured basemap file (by its first bytes)."""
    path = settings.basemap_path if path is None else path
    if path is None or not Path(path).is_file():
        return None
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"PMTiles"):
        return "pmtiles"
    if head.startswith(b"SQLite format 3"):
        return "mbtiles"
    return None


def stamp(path: Path | None = None) -> str:
    """A short name for the file as it is now (size and modification time)."""
    st_ = Path(settings.basemap_path if path is None else path).stat()
    return hashlib.sha256(f"{st_.st_size}:{st_.st_mtime_ns}".encode()).hexdigest()[:12]


def layer_spec() -> dict | None:
    """What a map needs to draw the local basemap: ``{"kind", "url", "attribution", ...}``, or None."""
    k = kind()
    if k is None:
        return None
    s = stamp()
    spec = {"kind": k, "attribution": settings.basemap_attribution}
    if k == "pmtiles":
        spec.update(url=f"/basemap/{s}.pmtiles", script="/basemap/vendor/protomaps-leaflet.js")
        spec["attribution"] = spec["attribution"] or "© OpenStreetMap contributors"
    else:
        meta = mbtiles_metadata(str(settings.basemap_path))
        spec["attribution"] = spec["attribution"] or meta.get("attribution", "")
        spec.update(url=f"/basemap/{s}/{{z}}/{{x}}/{{y}}.{meta.get('format', 'png')}",
                    min_zoom=int(meta.get("minzoom", 0)), max_zoom=int(meta.get("maxzoom", 19)))
    return spec


_local = threading.local()  # one read-only connection per thread and file


def _connect(path: str) -> sqlite3.Connection:
    cons = getattr(_local, "cons", None)
    if cons is None:
        cons = _local.cons = {}
    con = cons.get(path)
    if con is None:
        con = cons[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    return con


@functools.lru_cache(maxsize=4)
def _metadata(path: str, _stamp: str) -> dict:
    try:
        rows = _connect(path).execute("SELECT name, value FROM metadata").fetchall()
    except sqlite3.Error:
        return {}
    return {str(k): str(v) for k, v in rows}


def mbtiles_metadata(path: str) -> dict:
    """The ``metadata`` table of an MBTiles file (``format``, ``minzoom``, ``maxzoom``, ``bounds``...)."""
    return _metadata(path, stamp(Path(path)))


def mbtiles_tile(path: str, z: int, x: int, y: int) -> bytes | None:
    """One tile (XYZ numbering) of an MBTiles file, whose rows count from the south (TMS)."""
    row = _connect(path).execute(
        "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
        (z, x, (1 << z) - 1 - y)).fetchone()
    return bytes(row[0]) if row else None


