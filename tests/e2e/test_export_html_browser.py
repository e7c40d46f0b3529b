"""The shareable HTML map in headless Chromium with every network request blocked.

The exported file must draw (polygons in the DOM), show the legend and the tables, log no console
error and request nothing outside the file; payloads stored in every text field show verbatim and
never run; sentinels planted in every column that is not allow-listed appear nowhere; and a public
export holds no coordinate finer than the kelurahan's.
"""

from __future__ import annotations

import datetime as dt
import re

import geopandas as gpd
import pytest
import shapely

from geo_p4gn import cli
from geo_p4gn.filters import Filters
from geo_p4gn.render.html import MAX_ORGANISATIONS, render_export
from geo_p4gn.taxonomy import Taxonomy, Term
from tests.conftest import CHROMIUM_ARGS, PAYLOADS

pytestmark = pytest.mark.browser

#: Planted in columns that are never exported.
SENTINEL = "SNTL-never-9f2c"
#: Planted in columns that only the internal export shows (organisation, aliases, free-text sources).
PRIVATE = "SNTL-private-41d7"
#: Sites sit this far (degrees) from their kelurahan's representative point: a point the public file must not hold.
OFFSET = (0.0012345, -0.0006789)
KELURAHAN = ("31.73.01.1004", "31.72.02.1001", "31.73.07.1006", "31.75.01.1005", "31.71.08.1004",
             "31.71.07.1007")


@pytest.fixture(scope="module")
def payload_taxonomy(taxonomy):
    """The real keys with payload labels: taxonomy labels reach the layer control, the legend and tables."""
    def terms(group):
        return tuple(Term(key=t.key, id=f"{PAYLOADS[i % len(PAYLOADS)]} {t.id}",
                          en=f"{PAYLOADS[i % len(PAYLOADS)]} {t.en}", rank=t.rank, color=t.color)
                     for i, t in enumerate(group))
    return Taxonomy(year=2024, types=terms(taxonomy.types), actors=terms(taxonomy.actors), ikrn=terms(taxonomy.ikrn))


def _rep_points(boundaries) -> dict[str, tuple[float, float]]:
    kel = boundaries.kelurahan
    pts = shapely.point_on_surface(kel.geometry.to_numpy())
    return {c: (round(p.x, 5), round(p.y, 5)) for c, p in zip(kel["code"], pts)}


@pytest.fixture(scope="module")
def frames(boundaries, taxonomy):
    """Seven sites (two share a kelurahan), one per payload, and 60 records, with sentinels everywhere."""
    rep = _rep_points(boundaries)
    rows = []
    for i, payload in enumerate((*PAYLOADS, PAYLOADS[0] + " kedua")):
        code = KELURAHAN[min(i, len(KELURAHAN) - 1)]
        x, y = rep[code]
        rows.append({
            "id": f"site-{i}", "name": payload, "aliases": [payload, f"{PRIVATE} alias"], "kelurahan_code": code,
            "approximate": i % 2 == 0, "ikrn": taxonomy.ikrn_keys[i % 4],
            "sources": [f"https://example.org/source-{i}", f"{PRIVATE} field notes", payload],
            "reported_as": SENTINEL, "status": SENTINEL, "created_by": SENTINEL, "notes": SENTINEL,
            "geometry": shapely.Point(x + OFFSET[0] + i * 1e-5, y + OFFSET[1]),
        })
    sites = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    recs = []
    for n in range(60):
        site = n % 8  # 7 = no site
        recs.append({
            "id": f"{SENTINEL}-id-{n}", "date": dt.date(2024, 1 + n % 12, 1 + n % 28), "end_date": None,
            "type_key": taxonomy.type_keys[n % len(taxonomy.type_keys)],
            "actor_key": taxonomy.actor_keys[n % len(taxonomy.actor_keys)],
            "organisation": f"{PAYLOADS[n % len(PAYLOADS)]} {PRIVATE}",
            "site_id": f"site-{site}" if site < 7 else None,
            "kelurahan_code": KELURAHAN[min(site, 5)] if site < 7 else "31.74.01.1001",
            "participants": n, "notes": f"{SENTINEL} {PAYLOADS[n % len(PAYLOADS)]}",
            "created_by": SENTINEL, "updated_by": SENTINEL, "created_at": SENTINEL, "updated_at": SENTINEL,
            "deleted": n == 59, "version": 1, "secret": SENTINEL,
            "geometry": shapely.Point(106.7777777, -6.3333333),
        })
    records = gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326")
    return records, sites


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Opened:
    """A page opened from a file with every non-file request aborted and recorded."""

    def __init__(self, browser, path, width=1200):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.requests, self.errors = [], []

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                self.requests.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("path.leaflet-interactive", state="attached")

    def close(self):
        self.context.close()


# What a reader can open: all overlays on, every popup and the tooltips of every area and site opened (of
# the type layers' circles one in 25: opening a tooltip takes ~15 ms and they share one code path), the
# legend toggled. Returns the texts shown, the circle markers' positions and the layer control's text.
_OPEN_EVERYTHING = """() => {
    const map = window[Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)];
    document.querySelectorAll('.leaflet-control-layers-selector').forEach(box => { if (!box.checked) box.click(); });
    const texts = [];
    let other = 0;
    map.eachLayer(layer => {
        const sample = (layer.getPopup && layer.getPopup()) || other++ % 25 === 0;
        if (layer.getTooltip && layer.getTooltip() && sample) {
            layer.openTooltip();
            texts.push(layer.getTooltip().getElement().textContent);
            layer.closeTooltip();
        }
        if (layer.getPopup && layer.getPopup()) {
            layer.getPopup().options.autoPan = false;
            layer.openPopup();
            texts.push(layer.getPopup().getElement().textContent);
        }
    });
    document.querySelector('.gp-legend-title').click();
    const markers = [];
    map.eachLayer(layer => {
        if (layer instanceof L.CircleMarker) { const p = layer.getLatLng(); markers.push([p.lng, p.lat]); }
    });
    const overlays = document.querySelector('.leaflet-control-layers-overlays').textContent;
    return {texts: texts, markers: markers, overlays: overlays};
}"""


def _export(tmp_path, name, records, sites, boundaries, taxonomy, **kw):
    page = render_export(records, sites, boundaries=boundaries, taxonomy=taxonomy, as_of=dt.date(2025, 1, 1),
                         made=dt.datetime(2025, 1, 2, 9, 30, tzinfo=dt.UTC), **kw)
    path = tmp_path / name
    path.write_text(page, encoding="utf-8")
    return path, page


@pytest.mark.parametrize("public", [False, True], ids=["internal", "public"])
def test_export_draws_offline_and_never_runs_payloads(browser, tmp_path, frames, boundaries, payload_taxonomy,
                                                     public):
    records, sites = frames
    filters = Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31), sites=("site-0", "site-5"))
    path, _page = _export(tmp_path, "map.html", records, sites, boundaries, payload_taxonomy, public=public,
                         filters=Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31)))
    opened = Opened(browser, path)
    try:
        p = opened.page
        n_kel = len(boundaries.kelurahan)
        n_markers = len(sites) if not public else sites["kelurahan_code"].nunique()
        assert p.locator("path.leaflet-interactive").count() == n_kel + n_markers
        assert p.locator("#gp-legend").is_visible()
        assert p.locator("#gp-legend").inner_text().startswith("Jumlah intervensi")
        assert p.locator("#gp-site-table tbody tr").count() == len(sites)
        assert p.locator("#gp-matrix-table tbody tr").count() == len(payload_taxonomy.types) + 1
        assert p.locator("#gp-period").inner_text() == "Periode: 2024-01-01 sampai 2024-12-31"
        opened_all = p.evaluate(_OPEN_EVERYTHING)
        p.wait_for_timeout(100)
        assert p.evaluate("typeof window.__pwned") == "undefined"
        assert opened.errors == [] and opened.requests == []

        # shown verbatim: site names in the table and popups, taxonomy labels in the layer control and matrix
        table = p.locator("#gp-site-table").inner_text()
        popups = "\n".join(opened_all["texts"])
        for payload in PAYLOADS:
            assert payload in table and payload in popups
        matrix = p.locator("#gp-matrix-table").inner_text()
        for term in payload_taxonomy.types:  # each label holds a payload
            assert term.id in opened_all["overlays"] and term.id in matrix
        assert all(term.id in matrix for term in payload_taxonomy.actors)
        for evaluated in ("Probe 49", "XXX", "uid="):
            assert evaluated not in table + popups + opened_all["overlays"] + matrix
        assert (PRIVATE in table) is not public and (PRIVATE in popups) is not public

        rep = set(_rep_points(boundaries).values())
        markers = {(round(x, 5), round(y, 5)) for x, y in opened_all["markers"]}
        site_points = {(round(g.x, 5), round(g.y, 5)) for g in sites.geometry}
        if public:
            assert markers <= rep
        else:
            assert site_points <= markers
    finally:
        opened.close()

    # the filtered title, one more file: a site filter shows the (escaped) site names
    path, _ = _export(tmp_path, "filtered.html", records, sites, boundaries, payload_taxonomy, public=public,
                      filters=filters, lang="en")
    opened = Opened(browser, path, width=390)
    try:
        text = opened.page.locator("#gp-filters").inner_text()
        assert text == f"Filters: Sites: {PAYLOADS[0]}, {PAYLOADS[5]}"
        assert opened.page.locator("#gp-site-table tbody tr").count() == 2
        assert opened.page.locator("#gp-legend").inner_text() == "Interventions"  # collapsed on a phone
        opened.page.evaluate(_OPEN_EVERYTHING)
        assert opened.page.evaluate("typeof window.__pwned") == "undefined"
        assert opened.errors == [] and opened.requests == []
    finally:
        opened.close()


@pytest.mark.parametrize("public", [False, True], ids=["internal", "public"])
def test_sentinels_and_fine_coordinates_stay_out(tmp_path, frames, boundaries, taxonomy, public):
    records, sites = frames
    _, page = _export(tmp_path, "map.html", records, sites, boundaries, taxonomy, public=public)
    assert SENTINEL not in page
    assert (PRIVATE in page) is not public
    assert "[106.77778,-6.33333]" not in page and "[-6.33333,106.77778" not in page  # records' points: unread
    map_script = page.rsplit("<script>", 1)[1]
    decimals = {len(n.split(".")[1]) for n in re.findall(r"\d+\.\d+", map_script)}
    assert max(decimals) <= 5
    for g in sites.geometry:
        x, y = round(g.x, 5), round(g.y, 5)
        held = f"[{x},{y}]" in page or f"[{y},{x}," in page
        assert held is not public


def test_cli_export_from_the_geopackage_store(browser, tmp_path, boundaries, taxonomy):
    """The CLI path: ``geo-p4gn export html`` (through the services) -> a file that is safe and opens offline."""
    from geo_p4gn.records import validate_record
    from geo_p4gn.sites import seed_sites
    from geo_p4gn.store import open_store

    store = open_store(str(tmp_path / "p4gn.gpkg"), boundaries=boundaries, taxonomy=taxonomy)
    ORGS = PAYLOADS[:MAX_ORGANISATIONS]
    try:
        seeds = seed_sites(boundaries, taxonomy)
        for row in seeds.to_dict("records"):
            store.upsert_site(row | {"aliases": [*row["aliases"], PAYLOADS[1]]}, user=SENTINEL)
        point = seeds.geometry.iloc[0]
        recs = [validate_record({"date": f"2024-0{1 + i % 9}-15", "type": taxonomy.type_keys[i % 7],
                                 "actor": taxonomy.actor_keys[i % 5], "organisation": ORGS[i % len(ORGS)],
                                 "site_id": seeds["id"].iloc[0], "lon": point.x, "lat": point.y,
                                 "notes": f"{SENTINEL} {PAYLOADS[i % len(PAYLOADS)]}"}, taxonomy=taxonomy)
                for i in range(14)]
        store.add_many(recs, user=f"{SENTINEL}-user")
    finally:
        store.close()
    for public in (False, True):
        out = tmp_path / f"cli-{public}.html"
        argv = ["export", "html", str(out), "--store", str(tmp_path / "p4gn.gpkg"), "--from", "2024-01-01"]
        assert cli.main(argv + (["--public"] if public else [])) == 0
        page = out.read_text(encoding="utf-8")
        assert SENTINEL not in page and all(r.id not in page for r in recs)
        assert ("Kompleks Permata" in page) is not public  # an alias: internal only
        opened = Opened(browser, out)
        try:
            p = opened.page
            assert p.locator("#gp-site-table tbody tr").count() == len(seeds)
            first = p.locator("#gp-site-table tbody tr").first.inner_text()
            assert "7/7" in first and "5/5" in first and "14" in first and "2024-09-15" in first
            p.evaluate(_OPEN_EVERYTHING)
            assert p.evaluate("typeof window.__pwned") == "undefined"
            assert opened.errors == [] and opened.requests == []
            if not public:
                assert all(payload in p.locator("#gp-site-table").inner_text() for payload in ORGS)
        finally:
            opened.close()


def test_english_and_metrics(tmp_path, frames, boundaries, taxonomy):
    records, sites = frames
    _, page = _export(tmp_path, "en.html", records, sites, boundaries, taxonomy, lang="en",
                      metric="type_completeness")
    assert '<html lang="en">' in page
    assert "Intervention type completeness" in page and "Summary per site" in page
    assert "Ringkasan" not in page
    with pytest.raises(ValueError, match="metric"):
        _export(tmp_path, "x.html", records, sites, boundaries, taxonomy, metric="nope")
    with pytest.raises(ValueError, match="lang"):
        _export(tmp_path, "x.html", records, sites, boundaries, taxonomy, lang="fr")


def test_empty_store_tiles_and_cited_sources(tmp_path, frames, boundaries, taxonomy):
    from geo_p4gn.render.assets import external_loads

    empty = {c: [] for c in ("date", "type_key", "actor_key", "kelurahan_code")}
    _, page = _export(tmp_path, "empty.html", gpd.GeoDataFrame(empty), None, boundaries, taxonomy)
    assert external_loads(page) == [] and 'id="gp-site-table">Tidak ada situs sasaran.' in page
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    _, page = _export(tmp_path, "tiles.html", gpd.GeoDataFrame(empty), None, boundaries, taxonomy, tiles=tiles)
    assert external_loads(page) == [tiles]
    records, sites = frames  # only the sources of the sites in the export are cited
    _, page = _export(tmp_path, "one.html", records, sites, boundaries, taxonomy, filters=Filters(sites=("site-2",)))
    assert "https://example.org/source-2" in page and "https://example.org/source-3" not in page
