"""Streamlit's own English texts in the chosen language, and the app's page-wide styles.

Streamlit's frontend writes some texts itself, in English: "Choose an option", "Select all", "Add: ...",
"Press Ctrl+Enter to submit form", and the "Page not found" dialog. A middleware (:class:`PageHelper`,
mounted by ``app.py``) adds one script and one style sheet to Streamlit's HTML page (nothing else is
changed); the script swaps those texts for the ``streamlit.*`` texts of the catalogue (:mod:`geo_p4gn.i18n`)
as Streamlit draws them, in the language the address names (``?lang=en``; Bahasa Indonesia otherwise, as
the app keeps it, see ``geo_p4gn_app.session``). The style sheet hides Streamlit's key hints (the app's
forms do not submit on Enter), lets long choices wrap instead of being cut off on a phone and hides the
element that carries the Catat map's point (:mod:`geo_p4gn_app.pointslot`, it takes no space).

The script also points Streamlit's icon font at a subset of it (:mod:`geo_p4gn_app.icons`: 48 KB instead
of 375 KB on a first load).

``GET /ui/streamlit-<hash>.js``, ``/ui/streamlit-<hash>.css`` and ``/ui/icons-<key>.woff2``: immutable (their
hash is their content's).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from geo_p4gn import i18n

from . import icons

CSS = """[data-testid="InputInstructions"] { display: none !important; }
[data-baseweb="select"] div { white-space: normal !important; text-overflow: clip !important; }
[data-baseweb="popover"] li[role="option"] { white-space: normal !important; }
.st-key-cakupan_matrix table { font-size: 13px; table-layout: fixed; width: 100%; min-width: 0 !important; }
.st-key-cakupan_matrix thead th:first-child { width: 34%; }
.st-key-cakupan_matrix th, .st-key-cakupan_matrix td { padding: 4px 5px !important; overflow-wrap: anywhere;
  hyphens: auto; white-space: normal !important; }
.st-key-catat_point_sync { display: none !important; }
"""

_JS = """(function (tables) {
  var PREFIXES = ["Add: ", "You have requested page"];
  function lang() { return new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'id'; }
  function swap(node, table) {
    var v = node.nodeValue, t = v.trim();
    if (!t) { return; }
    if (Object.prototype.hasOwnProperty.call(table, t)) { node.nodeValue = v.replace(t, table[t]); return; }
    for (var i = 0; i < PREFIXES.length; i++) {
      var p = PREFIXES[i];
      if (t.indexOf(p) === 0 && table[p] !== undefined) {
        node.nodeValue = p === 'Add: ' ? v.replace(p, table[p]) : table[p];
        return;
      }
    }
  }
  function walk(root) {
    var table = tables[lang()];
    if (!table || !root) { return; }
    if (root.nodeType === 3) { swap(root, table); return; }
    if (root.nodeType !== 1) { return; }
    var all = [root], w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (var n = w.nextNode(); n; n = w.nextNode()) { all.push(n); }
    all.forEach(function (n) {
      if (n.nodeType === 3) { swap(n, table); }
      else if (n.placeholder && table[n.placeholder]) { n.placeholder = table[n.placeholder]; }
    });
  }
  function start() {
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        if (r.type === 'childList') { r.addedNodes.forEach(walk); } else { walk(r.target); }
      });
    }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                               attributeFilter: ['placeholder']});
    walk(document.body);
  }
  if (document.body) { start(); } else { document.addEventListener('DOMContentLoaded', start); }
})(%s);
"""


@functools.cache
def assets() -> dict[str, tuple[str, bytes]]:
    """``{name: (media type, body)}`` of the script and the style sheet, named by their hash."""
    tables = {}
    for lang in i18n.LANGS:
        if lang == "en":
            continue  # Streamlit's own language
        tables[lang] = {en: i18n.t(key, lang) for key, (_, en) in i18n.CATALOGUE.items()
                        if key.startswith("streamlit.")}
    js = (icons.script() + _JS % json.dumps(tables, ensure_ascii=False).replace("<", "\\u003c")).encode()
    out = {}
    for ext, media, body in (("js", "text/javascript", js), ("css", "text/css", CSS.encode())):
        out[f"streamlit-{hashlib.sha256(body).hexdigest()[:12]}.{ext}"] = (media, body)
    return out


def head_tags() -> bytes:
    names = sorted(assets())
    css = next(n for n in names if n.endswith(".css"))
    js = next(n for n in names if n.endswith(".js"))
    return f'<link rel="stylesheet" href="/ui/{css}"><script src="/ui/{js}"></script>'.encode()


class PageHelper:
    """Add :func:`head_tags` to Streamlit's HTML page (any GET answered with ``text/html`` outside
    ``/capture``); everything else passes untouched."""

    def __init__(self, app):
        self.app = app
        icons.warm()

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or path.startswith(("/capture", "/api",
                                                                                         "/openrosa", "/_stcore",
                                                                                         "/static", "/app/static",
                                                                                         "/component", "/ui",
                                                                                         "/basemap")):
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        chunks: list[bytes] = []

        async def capture(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                if not headers.get(b"content-type", b"").startswith(b"text/html") or \
                        headers.get(b"content-encoding", b"gzip") != b"gzip":
                    start = None
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            zipped = any(k.lower() == b"content-encoding" for k, _ in start.get("headers", []))
            # the GZip middleware may sit inside this one (Streamlit orders them): open, add, close again
            body = gzip.decompress(body) if zipped else body
            body = body.replace(b"</head>", head_tags() + b"</head>", 1)
            body = gzip.compress(body, 6) if zipped else body
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def routes() -> list[Route]:
    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name == icons.url().removeprefix("/ui/"):
            body = await run_in_threadpool(icons.make_subset)
            found = None if body is None else ("font/woff2", body)
        else:
            found = assets().get(name)
        if found is None:
            return Response(status_code=404)
        return Response(found[1], media_type=found[0],
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    return [Route("/ui/{name}", asset)]


__all__ = ["PageHelper", "assets", "routes"]
