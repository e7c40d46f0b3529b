"""What the app re-sends on every rerun (a tap, a filter change), against a plain folium page of the map.

Streamlit re-sends a page's map on each rerun: ``st_folium`` gets the whole folium page as HTML. The app's
maps carry codes, names and totals and fetch the boundary shapes once from ``static/geo/`` (kept by the
browser); a map built the way folium's documentation shows (``folium.GeoJson`` of the 267 kelurahan and the
6 kota, a ``CircleMarker`` per site) carries every polygon on every rerun. Both are measured in the same run,
on the same seeded store and the real boundaries, and printed with their ratio:

- **catat**: the Catat page's map (what a tap re-sends), against the plain page with the kelurahan and kota
  shapes inline and the sites as markers;
- **cakupan**: the coverage map with its default filters, against the same plain page.

The pages run in-process under ``streamlit.testing`` with ``st_folium`` replaced by a recorder (as in
``tests/app``), so this needs no browser; ``bench/bench_app.py`` counts the real websocket bytes in Chromium
and ``bench/bench_export_size.py`` measures the offline HTML export. The budget the suite used to assert,
150 KB for the map a tap re-sends (the shapes inline made it ~500 KB), is checked here: exit 1 over it.

Run: ``python bench/bench_payload.py`` (``GEO_P4GN_BOUNDARY_MIRROR`` when offline).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = Path(tempfile.mkdtemp(prefix="geo-p4gn-bench-payload-"))
# before geo_p4gn.settings is imported: a fresh store, no users file (single-user mode), no tiles
os.environ["GEO_P4GN_STORE"] = str(WORK / "p4gn.gpkg")
os.environ["GEO_P4GN_USERS"] = str(WORK / "no-users.toml")
os.environ["GEO_P4GN_TILES"] = ""

import folium  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from geo_p4gn.boundaries import load_boundaries  # noqa: E402
from geo_p4gn.seed import seed_store  # noqa: E402
from geo_p4gn.store import open_store  # noqa: E402
from geo_p4gn.taxonomy import load_taxonomy  # noqa: E402

#: the map one tap re-sends, at most (was asserted in tests/app/test_catat.py)
TAP_BUDGET = 150_000
#: the script holding the pages (``app_main.py`` once app.py became the server around it)
SCRIPT = next(p for p in (ROOT / "app_main.py", ROOT / "app.py") if p.exists())


def page_html(page: str) -> str:
    """The HTML of the last map ``page`` handed to st_folium."""
    calls = []

    def record(fig, **kw):
        calls.append(fig)
        return {}

    with mock.patch("streamlit_folium.st_folium", side_effect=record):
        at = AppTest.from_file(str(SCRIPT), default_timeout=120)
        at.run()
        at.switch_page(f"app_pages/{page}.py").run()
        if at.exception:
            raise SystemExit(f"{page}: {[e.message for e in at.exception]}")
    if not calls:
        raise SystemExit(f"{page}: no map was drawn")
    return calls[-1].get_root().render()


def plain_page(boundaries, sites) -> str:
    """The same map the plain folium way: every shape inline, a marker and tooltip per site."""
    m = folium.Map(location=[-6.2, 106.83], zoom_start=11, tiles=None)
    folium.GeoJson(boundaries.kelurahan[["code", "name", "geometry"]], name="Kelurahan",
                   style_function=lambda f: {"color": "#666", "weight": 0.6, "fillOpacity": 0.1},
                   tooltip=folium.GeoJsonTooltip(fields=["name"])).add_to(m)
    folium.GeoJson(boundaries.kota[["code", "name", "geometry"]], name="Kota",
                   style_function=lambda f: {"color": "#333", "weight": 2, "fill": False}).add_to(m)
    group = folium.FeatureGroup(name="Situs").add_to(m)
    for site in sites.itertuples():
        folium.CircleMarker([site.geometry.y, site.geometry.x], radius=7, fill=True,
                            tooltip=site.name).add_to(group)
    folium.LayerControl().add_to(m)
    return m.get_root().render()


def main() -> int:
    boundaries, taxonomy = load_boundaries(), load_taxonomy()
    with open_store(os.environ["GEO_P4GN_STORE"], boundaries=boundaries, taxonomy=taxonomy) as store:
        seed_store(store)
        sites = store.list_sites()
    plain = len(plain_page(boundaries, sites).encode("utf-8"))
    print(f"{'page':>8} | {'app map':>9} | {'plain folium':>12} | {'app/plain':>9}")
    over = False
    for page in ("catat", "cakupan"):
        size = len(page_html(page).encode("utf-8"))
        print(f"{page:>8} | {size / 1e3:>7.1f}KB | {plain / 1e3:>10.1f}KB | {size / plain:>9.3f}")
        over |= page == "catat" and size > TAP_BUDGET
    print(f"budget for the map a tap re-sends (catat): {TAP_BUDGET / 1e3:.0f} KB: "
          f"{'EXCEEDED' if over else 'met'}; store {len(sites)} seed sites, "
          f"{len(boundaries.kelurahan)} kelurahan")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
