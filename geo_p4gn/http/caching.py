"""Long cache lifetimes for the app's versioned static files (an ASGI middleware mounted by ``app.py``).

Streamlit serves ``./static`` at ``/app/static`` with ``Cache-Control: no-cache``: every page load asked
again for every map library and shape file (one round trip each: seconds on a 400 ms link). Files whose
name holds their content's hash (``static/geo/kelurahan-<hash>.json``, ``static/geo/support-<hash>.js``, Streamlit's own ``/static/js/*.<hash>.js``)
never change under their name: they are cached for a year. The map libraries under ``static/vendor/`` are
pinned package versions copied by ``make run``; they are cached for a week (a new version is read after at
most that). The same holds for the map component's own files (``/component/<name>/static/js/main.<hash>.js``:
a year; its ``index.html``: a week).

On a slow link every round trip counts (400 ms each): Streamlit's page first asks for ``<page>/_stcore/health``
and ``<page>/_stcore/host-config`` (``/catat/_stcore/health``) before it finds the server at ``/``; those
404 answers are cached for a day, so a reload asks once, at ``/``. The health check itself is never cached.
Nothing else is touched.
"""

from __future__ import annotations

import re

IMMUTABLE = b"public, max-age=31536000, immutable"
WEEK = b"public, max-age=604800"
DAY = b"public, max-age=86400"
_HASHED = re.compile(r"^/(app/static/geo/[a-z]+-[0-9a-f]{16}\.(json|js|css)|static/(js|css|media)/[^/]+\.[0-9a-f]{8,}\.[a-z0-9.]+"
                     r"|component/[^/]+/static/(js|css|media)/[^/]+\.[0-9a-f]{8,}\.[a-z0-9.]+)$")
_VENDOR = re.compile(r"^/(app/static/vendor/|component/[^/]+/index\.html$)")
_NOT_BASE = re.compile(r"^/[^/].*/_stcore/(health|host-config)$")


def lifetime(path: str, status: int = 200) -> bytes | None:
    """The ``Cache-Control`` value for a path answered with ``status``, or None to leave the answer as it is.

    >>> lifetime("/app/static/geo/kelurahan-4f3ca90e24e42c94.json")
    b'public, max-age=31536000, immutable'
    >>> lifetime("/app/static/vendor/leaflet/leaflet.js"), lifetime("/catat")
    (b'public, max-age=604800', None)
    >>> lifetime("/component/streamlit_folium.st_folium/static/js/main.521860b0.js")
    b'public, max-age=31536000, immutable'
    >>> lifetime("/catat/_stcore/health", 404), lifetime("/catat/_stcore/health"), lifetime("/_stcore/health", 404)
    (b'public, max-age=86400', None, None)
    """
    if status == 404:
        return DAY if _NOT_BASE.match(path) else None
    if status != 200:
        return None
    if _HASHED.match(path):
        return IMMUTABLE
    if _VENDOR.match(path):
        return WEEK
    return None


class CacheStatic:
    """Set :func:`lifetime` on GET answers: versioned static files (200) and the page-relative health checks
    that are not the server's (404)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or \
                (lifetime(path) is None and lifetime(path, 404) is None):
            await self.app(scope, receive, send)
            return

        async def send_with_cache(message):
            value = lifetime(path, message.get("status", 200)) if message["type"] == "http.response.start" else None
            if value is not None:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.append((b"cache-control", value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cache)


__all__ = ["CacheStatic", "lifetime"]
