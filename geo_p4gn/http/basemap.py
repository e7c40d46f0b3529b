"""The basemap from ONE local file, served by the app itself, and the map helpers of the capture page.

``GEO_P4GN_BASEMAP`` names a ``.pmtiles`` or a ``.mbtiles`` file (:data:`geo_p4gn.settings.basemap_path`):

``GET /basemap/<stamp>.pmtiles``  the PMTiles file itself, answered in byte ranges (the browser's
    ``pmtiles`` reader asks for the parts it needs); drawn by ``protomaps-leaflet``;
``GET /basemap/<stamp>/{z}/{x}/{y}.png``  one tile of the MBTiles file (its ``tiles`` table, TMS rows);
    a tile the file lacks is a transparent PNG, so the browser logs nothing;
``GET /basemap/vendor/protomaps-leaflet.js``  the drawing library, from ``node_modules`` (``npm ci``);
``GET /capture/map/support.js`` / ``support.css`` / ``labels.json``  the maps' browser helpers and the place
    names (kota, kecamatan, kelurahan) for the offline capture page.

``<stamp>`` is the file's size and modification time: a new file is a new address, so every answer is
cached by the browser for a year. Nothing here reads the store: the file is the agency's public basemap.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .. import settings
from ..boundaries import load_boundaries
from ..render.basemap import EMPTY_PNG, PROTOMAPS_JS, TYPES, kind, mbtiles_tile, stamp
from ..render.maps import label_rows

_SUPPORT = Path(__file__).resolve().parent.parent / "render" / "static"
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


@functools.lru_cache(maxsize=2)
def _labels_body(_key: str) -> bytes:

    b = load_boundaries()
    rows = label_rows({level: b.layer(level) for level in ("kota", "kecamatan", "kelurahan")})
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode()


def routes() -> list[Route]:
    from starlette.concurrency import run_in_threadpool

    def _current(s: str) -> bool:
        return settings.basemap_path is not None and kind() is not None and s == stamp()

    async def pmtiles_file(request: Request) -> Response:
        if kind() != "pmtiles" or not _current(request.path_params["stamp"]):
            return Response(status_code=404)
        return FileResponse(settings.basemap_path, media_type="application/octet-stream", headers=IMMUTABLE)

    async def mbtiles(request: Request) -> Response:
        p = request.path_params
        if kind() != "mbtiles" or not _current(p["stamp"]):
            return Response(status_code=404)
        path = str(settings.basemap_path)
        body = await run_in_threadpool(mbtiles_tile, path, p["z"], p["x"], p["y"])
        if body is None:
            return Response(EMPTY_PNG, media_type="image/png", headers=IMMUTABLE)
        return Response(body, media_type=TYPES.get(p["ext"], "application/octet-stream"), headers=IMMUTABLE)

    async def protomaps(request: Request) -> Response:
        if not PROTOMAPS_JS.is_file():
            return Response("protomaps-leaflet is not installed: run npm ci", status_code=404)
        return FileResponse(PROTOMAPS_JS, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=604800"})

    async def support(request: Request) -> Response:
        name = request.path_params["name"]
        media = {"support.js": "text/javascript", "support.css": "text/css"}
        if name not in media:
            return Response(status_code=404)
        return FileResponse(_SUPPORT / name, media_type=media[name], headers={"Cache-Control": "no-cache"})

    async def labels(request: Request) -> Response:
        body = await run_in_threadpool(_labels_body, str(settings.cache_dir))
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})

    return [
        Route("/basemap/vendor/protomaps-leaflet.js", protomaps),
        Route("/basemap/{stamp}.pmtiles", pmtiles_file),
        Route("/basemap/{stamp}/{z:int}/{x:int}/{y:int}.{ext}", mbtiles),
        Route("/capture/map/labels.json", labels),
        Route("/capture/map/{name}", support),
    ]


__all__ = ["routes"]
