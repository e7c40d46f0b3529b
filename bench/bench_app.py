"""The app in real Chromium at 100 000 records against the same app on an empty store, in the same run.

For each store a ``streamlit run app.py`` server is started on 127.0.0.1 and measured with Playwright
(Debian's Chromium, every request outside loopback blocked):

- **page load to map**: from ``page.goto(<server>/cakupan)`` in a new browser session to the coverage
  map drawn (the 267 kelurahan polygons and the legend in the map iframe). The first load after the
  server starts is reported apart (``cold``: the boundaries are read, and the store is listed once per
  data version); then ``--repeat`` loads in new sessions (``warm``, what every other user gets).
- **filter change**: on a loaded page, choosing one intervention type in the filters, until the rerun has
  finished and the redrawn map is in place (at 100k records the choropleth's colours change too, which is
  waited for as well). Alternately one type, then none; each session chooses a different type, so no change
  is served from what an earlier session left in the app's caches.
- **plain page**: a page with nothing but streamlit-folium drawing the same 267 kelurahan polygons and a
  legend (the project's local map assets, no store, no filters), loaded the same way in the same run: the
  floor of any Streamlit map page on this machine.
- **after a write**: one record is added to the store (as a field team would), then a page load in a new
  session: the store's data version changed, so the records are read again.
- **server memory**: the Streamlit process's peak resident size (VmHWM) after all of the above (goal: the app at
  1M records under 2 GB: ``--store bench/out/store_1000000.gpkg``, the store of ``bench_store_read.py``).
- **payload**: bytes the browser received on the websocket for a page load and for a filter change (the
  map is sent as areas and sites with their aggregates, so it must not grow with the records).

The empty store has the seed sites and no intervention; the big one the same sites and ``--n`` synthetic
records over the real 267 kelurahan (built once and kept in ``bench/out/``). Prints medians and the
ratios big / empty; asserts nothing about time.

Run: ``python bench/bench_app.py [--n 100000] [--repeat 5]`` (``GEO_P4GN_BOUNDARY_MIRROR`` when offline).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from geo_p4gn.boundaries import load_boundaries  # noqa: E402
from geo_p4gn.records import Intervention  # noqa: E402
from geo_p4gn.seed import seed_store  # noqa: E402
from geo_p4gn.store import open_store  # noqa: E402
from geo_p4gn.taxonomy import load_taxonomy  # noqa: E402
from tests.conftest import CHROMIUM_ARGS  # noqa: E402

MAP = 'iframe[title="streamlit_folium.st_folium"]'
OUT = ROOT / "bench" / "out"


# -- stores -------------------------------------------------------------------------------------------
def make_store(path: Path, n: int, boundaries, taxonomy, seed: int = 11) -> Path:
    """Seed sites and ``n`` synthetic records (points inside the kelurahan, 2023-2024, 30 % at a site)."""
    if path.exists():
        return path
    tmp = path.with_name(path.name + ".building")
    for p in tmp.parent.glob(tmp.name + "*"):
        p.unlink()
    rng = np.random.default_rng(seed)
    with open_store(tmp, boundaries=boundaries, taxonomy=taxonomy) as store:
        seed_store(store, starter=False)
        if n:
            sites = store.list_sites()
            kel = boundaries.kelurahan
            pts = shapely.point_on_surface(kel.geometry.to_numpy())
            k = rng.integers(0, len(pts), n)
            xs, ys = shapely.get_x(pts)[k], shapely.get_y(pts)[k]
            types, actors = np.array(taxonomy.type_keys), np.array(taxonomy.actor_keys)
            orgs = np.array([f"Organisasi {i}" for i in range(800)])
            site_ids = sites["id"].to_numpy()
            days = rng.integers(0, 730, n)
            start = dt.date(2023, 1, 1)
            batch = []
            for i in range(n):
                batch.append(Intervention(
                    id=str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i, version=4)),
                    date=start + dt.timedelta(days=int(days[i])),
                    type_key=str(types[rng.integers(0, len(types))]),
                    actor_key=str(actors[rng.integers(0, len(actors))]),
                    organisation=str(orgs[rng.integers(0, len(orgs))]),
                    geometry=shapely.Point(xs[i], ys[i]),
                    site_id=str(site_ids[rng.integers(0, len(site_ids))]) if rng.random() < 0.3 else None,
                    participants=int(rng.integers(5, 300)),
                ))
                if len(batch) == 20_000:
                    store.add_many(batch, user="bench")
                    batch = []
            if batch:
                store.add_many(batch, user="bench")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(tmp) + suffix)
        if src.exists():
            src.rename(str(path) + suffix)
    return path


# -- the server ---------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PLAIN_PAGE = """
import folium
import streamlit as st
from geo_p4gn_app import data, mapview

kel = data.boundaries().kelurahan
m = folium.Map(location=[-6.2, 106.85], zoom_start=10, tiles=None, max_zoom=19)
folium.GeoJson(kel[["code", "name", "geometry"]].to_json(), style_function=lambda f: {"fillColor": "#3182bd"}).add_to(m)
folium.Element('<div id="gp-legend">legend</div>').add_to(m.get_root().html)
mapview.show(m, key="plain")
"""


class Server:
    def __init__(self, store: Path, workdir: Path, script: str = "app.py"):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, GEO_P4GN_STORE=str(store), GEO_P4GN_USERS=str(workdir / "users.toml"),
                   GEO_P4GN_TILES="")
        self.log = open(workdir / f"streamlit-{self.port}.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start (see {self.log.name})")
            time.sleep(0.2)

    def peak_mb(self) -> float:
        """The server process's peak resident memory so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# -- measuring ------------------------------------------------------------------------------------------
class Session:
    """A new browser session on a page, counting websocket bytes and refusing any non-loopback request."""

    def __init__(self, browser, base: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.external: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.ws_bytes = 0
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        self.base = base

    def _route(self, route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            return route.continue_()
        self.external.append(url)
        return route.abort()

    def _frame(self, payload) -> None:
        self.ws_bytes += len(payload)

    def state(self) -> str | None:
        return self.page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")

    def frame(self):
        return self.page.locator(MAP).last.content_frame

    def fills(self) -> list[str]:
        return self.frame().locator("path.leaflet-interactive").evaluate_all(
            "els => els.map(e => e.getAttribute('fill'))")

    def wait_map(self, deadline: float, changed_from: list[str] | None = None) -> None:
        """Until the run has ended and one map shows the 267 kelurahan and the legend."""
        while True:
            try:
                ready = self.state() != "running" and self.page.locator(MAP).count() == 1 and \
                    self.frame().locator("#gp-legend").count() > 0 and len(fills := self.fills()) >= 267 and \
                    (changed_from is None or fills != changed_from)
            except PlaywrightError:  # the map is being replaced
                ready = False
            if ready:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the map did not appear")
            self.page.wait_for_timeout(25)

    def load(self, path: str = "/cakupan") -> float:
        t0 = time.perf_counter()
        self.page.goto(f"{self.base}{path}")
        self.wait_map(time.monotonic() + 180)
        return time.perf_counter() - t0

    def change_filter(self, type_label: str | None, expect_change: bool) -> float:
        """Choose one type (or clear the filters) and wait for the redrawn map."""
        page = self.page
        if not page.get_by_role("combobox", name="Jenis intervensi", exact=True).is_visible():
            page.get_by_text(re.compile(r"^Filter")).first.click()
            page.get_by_role("combobox", name="Jenis intervensi", exact=True).wait_for()
        before = self.fills()
        while self.state() == "running":
            page.wait_for_timeout(50)
        page.wait_for_timeout(500)
        t0 = time.perf_counter()
        if type_label is None:
            page.get_by_role("button", name=re.compile("Hapus semua filter")).click()
        else:
            for attempt in range(3):  # a list opened while the page re-renders closes again
                page.get_by_role("combobox", name="Jenis intervensi", exact=True).click()
                try:
                    page.keyboard.type(type_label)  # typed, not clicked: a click can miss a list being redrawn
                    page.get_by_role("option", name=type_label, exact=True).wait_for(timeout=5000)
                    t0 = time.perf_counter()  # from the choice, not from opening the list
                    page.keyboard.press("Enter")
                    break
                except PlaywrightTimeout:
                    if attempt == 2:
                        raise
                    page.keyboard.press("Escape")
            page.keyboard.press("Escape")
        started = time.monotonic() + 5
        while self.state() != "running" and time.monotonic() < started:  # the rerun starts
            page.wait_for_timeout(10)
        self.wait_map(time.monotonic() + 180, before if expect_change else None)
        return time.perf_counter() - t0

    def close(self) -> None:
        self.context.close()


def add_one(store_path: Path, boundaries, taxonomy) -> None:
    """One more record, as a field team would add it: the store's data version changes."""
    with open_store(store_path, boundaries=boundaries, taxonomy=taxonomy) as store:
        point = shapely.point_on_surface(boundaries.kelurahan.geometry.iloc[0])
        store.add(Intervention(id=str(uuid.uuid4()), date=dt.date(2024, 6, 1), type_key=taxonomy.type_keys[0],
                               actor_key=taxonomy.actor_keys[0], organisation="Bench", geometry=point),
                  user="bench")


def measure(browser, server: Server, repeat: int, expect_change: bool, type_labels: list[str], after_write) -> dict:
    out = {"cold": None, "warm": [], "filter": [], "load_bytes": [], "filter_bytes": [], "after_write": None}
    s = Session(browser, server.base)
    out["cold"] = s.load()
    s.close()
    external = list(s.external)
    for i in range(repeat):
        s = Session(browser, server.base)
        out["warm"].append(s.load())
        out["load_bytes"].append(s.ws_bytes)
        for label in (type_labels[i % len(type_labels)], None):  # a different type in every session
            b0 = s.ws_bytes
            out["filter"].append(s.change_filter(label, expect_change))
            out["filter_bytes"].append(s.ws_bytes - b0)
        external += s.external
        s.close()
    after_write()
    s = Session(browser, server.base)
    out["after_write"] = s.load()
    external += s.external
    s.close()
    out["peak_mb"] = server.peak_mb()
    if external:
        raise RuntimeError(f"requests left loopback: {sorted(set(external))[:5]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="records in the big store (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="warm page loads per store (default 5)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--store", type=Path, help="an existing store as the big one (e.g. bench/out/store_1000000.gpkg "
                        "of bench_store_read: the app at 1M records); copied, never changed")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    boundaries, taxonomy = load_boundaries(), load_taxonomy()
    OUT.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    if args.store:
        big = args.store
        with open_store(big, boundaries=boundaries, taxonomy=taxonomy) as st:
            args.n = len(st.list())
    else:
        big = make_store(OUT / f"app-{args.n}.gpkg", args.n, boundaries, taxonomy)
    built = time.perf_counter() - t
    type_labels = [taxonomy.label("types", k, "id") for k in taxonomy.type_keys]
    results = {}
    with tempfile.TemporaryDirectory(prefix="geo-p4gn-bench-app-") as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        empty = make_store(tmp / "empty.gpkg", 0, boundaries, taxonomy)
        shutil.copyfile(big, tmp / big.name)  # the kept copy stays as built (a record is added below)
        big = tmp / big.name
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            for name, store, change in (("empty", empty, False), (f"{args.n:,}", big, True)):
                server = Server(store, tmp)
                try:
                    results[name] = measure(browser, server, args.repeat, change, type_labels,
                                            lambda st=store: add_one(st, boundaries, taxonomy))
                finally:
                    server.stop()
            # beside app.py: Streamlit serves static/ (the local map assets) from the main script's folder
            script = ROOT / f".bench_plain_page_{os.getpid()}.py"
            script.write_text(PLAIN_PAGE, encoding="utf-8")
            server = Server(empty, tmp, script=script.name)
            try:
                plain = []
                for _ in range(args.repeat + 1):
                    s = Session(browser, server.base)
                    plain.append(s.load("/"))
                    s.close()
            finally:
                server.stop()
                script.unlink(missing_ok=True)
        finally:
            browser.close()

    med = statistics.median
    print(f"bench_app: Peta cakupan page, Chromium 1280x900, {args.repeat} warm loads and "
          f"{2 * args.repeat} filter changes per store (big store built or reused in {built:.1f} s)")
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs (other work inflates every figure)")
    print(f"{'store':>10} {'cold load':>10} {'warm load':>10} {'filter':>8} {'after write':>12} {'load KB':>8} "
          f"{'filter KB':>9} {'server peak':>12}")
    for name, r in results.items():
        print(f"{name:>10} {r['cold']:>9.2f}s {med(r['warm']):>9.2f}s {med(r['filter']):>7.2f}s "
              f"{r['after_write']:>11.2f}s {med(r['load_bytes']) / 1e3:>8.0f} {med(r['filter_bytes']) / 1e3:>9.0f} "
              f"{r['peak_mb']:>9.0f} MB")
    e, b = results["empty"], results[f"{args.n:,}"]
    print(f"ratio big/empty: cold load {b['cold'] / e['cold']:.2f}x, warm load {med(b['warm']) / med(e['warm']):.2f}x, "
          f"filter change {med(b['filter']) / med(e['filter']):.2f}x, "
          f"load payload {med(b['load_bytes']) / med(e['load_bytes']):.2f}x")
    print(f"plain streamlit-folium page (267 polygons and a legend, nothing else): cold {plain[0]:.2f} s, warm "
          f"{med(plain[1:]):.2f} s; warm load big / plain {med(b['warm']) / med(plain[1:]):.2f}x, empty / plain "
          f"{med(e['warm']) / med(plain[1:]):.2f}x")
    print("warm loads (s):", {k: [round(x, 2) for x in r["warm"]] for k, r in results.items()})
    print("filter changes (s):", {k: [round(x, 2) for x in r["filter"]] for k, r in results.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
