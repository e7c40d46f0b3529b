"""The offline capture page on an emulated slow phone link, against the app's own Catat page in the same run.

A ``streamlit run app.py`` server (st.App with the routes, gzip on) is started on 127.0.0.1 with a new
seeded store in the single-user mode, and measured in Debian's Chromium with CDP network emulation
(``Network.emulateNetworkConditions``: 400 kbps down and up, 400 ms latency; every request outside
loopback blocked):

- **capture, cold first load**: a new browser session opens ``/capture/#token=...`` (the app's sign-in
  link) until the page is ready to record: the form filled from the taxonomy, the sites and the 267
  kelurahan shapes on the map. Goal <= 15 s and <= 600 KB transferred (bytes on the wire as Chromium
  counts them, headers included). Service workers are blocked in this session: a worker's own fetches
  are neither throttled nor counted by the page's emulation; on a real first visit its precache
  revalidates the same files (304s; Leaflet from the HTTP cache).
- **capture, reopen offline**: the same session with no connection (``set_offline``), page closed and
  opened again, until ready (served by the service worker and IndexedDB). Goal <= 2 s.
- **baseline**: the Streamlit Catat page, cold, in a new session on the same link, until its map is drawn.

Prints seconds and KB with the ratios capture / baseline; asserts nothing about time.

Run: ``python bench/bench_capture.py [--repeat 3] [--kbps 400] [--latency 400]``
(``GEO_P4GN_BOUNDARY_MIRROR`` when offline).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.app_server import running_app  # noqa: E402

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@contextlib.contextmanager
def started_app(tmp: Path):
    """The app on a new seeded store, its caches warmed; yields its base URL."""
    from geo_p4gn.boundaries import load_boundaries
    from geo_p4gn.seed import seed_store
    from geo_p4gn.store import open_store
    from geo_p4gn.taxonomy import load_taxonomy

    store = tmp / "p4gn.gpkg"
    with open_store(store, boundaries=load_boundaries(), taxonomy=load_taxonomy()) as s:
        seed_store(s)
    env = {"GEO_P4GN_STORE": str(store), "GEO_P4GN_USERS": str(tmp / "users.toml"),
           "GEO_P4GN_TOKENS": str(tmp / "tokens.json"), "GEO_P4GN_TILES": ""}
    with running_app(tmp, env) as base:
        # warm the server's caches (store, shapes, form) so that the browser's numbers are the link's
        req = urllib.request.Request(f"{base}/api/capture/token", data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            token = json.load(r)["token"]
        cfg = urllib.request.Request(f"{base}/api/capture/config", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(cfg, timeout=60) as r:
            geo = json.load(r)["geometry_url"]
        urllib.request.urlopen(f"{base}{geo}", timeout=60).read()
        urllib.request.urlopen(f"{base}/catat", timeout=60).read()
        yield base


def _token(base: str) -> str:
    req = urllib.request.Request(f"{base}/api/capture/token", data=b"{}", method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["token"]


class Link:
    """One page's CDP session: the emulated link and the bytes received."""

    def __init__(self, context, page, kbps: int, latency: int):
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": latency, "downloadThroughput": kbps * 1000 / 8,
            "uploadThroughput": kbps * 1000 / 8})
        self.bytes = 0
        self.requests = 0
        self.cdp.on("Network.loadingFinished", self._done)
        self.cdp.on("Network.webSocketFrameReceived", self._ws)

    def _done(self, ev):
        self.bytes += ev.get("encodedDataLength", 0)
        self.requests += 1

    def _ws(self, ev):
        self.bytes += len(ev.get("response", {}).get("payloadData", ""))


def _block(route):
    if re.match(r"^(https?|wss?)://127\.0\.0\.1(:\d+)?/", route.request.url) or route.request.url.startswith(
            ("data:", "blob:")):
        return route.continue_()
    return route.abort()


READY = "window.p4gnCapture && window.p4gnCapture.state.shapesReady && document.querySelectorAll('#entry select[name=type] option').length > 1"


def capture_run(browser, base: str, kbps: int, latency: int) -> dict:
    # cold: the page's own requests, all on the emulated link. A service worker's fetches go out from the
    # worker's target, which the page's emulation neither throttles nor counts, so this session runs with
    # service workers blocked; the worker's precache on a real first visit revalidates the same files
    # (304s, Leaflet from the HTTP cache).
    ctx = browser.new_context(service_workers="block")
    ctx.route("**/*", _block)
    page = ctx.new_page()
    link = Link(ctx, page, kbps, latency)
    t0 = time.perf_counter()
    page.goto(f"{base}/capture/#token={_token(base)}", timeout=120_000)
    page.wait_for_function(READY, timeout=120_000, polling=50)
    cold = time.perf_counter() - t0
    page.wait_for_timeout(1500)  # the CDP events of the last responses are delivered
    cold_bytes, cold_requests = link.bytes, link.requests
    ctx.close()
    # reopen: a session whose worker is installed, then no connection, the page closed and opened again
    ctx = browser.new_context(service_workers="allow")
    ctx.route("**/*", _block)
    page = ctx.new_page()
    page.goto(f"{base}/capture/#token={_token(base)}", timeout=120_000)
    page.wait_for_function(READY, timeout=120_000, polling=50)
    page.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)",
                           timeout=120_000, polling=2000)
    page.wait_for_function(READY, timeout=120_000, polling=50)
    ctx.set_offline(True)
    page.close()
    page = ctx.new_page()
    t0 = time.perf_counter()
    page.goto(f"{base}/capture/", timeout=60_000)
    page.wait_for_function(READY, timeout=60_000, polling=20)
    reopen = time.perf_counter() - t0
    ctx.close()
    return {"cold_s": cold, "cold_kb": cold_bytes / 1000, "cold_requests": cold_requests, "reopen_s": reopen}


def baseline_run(browser, base: str, kbps: int, latency: int) -> dict:
    ctx = browser.new_context()
    ctx.route("**/*", _block)
    page = ctx.new_page()
    link = Link(ctx, page, kbps, latency)
    t0 = time.perf_counter()
    page.goto(f"{base}/catat", timeout=300_000)
    frame = page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=300_000)
    page.wait_for_function("(f) => f.getBoundingClientRect().height > 100", arg=frame, timeout=300_000)
    frame.content_frame().wait_for_selector(".leaflet-interactive", timeout=300_000)
    took = time.perf_counter() - t0
    page.wait_for_timeout(1500)
    ctx.close()
    return {"cold_s": took, "cold_kb": link.bytes / 1000, "cold_requests": link.requests}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kbps", type=int, default=400)
    ap.add_argument("--latency", type=int, default=400)
    ap.add_argument("--no-baseline", action="store_true", help="skip the (slow) Streamlit page")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with (tempfile.TemporaryDirectory(prefix="geo-p4gn-bench-capture-") as tmp,
          started_app(Path(tmp)) as base, sync_playwright() as p):
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        runs = [capture_run(browser, base, args.kbps, args.latency) for _ in range(args.repeat)]
        base_run = None if args.no_baseline else baseline_run(browser, base, args.kbps, args.latency)
        browser.close()
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"link: {args.kbps} kbps, {args.latency} ms latency (CDP emulation); {args.repeat} runs, medians")
    print(f"capture page, cold first load: {med['cold_s']:.2f} s, {med['cold_kb']:.0f} KB, "
          f"{med['cold_requests']:.0f} requests   (goal <= 15 s, <= 600 KB)")
    print(f"capture page, reopen offline:  {med['reopen_s']:.2f} s   (goal <= 2 s)")
    print("  each run: " + "; ".join(f"{r['cold_s']:.2f} s / {r['cold_kb']:.0f} KB / reopen {r['reopen_s']:.2f} s"
                                     for r in runs))
    if base_run:
        print(f"baseline, Streamlit Catat page cold: {base_run['cold_s']:.2f} s, {base_run['cold_kb']:.0f} KB, "
              f"{base_run['cold_requests']:.0f} requests")
        print(f"ratio capture / baseline: time {med['cold_s'] / base_run['cold_s']:.2f}x, "
              f"bytes {med['cold_kb'] / base_run['cold_kb']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
