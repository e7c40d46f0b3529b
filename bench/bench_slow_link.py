"""The Catat page on a slow phone link (issue 12), against plain Streamlit "hello world" in the same run.

Chromium's network emulation (CDP ``Network.emulateNetworkConditions``: 400 kbps down and up, 400 ms
latency) for both servers, every request outside loopback reported (not routed: Playwright's routing disables the HTTP cache),
Debian's Chromium:

- **cold first load**: a new browser session opens ``/catat`` until the map is drawn (the kelurahan
  polygons in the map iframe); bytes = every HTTP response's transferred size plus the websocket frames;
- **from the browser cache**: the same session opens the page again (a reload: the HTTP cache is kept);
- **one tap**: a tap on the map until the page says which kelurahan the point is in.

Websocket bytes are the frames' payloads as the page receives them (binary frames decoded from CDP's base64;
before the permessage-deflate that ``.streamlit/config.toml`` turns on for the app, so the app's true
transfer is smaller; Chromium's emulation appeared to throttle the websocket by these inflated bytes too).

The baseline is a one-line Streamlit app (``st.write("hello")``) with the same server options, cold and
from the cache. Goals (issue 12): cold <= 30 s and <= 1.5 MB, cached <= 3 s, a tap <= 1.5 s. Prints the
figures; asserts nothing.

Run: ``python bench/bench_slow_link.py`` (``GEO_P4GN_BOUNDARY_MIRROR`` when offline).
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_p4gn.boundaries import load_boundaries  # noqa: E402
from geo_p4gn.seed import seed_store  # noqa: E402
from geo_p4gn.store import open_store  # noqa: E402
from geo_p4gn.taxonomy import load_taxonomy  # noqa: E402
from tests.conftest import CHROMIUM_ARGS  # noqa: E402

SLOW = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
MAP = 'iframe[title="streamlit_folium.st_folium"]'


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(script: str, cwd: Path, env: dict) -> tuple[str, subprocess.Popen]:
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.enableStaticServing", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                return base, proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{script} did not start")


def frame_size(frame: dict) -> int:
    """A websocket frame's payload in bytes: CDP gives a binary frame (Streamlit's protobuf) in base64, and
    inflated when permessage-deflate is on (so this counts the bytes before compression)."""
    data = frame["payloadData"]
    return len(base64.b64decode(data)) if frame.get("opcode") == 2 else len(data.encode())


class Meter:
    """A page on the slow link, counting the bytes it receives."""

    def __init__(self, context):
        self.page = context.new_page()
        self.cdp = context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", SLOW)
        self.bytes = 0
        self.cdp.on("Network.loadingFinished", lambda e: self._add(e.get("encodedDataLength", 0)))
        self.cdp.on("Network.webSocketFrameReceived", lambda e: self._add(frame_size(e["response"])))
        # requests are watched, not routed: Playwright's routing turns the HTTP cache off
        self.external: list[str] = []
        self.cdp.on("Network.requestWillBeSent", lambda e: self.external.append(e["request"]["url"]) if not
                    e["request"]["url"].startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)

    def _add(self, n):
        self.bytes += n


def load(meter: Meter, url: str, ready) -> tuple[float, int]:
    meter.bytes = 0
    t0 = time.monotonic()
    meter.page.goto(url, timeout=300_000)
    ready(meter.page)
    return time.monotonic() - t0, meter.bytes


def map_drawn(page):
    page.locator(MAP).first.wait_for(timeout=300_000)
    page.frame_locator(MAP).first.locator("path.leaflet-interactive").first.wait_for(state="attached",
                                                                                      timeout=300_000)


def main() -> int:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="geo-p4gn-bench-slow-"))
    store = tmp / "p4gn.gpkg"
    with open_store(store, boundaries=load_boundaries(), taxonomy=load_taxonomy()) as s:
        seed_store(s)
    (tmp / "hello.py").write_text('import streamlit as st\n\nst.write("hello")\n', encoding="utf-8")
    env = dict(os.environ, GEO_P4GN_STORE=str(store), GEO_P4GN_USERS=str(tmp / "users.toml"), GEO_P4GN_TILES="")
    app, app_proc = serve("app.py", ROOT, env)
    hello, hello_proc = serve(str(tmp / "hello.py"), tmp, env)
    out = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name, base, path, ready in (
                    ("hello world", hello, "/", lambda page: page.get_by_text("hello").wait_for(timeout=300_000)),
                    ("Catat", app, "/catat", map_drawn)):
                context = browser.new_context(viewport={"width": 390, "height": 844})
                meter = Meter(context)
                cold = load(meter, base + path, ready)
                time.sleep(2)
                cached = load(meter, base + path, ready)
                out[name] = {"cold": cold, "cached": cached, "external": meter.external}
                if name == "Catat":
                    time.sleep(3)
                    frame = meter.page.frame_locator(MAP).first
                    box = frame.locator(".leaflet-container").bounding_box()
                    meter.bytes = 0
                    t0 = time.monotonic()
                    frame.locator(".leaflet-container").click(position={"x": box["width"] * 0.5,
                                                                        "y": box["height"] * 0.55})
                    meter.page.get_by_text(re.compile(r"Titik di Kelurahan")).wait_for(timeout=120_000)
                    out[name]["tap"] = (time.monotonic() - t0, meter.bytes)
                context.close()
            browser.close()
    finally:
        for proc in (app_proc, hello_proc):
            proc.terminate()
            proc.wait(timeout=20)
    print("400 kbps / 400 ms (Chromium emulation), 390 x 844")
    for name, r in out.items():
        line = (f"{name:12s} cold {r['cold'][0]:6.1f} s {r['cold'][1] / 1e6:5.2f} MB | "
                f"cached {r['cached'][0]:5.1f} s {r['cached'][1] / 1e6:5.2f} MB")
        if "tap" in r:
            line += f" | tap {r['tap'][0]:4.1f} s {r['tap'][1] / 1e3:5.1f} KB"
        print(line + (f" | OUTSIDE LOOPBACK: {r['external'][:3]}" if r["external"] else ""))
    print("goals: Catat cold <= 30 s and <= 1.5 MB, cached <= 3 s, tap <= 1.5 s (issue 12; before: 99 s, 3.7 MB, "
          "tap 3.3 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
