"""Long cache lifetimes for the app's versioned static files (an ASGI middleware mounted by ``app.py``).

Streamlit serves ``./static`` at ``/app/static`` with ``Cache-Control: no-cache``: every page load asked
again for every map library and shape file (one round trip each: seconds on a 400 ms link). Files whose
name holds their content's hash (``static/geo/kelurahan-<hash>.json``, Streamlit's own ``/static/js/*.<hash>.js``)
never change under their name: they are cached for a year. The map libraries under ``static/vendor/`` are
pinned package versions copied by ``make run``; they are cached for a week (a new version is read after at
most that). Nothing else is touched.
"""

from __future__ import annotations

import re

IMMUTABLE = b"public, max-age=31536000, immutable"
WEEK = b"public, max-age=604800"
_HASHED = re.compile(r"^/(app/static/geo/[a-z]+-[0-9a-f]{16}\.json|static/(js|css|media)/[^/]+\.[0-9a-f]{8,}\.[a-z0-9.]+)$")
_VENDOR = re.compile(r"^/app/static/vendor/")


def lifetime(path: str) -> bytes | None:
    """The ``Cache-Control`` value for a path, or None to leave the answer as it is.

    >>> lifetime("/app/static/geo/kelurahan-4f3ca90e24e42c94.json")
    b'public, max-age=31536000, immutable'
    >>> lifetime("/app/static/vendor/leaflet/leaflet.js"), lifetime("/catat")
    (b'public, max-age=604800', None)
    """
    if _HASHED.match(path):
        return IMMUTABLE
    if _VENDOR.match(path):
        return WEEK
    return None


class CacheStatic:
    """Set :func:`lifetime` on successful GET answers of versioned static files."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        value = lifetime(scope.get("path", "")) if scope["type"] == "http" and scope.get("method") == "GET" else None
        if value is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cache(message):
            if message["type"] == "http.response.start" and message.get("status") == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.append((b"cache-control", value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cache)


__all__ = ["CacheStatic", "lifetime"]
