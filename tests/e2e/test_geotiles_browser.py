"""Area shapes in tiles (geo_p4gn.render.geotiles) drawn by ``geoP4gn.fill`` in headless Chromium: only the
tiles in view for the map's zoom are fetched, each area is drawn once, a zoom into another band fetches that
band's tiles, and nothing outside the page's server is asked for."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest

from geo_p4gn.render import geotiles, maps
from tests.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/vendor/leaflet/leaflet.css">
<script src="/vendor/leaflet/leaflet.js"></script><script src="/support.js"></script></head>
<body style="margin:0"><div id="m" style="width:1200px;height:430px"></div><script>
var map = L.map('m', {zoomAnimation: false, fadeAnimation: false}).fitBounds(BOUNDS);
var layer = L.geoJSON(null, {style: function () { return {color: '#333', weight: 1}; }}).addTo(map);
window.codes = function () { return layer.getLayers().map(function (l) { return l.feature.properties.code; }); };
geoP4gn.fill(layer, '/geo/kelurahan-test/', PROPS);
</script></body></html>"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, boundaries):
    root = tmp_path_factory.mktemp("tiles")
    vendor = ROOT / "static" / "vendor"
    if not (vendor / "leaflet" / "leaflet.js").is_file():
        pytest.skip("static/vendor not installed (python -m geo_p4gn.render.assets --install static)")
    shutil.copytree(vendor / "leaflet", root / "vendor" / "leaflet")
    shutil.copy(ROOT / "geo_p4gn" / "render" / "static" / "support.js", root / "support.js")

    def write(path: Path, body: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    kel = boundaries.kelurahan
    geotiles.write_tiles(kel[["code", "geometry"]], root / "geo" / "kelurahan-test", write)
    props = {c: {"code": c} for c in kel["code"]}
    (s, w), (n, e) = maps.MAINLAND_BOUNDS
    page = PAGE.replace("BOUNDS", json.dumps([[s, w], [n, e]])).replace("PROPS", json.dumps(props))
    (root / "index.html").write_text(page, encoding="utf-8")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def test_only_the_tiles_in_view_each_area_once_and_another_band_on_zoom(server, boundaries):
    from playwright.sync_api import sync_playwright

    base, root = server
    index = json.loads((root / "geo" / "kelurahan-test" / "index.json").read_text())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 430})
            asked, errors = [], []
            page.on("request", lambda r: asked.append(r.url))
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(f"{base}/index.html")
            page.wait_for_function("window.codes && window.codes().length > 200", timeout=30_000)
            page.wait_for_load_state("networkidle")
            zoom = page.evaluate("map.getZoom()")
            band = next(b for b in reversed(index["bands"]) if zoom >= b[1])
            codes = page.evaluate("window.codes()")
            assert len(codes) == len(set(codes))  # each area drawn once, whichever tiles brought it
            mainland = boundaries.kelurahan[~boundaries.kelurahan["code"].str.startswith("31.01")]
            assert set(mainland["code"]) <= set(codes)  # the first screen shows all of mainland Jakarta
            tiles = [u for u in asked if "/geo/kelurahan-test/" in u and not u.endswith("index.json")]
            assert tiles and all(f"/kelurahan-test/{band[0]}/" in u for u in tiles)
            assert len(tiles) == len(set(tiles))
            total = sum(len(runs) and sum(b - a + 1 for a, b in runs) for runs in index["tiles"][str(band[0])].values())
            assert len(tiles) <= total

            asked.clear()
            page.evaluate("map.setView([-6.2, 106.82], 14)")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
            deep = next(b for b in reversed(index["bands"]) if 14 >= b[1])
            tiles = [u for u in asked if "/geo/kelurahan-test/" in u]
            assert tiles and all(f"/kelurahan-test/{deep[0]}/" in u for u in tiles)
            codes = page.evaluate("window.codes()")
            assert len(codes) == len(set(codes)) and 0 < len(codes) < len(mainland)
            assert all(u.startswith(base) for u in asked)
            assert not errors
        finally:
            browser.close()
