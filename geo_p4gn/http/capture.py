"""The offline capture page and its API.

Page (no user data in it; everything it shows comes from the API as JSON and is set with textContent):

``GET /capture/``  the page, its script, style, manifest and service worker (scope ``/capture/``);
``GET /capture/vendor/leaflet/...``  Leaflet, from the installed ``xstatic-leaflet`` package;
``GET /capture/geo/kelurahan-<hash>.json``  the 267 kelurahan shapes (immutable: a new hash is a new file).

API (JSON; every call but the sign-in needs ``Authorization: Bearer <capture token>``):

``POST /api/capture/token``  ``{"user", "password"}`` of a local account (none in the single-user mode) ->
    ``{"token", "user", "role", "expires_at"}``; with OIDC the token comes from the app's link instead.
``GET /api/capture/config``  who, the taxonomy (active terms, both languages), the sites, the shapes' URL.
``POST /api/capture/entries``  ``{"entries": [...]}`` (at most :data:`MAX_ENTRIES`), each recorded with
    :func:`geo_p4gn.services.record_intervention` -> ``{"results": [{"id", "status", "reason",
    "kelurahan_code", "kelurahan"}]}``; ``status`` is ``created``, ``unchanged`` (a retry: nothing stored
    twice), ``refused`` (with the reason, to fix on the phone) or ``conflict`` (the id holds other content).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .. import services, settings
from .._errors import ConflictError, P4gnError, PermissionDenied
from ..render import basemap
from ..services import tokens
from .server import Server

STATIC = Path(__file__).resolve().parent / "static"
#: Most entries in one send, and the largest body (bytes).
MAX_ENTRIES = 200
MAX_BODY = 1_000_000
_FIELDS = ("id", "date", "type", "actor", "organisation", "participants", "notes", "site_id", "lat", "lon")
_NO_STORE = {"Cache-Control": "no-store"}
_PAGE_FILES = {"app.js": "text/javascript", "app.css": "text/css", "icon.svg": "image/svg+xml",
               "manifest.webmanifest": "application/manifest+json"}


def _leaflet_dir() -> Path:
    from xstatic.pkg import leaflet

    return Path(leaflet.BASE_DIR)


def _shell_version() -> str:
    """A hash of the page's files: a new version of any is a new service worker (and a fresh cache)."""
    h = hashlib.sha256()
    for name in sorted([*_PAGE_FILES, "index.html", "sw.js"]):
        h.update((STATIC / name).read_bytes())
    h.update((_leaflet_dir() / "leaflet.js").read_bytes()[:4096])
    return h.hexdigest()[:12]


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status, headers=_NO_STORE)


async def _json_body(request: Request):
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None, _error(413, f"larger than {MAX_BODY:,} bytes: send fewer entries at a time")
    try:
        return json.loads(bytes(body) or b"{}"), None
    except ValueError:
        return None, _error(400, "not JSON")


def record_entries(server: Server, user, entries: list) -> list[dict]:
    """Record each entry through the services; one result per entry, in order."""
    store = server.store()
    names = dict(zip(store.boundaries.kelurahan["code"], store.boundaries.kelurahan["name"], strict=True))
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            out.append({"id": None, "status": "refused", "reason": "not an entry (a JSON object)"})
            continue
        raw = {k: entry.get(k) for k in _FIELDS if entry.get(k) not in (None, "")}
        rid = str(entry.get("id") or "")[:64]
        if not rid:
            out.append({"id": None, "status": "refused", "reason": "id: every entry needs the id made on the phone"})
            continue
        try:
            rec, outcome = services.record_intervention(store, user, raw)
        except ConflictError as exc:
            out.append({"id": rid, "status": "conflict", "reason": str(exc)})
        except PermissionDenied as exc:
            out.append({"id": rid, "status": "refused", "reason": str(exc)})
        except P4gnError as exc:
            out.append({"id": rid, "status": "refused", "reason": str(exc)})
        else:
            out.append({"id": rid, "status": outcome, "reason": "", "kelurahan_code": rec.kelurahan_code,
                        "kelurahan": names.get(rec.kelurahan_code, "")})
    return out


def _config(server: Server, user) -> dict:
    store = server.store()
    tax = store.taxonomy
    sites = services.list_sites(store, user)
    geo_hash, _ = server.kelurahan_geojson()
    site_list = []
    for row in sites.itertuples():
        g = row.geometry
        if g is None or g.is_empty:
            continue
        p = g if g.geom_type == "Point" else g.point_on_surface()
        site_list.append({"id": str(row.id), "name": str(row.name), "lon": round(p.x, 7), "lat": round(p.y, 7),
                          "kelurahan_code": row.kelurahan_code, "approximate": bool(row.approximate)})
    return {
        "user": user.name, "role": user.role, "can_record": services.can(user, "record"),
        "types": [{"key": t.key, "id": t.id, "en": t.en} for t in tax.types if t.active],
        "actors": [{"key": t.key, "id": t.id, "en": t.en} for t in tax.actors if t.active],
        "sites": site_list,
        "geometry_url": f"/capture/geo/kelurahan-{geo_hash}.json",
        "tiles": settings.tiles, "tiles_attribution": settings.tiles_attribution,
        "basemap": None if settings.tiles else basemap.layer_spec(),
        "gap_tolerance_m": settings.gap_tolerance_m, "max_notes": settings.max_notes_chars,
    }


def routes(server: Server) -> list[Route]:
    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    async def page_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _PAGE_FILES:
            return _error(404, "not found")
        return FileResponse(STATIC / name, media_type=_PAGE_FILES[name], headers={"Cache-Control": "no-cache"})

    async def service_worker(request: Request) -> Response:
        version = await run_in_threadpool(_shell_version)
        text = (STATIC / "sw.js").read_text(encoding="utf-8").replace("__SHELL_VERSION__", version)
        return Response(text, media_type="text/javascript",
                        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/capture/"})

    async def leaflet(request: Request) -> Response:
        name = request.path_params["name"]
        allowed = {"leaflet.js": "text/javascript", "leaflet.css": "text/css",
                   "images/marker-icon.png": "image/png", "images/marker-icon-2x.png": "image/png",
                   "images/marker-shadow.png": "image/png", "images/layers.png": "image/png",
                   "images/layers-2x.png": "image/png"}
        if name not in allowed:
            return _error(404, "not found")
        return FileResponse(_leaflet_dir() / name, media_type=allowed[name],
                            headers={"Cache-Control": "public, max-age=86400"})

    async def geo(request: Request) -> Response:
        geo_hash, body = await run_in_threadpool(server.kelurahan_geojson)
        if request.path_params["hash"] != geo_hash:
            return _error(404, "an older version of the shapes: reload the page")
        return Response(body, media_type="application/geo+json",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    async def token(request: Request) -> Response:
        data, bad = await _json_body(request)
        if bad:
            return bad
        if not isinstance(data, dict):
            return _error(400, "send {\"user\": ..., \"password\": ...}")
        try:
            user = await run_in_threadpool(server.sign_in, str(data.get("user") or ""),
                                           str(data.get("password") or ""))
            secret, info = await run_in_threadpool(tokens.issue, user, label="capture page",
                                                   path=server.tokens_path)
        except PermissionDenied as exc:
            return _error(403 if "may not" in str(exc) else 401, str(exc))
        except P4gnError as exc:
            return _error(400, str(exc))
        return JSONResponse({"token": secret, "user": info.user, "role": user.role, "expires_at": info.expires_at},
                            headers=_NO_STORE)

    async def _bearer(request: Request):
        try:
            return await run_in_threadpool(server.bearer, request.headers.get("authorization")), None
        except PermissionDenied as exc:
            return None, _error(401, str(exc))

    async def config(request: Request) -> Response:
        user, refused = await _bearer(request)
        if refused:
            return refused
        try:
            body = await run_in_threadpool(_config, server, user)
        except PermissionDenied as exc:
            return _error(403, str(exc))
        return JSONResponse(body, headers=_NO_STORE)

    async def entries(request: Request) -> Response:
        user, refused = await _bearer(request)
        if refused:
            return refused
        data, bad = await _json_body(request)
        if bad:
            return bad
        items = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) > MAX_ENTRIES:
            return _error(400, f"send {{\"entries\": [...]}} with at most {MAX_ENTRIES} entries")
        results = await run_in_threadpool(record_entries, server, user, items)
        return JSONResponse({"results": results}, headers=_NO_STORE)

    return [
        Route("/capture", lambda r: Response(status_code=308, headers={"Location": "/capture/"})),
        Route("/capture/", page),
        Route("/capture/sw.js", service_worker),
        Route("/capture/vendor/leaflet/{name:path}", leaflet),
        Route("/capture/geo/kelurahan-{hash}.json", geo),
        Route("/capture/{name}", page_file),
        Route("/api/capture/token", token, methods=["POST"]),
        Route("/api/capture/config", config),
        Route("/api/capture/entries", entries, methods=["POST"]),
    ]


__all__ = ["MAX_ENTRIES", "record_entries", "routes"]
