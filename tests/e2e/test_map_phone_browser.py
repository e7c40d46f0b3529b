"""Issue 12 in real Chromium: place names, both kinds of local basemap file, and the phone-flow traps.

Every test runs ``streamlit run app.py`` on loopback (as ``test_app_browser.py`` does) and fails when a
request leaves loopback or the console shows an error. The basemap files are built here, small (DKI's
bounding box at a few zooms): an MBTiles of solid PNG tiles and a PMTiles of vector tiles; nothing is
downloaded.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import re
import sqlite3

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from geo_p4gn.seed import seed_store
from geo_p4gn.store import open_store
from tests.app_server import running_app
from tests.e2e.test_app_browser import MAP, Watch, browser, choose, map_frame, open_list, settle, wait_map

__all__ = ["browser"]  # the fixture, imported for this module's tests

pytestmark = pytest.mark.browser

#: DKI Jakarta's mainland, the tiles the files hold (lon/lat).
WEST, SOUTH, EAST, NORTH = 106.65, -6.40, 107.00, -6.05
RED = (230, 20, 20)


def _tiles(zooms):
    for z in zooms:
        n = 2 ** z
        x0, x1 = (int((lon + 180) / 360 * n) for lon in (WEST, EAST))
        y0, y1 = (int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n) for lat in (NORTH, SOUTH))
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                yield z, x, y


def make_mbtiles(path, zooms=range(9, 14)):
    """Solid red 256 px PNG tiles in an MBTiles file (TMS rows)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), RED).save(buf, "PNG")
    png = buf.getvalue()
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                      "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);")
    con.executemany("INSERT INTO metadata VALUES (?, ?)", [
        ("name", "test"), ("format", "png"), ("minzoom", str(min(zooms))), ("maxzoom", str(max(zooms))),
        ("bounds", f"{WEST},{SOUTH},{EAST},{NORTH}"), ("type", "baselayer")])
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                    [(z, x, (1 << z) - 1 - y, png) for z, x, y in _tiles(zooms)])
    con.commit()
    con.close()
    return path


def make_pmtiles(path, zooms=range(6, 15)):
    """Vector tiles (protomaps basemap layers ``earth`` over half of each tile, ``water`` on the rest)."""
    import mapbox_vector_tile
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    body = gzip.compress(mapbox_vector_tile.encode([
        {"name": "earth", "features": [{"geometry": "POLYGON ((0 0, 4096 0, 4096 2048, 0 2048, 0 0))",
                                         "properties": {"kind": "earth"}}]},
        {"name": "water", "features": [{"geometry": "POLYGON ((0 2048, 4096 2048, 4096 4096, 0 4096, 0 2048))",
                                         "properties": {"kind": "water"}}]},
    ]))
    with open(path, "wb") as f:
        w = Writer(f)
        for z, x, y in sorted(_tiles(zooms), key=lambda t: zxy_to_tileid(*t)):
            w.write_tile(zxy_to_tileid(z, x, y), body)
        w.finalize({"tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
                    "min_zoom": min(zooms), "max_zoom": max(zooms),
                    "min_lon_e7": int(WEST * 1e7), "min_lat_e7": int(SOUTH * 1e7),
                    "max_lon_e7": int(EAST * 1e7), "max_lat_e7": int(NORTH * 1e7),
                    "center_zoom": 11, "center_lon_e7": int(106.83 * 1e7), "center_lat_e7": int(-6.2 * 1e7)},
                   {"vector_layers": [{"id": "earth", "fields": {}}, {"id": "water", "fields": {}}]})
    return path


@pytest.fixture
def serve(tmp_path, boundaries, taxonomy):
    """Start the app on a new seeded store with extra settings; every one started is stopped at the end."""
    with contextlib.ExitStack() as started:
        def start(**env_extra):
            store_path = tmp_path / "p4gn.gpkg"
            with open_store(store_path, boundaries=boundaries, taxonomy=taxonomy) as store:
                seed_store(store)
            env = {"GEO_P4GN_STORE": str(store_path), "GEO_P4GN_USERS": str(tmp_path / "users.toml"),
                   "GEO_P4GN_TILES": "", **env_extra}
            return started.enter_context(running_app(tmp_path, env)), store_path

        yield start


def _page(browser, width=390, height=844, **kw):
    context = browser.new_context(viewport={"width": width, "height": height}, **kw)
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page, Watch(context, page)


def _map_js(page, script: str):
    """Run ``script`` with the Leaflet map as ``map`` inside the map's iframe."""
    frame = page.locator(MAP).last.element_handle().content_frame()
    return frame.evaluate("(s) => { const map = Object.values(window).find(v => v && v.setZoom && v.getCenter);"
                          " return (new Function('map', s))(map); }", script)


def _label_boxes(frame):
    return frame.locator(".gp-label span").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [e.textContent, r.left, r.top, r.right, r.bottom]; })")


def _overlapping(boxes):
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[1] < b[3] - 1 and b[1] < a[3] - 1 and a[2] < b[4] - 1 and b[2] < a[4] - 1]


def test_place_names_by_zoom_never_on_top_of_each_other(serve, browser, boundaries):
    base, _ = serve()
    for width, height in ((390, 844), (1280, 900)):
        context, page, watch = _page(browser, width, height)
        page.goto(base + "/")
        frame = wait_map(page)
        frame.locator(".gp-label").first.wait_for(state="attached")
        names = {b[0] for b in _label_boxes(frame)}
        assert names & {"Jakarta Pusat", "Jakarta Utara", "Jakarta Selatan"}, names  # kota at the city view
        assert not _overlapping(_label_boxes(frame))
        _map_js(page, "map.setView([-6.1756, 106.8272], 15, {animate: false});")
        page.wait_for_function("() => true")
        frame.get_by_text("Gambir", exact=True).wait_for(state="attached")  # a kelurahan when zoomed in
        boxes = _label_boxes(frame)
        assert boxes and not _overlapping(boxes), boxes
        assert not {b[0] for b in boxes} & {"Jakarta Pusat"}  # kota names are gone at street level
        watch.check()
        context.close()


def test_gps_refused_says_so_on_the_map(serve, browser):
    base, _ = serve()
    context, page, watch = _page(browser)  # no geolocation permission: the browser refuses
    page.goto(base + "/")
    frame = wait_map(page)
    frame.locator("a.gp-locate").click()
    notice = frame.locator(".gp-locate-refused")
    notice.wait_for(state="visible", timeout=30_000)
    assert "izinkan akses lokasi" in notice.inner_text()
    watch.check()
    context.close()


def test_a_tap_on_the_sea_closes_the_old_tooltip(serve, browser):
    base, _ = serve()
    context, page, watch = _page(browser, has_touch=True, is_mobile=True)
    page.goto(base + "/")
    frame = wait_map(page)
    box = frame.locator(".leaflet-container").bounding_box()
    frame.locator(".leaflet-container").tap(position={"x": box["width"] * 0.5, "y": box["height"] * 0.55})
    page.get_by_text(re.compile(r"Titik di Kelurahan")).wait_for()
    settle(page)
    frame = map_frame(page)
    _map_js(page, "map.eachLayer(l => { if (l.getTooltip && l.getTooltip() && l.feature && l.feature.geometry"
                  " && l.feature.geometry.type.includes('Polygon') && !window.__gpOpened) {"
                  " l.openTooltip(l.getBounds().getCenter()); window.__gpOpened = true; } });")
    assert frame.locator(".leaflet-tooltip").count() >= 1
    frame.locator(".leaflet-container").tap(position={"x": box["width"] * 0.5, "y": 12})  # the Java Sea
    page.get_by_text(re.compile(r"di luar DKI Jakarta|laut|luar")).first.wait_for()
    settle(page)
    assert map_frame(page).locator(".leaflet-tooltip").count() == 0
    watch.check()
    context.close()


def test_deep_links_language_and_streamlit_texts(serve, browser):
    base, _ = serve()
    context, page, watch = _page(browser, 1280, 900)
    page.goto(base + "/catat")  # a bookmarked page: opens it, no "Page not found"
    wait_map(page)
    page.get_by_role("heading", name="Catat intervensi").wait_for()
    body = page.locator("body").inner_text()
    for english in ("Page not found", "Choose an option", "Press Ctrl+Enter", "Press Enter", "Select all"):
        assert english not in body
    page.goto(base + "/cakupan?lang=en")
    wait_map(page)
    page.get_by_role("heading", name="Coverage map").wait_for()
    page.reload()  # the language survives a reload
    wait_map(page)
    page.get_by_role("heading", name="Coverage map").wait_for()
    page.goto(base + "/cakupan")
    wait_map(page)
    settle(page)
    page.get_by_text(re.compile(r"^Filter")).first.click()
    open_list(page, "Jenis intervensi")
    page.wait_for_timeout(300)
    body = page.locator("body").inner_text()
    assert "Select all" not in body and "Choose an option" not in body, body[:2000]
    watch.check()
    context.close()


def test_the_phone_flow_without_traps(serve, browser):
    """Type an organisation beside a suggestion, save, see the entry with organisation and kelurahan, edit it
    three times (each confirmed), delete it, and record again from the same form."""
    base, store_path = serve()
    context, page, watch = _page(browser)
    page.goto(base + "/")
    frame = wait_map(page)
    box = frame.locator(".leaflet-container").bounding_box()
    frame.locator(".leaflet-container").click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.55})
    page.get_by_text(re.compile(r"Titik di Kelurahan")).wait_for()
    settle(page)
    kelurahan = re.search(r"Titik di Kelurahan \*?\*?([^,*]+)", page.locator("body").inner_text())[1].strip()
    choose(page, "Jenis intervensi", "Deklarasi masyarakat anti narkoba")
    choose(page, "Aktor (pentahelix)", "Komunitas / masyarakat")
    org = page.get_by_role("textbox", name="Organisasi pelaksana")
    org.fill("BNNP DKI")  # the seed has "BNNP DKI Jakarta": Enter must neither pick it nor submit
    org.press("Enter")
    page.wait_for_timeout(500)
    assert page.get_by_text("Tersimpan. Lokasi").count() == 0
    page.get_by_role("button", name="Simpan", exact=True).click()
    page.get_by_text("Tersimpan. Lokasi: Kelurahan").wait_for()
    rec_id = re.search(r"catat=([0-9a-f-]{36})", page.url)[1]
    with open_store(store_path) as store:
        assert store.get(rec_id).organisation == "BNNP DKI"
    settle(page)
    body = page.locator("body").inner_text()
    assert re.search(r"\d{2}/\d{2}/\d{4} · " + re.escape(kelurahan), body), body[-1500:]  # dd/mm/yyyy · kelurahan
    assert re.search(r"disimpan \d{2}/\d{2}/\d{4} \d{2}:\d{2} WIB", body)
    assert "UTC" not in body

    def pick_entry():
        """Open the edit picker: its entry names the kelurahan and the organisation, not cut off."""
        for attempt in range(3):
            settle(page, 300)
            page.get_by_role("combobox", name="Perbaiki atau hapus entri", exact=True).click()
            try:
                page.get_by_role("listbox").first.wait_for(timeout=5000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        listed = page.get_by_role("listbox").first.inner_text()
        assert re.search(re.escape(kelurahan) + r" · BNNP DKI · Deklarasi", listed), listed
        page.keyboard.type("BNNP DKI")
        page.keyboard.press("Enter")
        settle(page)
        page.get_by_role("button", name="Simpan perubahan").wait_for()

    for n in (3, 4, 5):
        pick_entry()
        page.get_by_role("spinbutton", name="Jumlah peserta").last.fill(str(n))
        page.get_by_role("button", name="Simpan perubahan").click()
        page.get_by_text("Perubahan tersimpan.").first.wait_for(timeout=30_000)
        settle(page)
        with open_store(store_path) as store:
            assert store.get(rec_id).participants == n

    pick_entry()
    page.get_by_text("Ya, hapus entri ini").first.click()
    settle(page, 300)
    page.get_by_role("button", name=re.compile("Hapus")).last.click()
    page.get_by_text("Entri dihapus.").first.wait_for()
    settle(page)
    assert rec_id not in page.url  # a new form, a new record number
    frame = wait_map(page)
    frame.locator(".leaflet-container").click(position={"x": box["width"] * 0.47, "y": box["height"] * 0.57})
    page.get_by_text(re.compile(r"Titik di Kelurahan")).wait_for()
    settle(page)
    choose(page, "Jenis intervensi", "Deklarasi masyarakat anti narkoba")
    choose(page, "Aktor (pentahelix)", "Komunitas / masyarakat")
    page.get_by_role("textbox", name="Organisasi pelaksana").fill("Karang Taruna")
    page.get_by_role("button", name="Simpan", exact=True).click()
    page.get_by_text("Tersimpan. Lokasi: Kelurahan").wait_for()
    assert page.get_by_text("sudah dipakai").count() == 0
    watch.check()
    context.close()


@pytest.mark.parametrize("kind", ["mbtiles", "pmtiles"])
def test_a_basemap_from_one_local_file_is_drawn(serve, browser, tmp_path, kind):
    path = make_mbtiles(tmp_path / "dki.mbtiles") if kind == "mbtiles" else make_pmtiles(tmp_path / "dki.pmtiles")
    base, _ = serve(GEO_P4GN_BASEMAP=str(path))
    context, page, watch = _page(browser, 1280, 900)
    tiles = []
    page.on("response", lambda r: tiles.append((r.url, r.status)) if "/basemap/" in r.url else None)
    page.goto(base + "/")
    frame = wait_map(page)
    if kind == "mbtiles":
        frame.locator("img.leaflet-tile-loaded").first.wait_for(state="attached")
        colours = frame.locator("img.leaflet-tile-loaded").evaluate_all(
            "imgs => imgs.map(i => { const c = document.createElement('canvas'); c.width = c.height = 1;"
            " const g = c.getContext('2d'); g.drawImage(i, 128, 128, 1, 1, 0, 0, 1, 1);"
            " return Array.from(g.getImageData(0, 0, 1, 1).data.slice(0, 3)); })")
        assert list(RED) in colours, colours[:5]
    else:
        frame.locator(".leaflet-tile-container canvas").first.wait_for(state="attached")
        page.wait_for_function(
            "(sel) => { const f = document.querySelector(sel); if (!f) return false;"
            " const cs = f.contentDocument.querySelectorAll('.leaflet-tile-container canvas');"
            " const seen = new Set(); for (const c of cs) { const g = c.getContext('2d');"
            " for (const [x, y] of [[10, 10], [c.width - 10, c.height - 10], [c.width / 2, 10], [10, c.height - 10]]) {"
            " const d = g.getImageData(x, y, 1, 1).data; if (d[3]) seen.add(d.slice(0, 3).join(',')); } }"
            " return seen.size >= 2; }", arg=MAP, timeout=60_000)
        assert any(u.endswith(".pmtiles") and s == 206 for u, s in tiles), tiles  # read in byte ranges
    assert tiles and all(s in (200, 206) for _, s in tiles), tiles
    watch.check()
    context.close()
