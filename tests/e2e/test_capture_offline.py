"""The offline capture page in real Chromium against ``streamlit run app.py`` (st.App with geo_p4gn's routes).

Online: sign in on the page. Offline (``context.set_offline(True)``): reload, record three entries (a tap on
the map, a faked GPS position, a site), close and reopen: 3 waiting. Online again: all three stored once,
each in the right kelurahan; a refused entry comes back with its reason. And the server killed while a send
is under way (its answer lost): after a restart nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import re
import signal
import time

import pytest

from geo_p4gn import auth
from geo_p4gn.seed import seed_store
from geo_p4gn.store import open_store
from tests.app_server import free_port, start_app, stop_app
from tests.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.browser
playwright_sync = pytest.importorskip("playwright.sync_api")

PASSWORD = "rahasia-lapangan-1"
TAP = (106.8456, -6.2088)  # kelurahan 31.74.02.1006 (Pasar Manggis)
GPS = (106.8272, -6.1754, 15.0)  # lon, lat, accuracy (m): Monas
SITE = "kampung-ambon"  # seeded at a point of 31.73.01.1004


class App:
    """``streamlit run app.py`` on a loopback port; restartable on the same port and store."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.store = tmp_path / "p4gn.gpkg"
        self.env = {"GEO_P4GN_STORE": str(self.store), "GEO_P4GN_USERS": str(tmp_path / "users.toml"),
                    "GEO_P4GN_TOKENS": str(tmp_path / "tokens.json"), "GEO_P4GN_TILES": ""}
        self.proc = None

    def start(self):
        self.proc, _ = start_app(self.tmp, self.env, port=self.port)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            stop_app(self.proc)

    def records(self):
        with open_store(self.store) as store:
            frame = store.list(include_deleted=True)
        return frame


@pytest.fixture
def app(tmp_path, boundaries, taxonomy):
    a = App(tmp_path)
    with open_store(a.store, boundaries=boundaries, taxonomy=taxonomy) as store:
        seed_store(store, starter=False)
    auth.add_user("ani", "petugas", password=PASSWORD, path=tmp_path / "users.toml")
    a.start()
    yield a
    a.stop()


@pytest.fixture
def browser(chromium_path):
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _context(browser, app):
    ctx = browser.new_context(permissions=["geolocation"], service_workers="allow",
                              geolocation={"longitude": GPS[0], "latitude": GPS[1], "accuracy": GPS[2]})
    external = []

    def block(route):
        if re.match(r"^(https?|wss?)://127\.0\.0\.1(:\d+)?/", route.request.url):
            return route.continue_()
        external.append(route.request.url)
        return route.abort()

    ctx.route("**/*", block)
    ctx.external = external
    return ctx


def _open(ctx, app, *, sign_in=False):
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(f"{app.base}/capture/")
    if sign_in:
        page.fill("#signin-form input[name=user]", "ani")
        page.fill("#signin-form input[name=password]", PASSWORD)
        page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#capture:not([hidden])", timeout=30_000)
    page.wait_for_function("window.p4gnCapture && window.p4gnCapture.state.shapesReady", timeout=30_000)
    return page


def _pending(page) -> int:
    return int(page.get_attribute("#pending", "data-count"))


def _fill(page, org: str, notes: str = ""):
    page.select_option("#entry select[name=type]", "seni_budaya")
    page.select_option("#entry select[name=actor]", "komunitas")
    page.fill("#entry input[name=organisation]", org)
    page.fill("#entry input[name=participants]", "25")
    page.fill("#entry textarea[name=notes]", notes)


def _save(page, expected_pending: int):
    page.click("#save")
    page.wait_for_function(f"document.getElementById('pending').dataset.count === '{expected_pending}'")


def _tap(page, lon: float, lat: float):
    xy = page.evaluate("([lon, lat]) => { const m = window.p4gnCapture.map; m.setView([lat, lon], 16, {animate: false});"
                       " const p = m.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }", [lon, lat])
    page.locator("#map").click(position={"x": xy[0], "y": xy[1]})
    page.wait_for_function("window.p4gnCapture.state.point !== null")


def _ready_offline(ctx, app):
    """Signed in online, the service worker in control, then offline and reloaded."""
    page = _open(ctx, app, sign_in=True)
    page.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)",
                           timeout=30_000, polling=1000)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_selector("#capture:not([hidden])", timeout=30_000)
    page.wait_for_function("window.p4gnCapture && window.p4gnCapture.state.shapesReady", timeout=30_000)
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("#capture:not([hidden])", timeout=30_000)
    page.wait_for_function("window.p4gnCapture && window.p4gnCapture.state.shapesReady", timeout=30_000)
    assert page.text_content("#net") == "Luring"
    return page


def _three_entries(page):
    _tap(page, *TAP)
    assert "Pasar Manggis" in page.text_content("#place")
    _fill(page, "Karang Taruna ketuk")
    _save(page, 1)
    page.click("#locate")
    page.wait_for_function("document.getElementById('place').textContent.includes('± 15 m')")
    _fill(page, "Karang Taruna GPS")
    _save(page, 2)
    page.select_option("#site", SITE)
    page.wait_for_function("window.p4gnCapture.state.siteId === 'kampung-ambon'")
    _fill(page, "Karang Taruna situs")
    _save(page, 3)


def test_three_entries_offline_are_stored_once_when_back_online(app, browser, boundaries):
    ctx = _context(browser, app)
    page = _ready_offline(ctx, app)
    _three_entries(page)
    # an obvious mistake is caught on the phone: a tap in the sea cannot be saved
    _tap(page, 106.85, -6.03)
    assert "di luar DKI Jakarta" in page.text_content("#place")
    page.close()
    page = _open(ctx, app)  # reopened with no connection
    assert _pending(page) == 3
    assert len(app.records()) == 0
    ctx.set_offline(False)  # the page sends by itself when the connection returns
    page.wait_for_function("document.getElementById('pending').dataset.count === '0'", timeout=30_000)
    recs = app.records()
    assert len(recs) == 3 and recs["id"].is_unique
    by_org = dict(zip(recs["organisation"], recs["kelurahan_code"], strict=True))
    gps_kel = boundaries.assign([GPS[0]], [GPS[1]])["kelurahan_code"].iloc[0]
    assert by_org == {"Karang Taruna ketuk": "31.74.02.1006", "Karang Taruna GPS": gps_kel,
                      "Karang Taruna situs": "31.73.01.1004"}
    assert set(recs["created_by"]) == {"ani"}
    assert recs.set_index("organisation").loc["Karang Taruna situs", "site_id"] == SITE
    # reopening sends again what is pending (nothing): still three
    page.reload()
    page.wait_for_selector("#capture:not([hidden])")
    page.wait_for_function("document.querySelectorAll('#list li.sent').length === 3")
    assert len(app.records()) == 3
    # a refusal from the server comes back with its reason (the phone cannot see a phone number)
    ctx.set_offline(True)
    _tap(page, *TAP)
    _fill(page, "Karang Taruna ditolak", notes="hubungi 0812 3456 7890")
    _save(page, 1)
    ctx.set_offline(False)
    page.wait_for_selector("#list li.refused .reason", timeout=30_000)
    assert "phone number" in page.text_content("#list li.refused .reason")
    assert len(app.records()) == 3
    assert not page.errors and not ctx.external
    ctx.close()


def test_app_killed_while_sending_loses_nothing_and_stores_nothing_twice(app, browser, boundaries, taxonomy):
    ctx = _context(browser, app)
    page = _ready_offline(ctx, app)
    _three_entries(page)
    page.close()
    page = _open(ctx, app)
    assert _pending(page) == 3
    with page.expect_download() as dl:  # the fallback for a phone that never gets a connection
        page.click("#export")
    pending_file = app.tmp / "pending.geojson"
    dl.value.save_as(pending_file)
    seen = []

    def kill_while_sending(route):
        # the request reaches the server and is stored; the server dies before its answer arrives
        seen.append(route.request.url)
        response = route.fetch()
        assert response.status == 200
        app.kill()
        route.abort("connectionreset")

    ctx.route("**/api/capture/entries", kill_while_sending)
    ctx.set_offline(False)
    deadline = time.monotonic() + 30
    while not seen and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert seen, "the page did not send"
    page.wait_for_timeout(500)
    assert _pending(page) == 3  # no answer: still waiting on the phone
    assert len(app.records()) == 3  # but the server had stored them
    ctx.unroute("**/api/capture/entries", kill_while_sending)
    app.start()
    page.reload()  # sending starts on every open
    page.wait_for_function("document.getElementById('pending').dataset.count === '0'", timeout=30_000)
    recs = app.records()
    assert len(recs) == 3 and recs["id"].is_unique and (recs["version"] == 1).all()
    assert sorted(recs["organisation"]) == ["Karang Taruna GPS", "Karang Taruna ketuk", "Karang Taruna situs"]
    assert not page.errors
    ctx.close()
    # the saved file imports idempotently by id: into this store all duplicates; into an empty one, once
    from geo_p4gn import importers

    with open_store(app.store, boundaries=boundaries, taxonomy=taxonomy) as store:
        assert importers.import_file(store, pending_file, user="ani").summary()["duplicates"] == 3
    with open_store(app.tmp / "laptop.gpkg", boundaries=boundaries, taxonomy=taxonomy) as other:
        seed_store(other, starter=False)  # the same site registry
        first = importers.import_file(other, pending_file, user="ani").summary()
        again = importers.import_file(other, pending_file, user="ani").summary()
        kels = dict(zip(other.list()["id"], other.list()["kelurahan_code"], strict=True))
    assert (first["accepted"], again["accepted"], again["duplicates"]) == (3, 0, 3)
    assert kels == dict(zip(recs["id"], recs["kelurahan_code"], strict=True))
