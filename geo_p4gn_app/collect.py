"""ODK Collect's settings QR code: what a field team member scans to set up Collect for this server."""

from __future__ import annotations

import base64
import io
import json
import zlib


def collect_settings(server_url: str, user: str, password: str | None) -> str:
    """The QR payload in Collect's own format: zlib-compressed JSON, base64. ``server_url`` ends in ``/openrosa``.

    >>> import zlib, base64, json
    >>> json.loads(zlib.decompress(base64.b64decode(collect_settings("https://x/openrosa", "ani", None))))["general"]["username"]
    'ani'
    """
    general = {"server_url": server_url, "username": user, "formlist_url": "/formList",
               "submission_url": "/submission", "form_update_mode": "match_exactly",
               "autosend": "wifi_and_cellular", "delete_send": False}
    if password:
        general["password"] = password
    doc = {"general": general, "admin": {},
           "project": {"name": "P4GN DKI Jakarta", "icon": "P", "color": "#1f4e79"}}
    return base64.b64encode(zlib.compress(json.dumps(doc).encode())).decode()


def qr_png(payload: str) -> bytes:
    """``payload`` as a QR code PNG (segno)."""
    import segno

    out = io.BytesIO()
    segno.make(payload, error="l").save(out, kind="png", scale=5, border=4)
    return out.getvalue()
