"""Escaping, the allow-list and the offline asset layer, without a browser (tiny hand-built frames)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_p4gn._errors import P4gnError
from geo_p4gn.render import assets, maps
from geo_p4gn.render.html import allowed_records, allowed_sites
from tests.conftest import HTML_PAYLOADS as BROWSER_PAYLOADS

PAYLOADS = (*BROWSER_PAYLOADS, "\u2028\u2029&amp;</SCRIPT >")


def _points(**columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    geoms = [shapely.Point(106.8 + i * 0.01, -6.2) for i in range(n)]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4326")


# -- esc / to_js -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", PAYLOADS)
def test_esc_leaves_no_active_character(payload):
    out = maps.esc(payload)
    assert not set(out) & set("<>\"'`$\\")
    assert out.count("&") == len(re.findall(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", out))


def test_esc_exact():
    assert maps.esc("a<b>&\"'`$\\") == "a&lt;b&gt;&amp;&quot;&#x27;&#96;&#36;&#92;"
    assert maps.esc(None) == ""


@pytest.mark.parametrize("payload", PAYLOADS)
def test_to_js_is_inert_in_a_script_and_round_trips(payload):
    value = {"t": payload, "rows": [[payload, 1]]}
    out = maps.to_js(value)
    assert not set(out) & set("<>&'`$\u2028\u2029")
    assert json.loads(out) == value


def test_to_js_plain_values():
    frame = pd.DataFrame({"n": [1], "x": [float("nan")], "d": [pd.Timestamp("2024-08-17")]})
    assert maps.to_js(frame.to_dict("records")) == '[{"n":1,"x":null,"d":"2024-08-17"}]'


# -- the allow-list ----------------------------------------------------------------------------------------
def test_feature_collection_keeps_only_named_columns():
    frame = _points(code=["a", "b"], secret=["SENTINEL-1", "SENTINEL-2"])
    fc = maps.feature_collection(frame, ["code"])
    assert [f["properties"] for f in fc["features"]] == [{"code": "a"}, {"code": "b"}]
    assert "SENTINEL" not in json.dumps(fc)
    assert maps.feature_collection(frame)["features"][0]["properties"] == {}
    with pytest.raises(P4gnError, match="secretz"):
        maps.feature_collection(frame, ["secretz"])


def test_geometry_is_rounded_to_five_decimals():
    poly = shapely.Polygon([(106.8123456789, -6.2000001), (106.8200004, -6.2), (106.82, -6.21123456)])
    fc = maps.feature_collection(gpd.GeoDataFrame(geometry=[poly], crs="EPSG:4326"))
    numbers = re.findall(r"-?\d+\.\d+", json.dumps(fc))
    assert numbers and all(len(n.split(".")[1]) <= 5 for n in numbers)
    assert "106.81235" in json.dumps(fc)


def test_feature_collection_reprojects():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(700000, 9300000)], crs="EPSG:32748")
    lon, lat = maps.feature_collection(frame)["features"][0]["geometry"]["coordinates"]
    assert 106 < lon < 107 and -7 < lat < -6


def test_allowed_records_drops_everything_else():
    recs = pd.DataFrame({"id": ["SENTINEL"], "date": ["2024-01-01"], "type_key": ["t"], "actor_key": ["a"],
                         "kelurahan_code": ["31.71.01.1001"], "notes": ["SENTINEL"], "created_by": ["SENTINEL"]})
    out = allowed_records(recs)
    assert list(out.columns) == ["date", "end_date", "type_key", "actor_key", "organisation", "site_id",
                                 "kelurahan_code", "participants", "deleted"]
    assert "SENTINEL" not in out.to_string()
    assert out["deleted"].tolist() == [False]


def test_allowed_sites_public_has_no_geometry_aliases_or_text_sources():
    sites = _points(id=["s1"], name=["Kampung"], aliases=[["SENTINEL alias"]], kelurahan_code=["31.71.01.1001"],
                    ikrn=[None], sources=[["https://example.org/a", "SENTINEL field visit"]],
                    reported_as=["SENTINEL"])
    pub = allowed_sites(sites, public=True)
    assert list(pub.columns) == ["id", "name", "kelurahan_code", "ikrn", "sources"]
    assert not isinstance(pub, gpd.GeoDataFrame)
    assert pub.loc[0, "sources"] == ["https://example.org/a"]
    internal = allowed_sites(sites, public=False)
    assert list(internal.columns) == ["id", "name", "aliases", "kelurahan_code", "approximate", "ikrn",
                                      "sources", "geometry"]
    assert "SENTINEL" not in internal.drop(columns=["aliases", "sources"]).to_string()


# -- map elements ------------------------------------------------------------------------------------------
def _render(m) -> str:
    return m.get_root().render()


def test_data_layer_embeds_payloads_only_as_escaped_json():
    frame = _points(_t=list(PAYLOADS), secret=["SENTINEL"] * len(PAYLOADS))
    frame["_p"] = [[{"t": p, "r": [[p, p]]}] for p in PAYLOADS]
    m = maps.base_map(tiles="")
    maps.DataLayer(maps.feature_collection(frame, ["_t", "_p"]), PAYLOADS[0]).add_to(m)
    folium.LayerControl().add_to(m)
    page = _render(m)
    assert "SENTINEL" not in page
    assert "__pwned" in page  # the text is there ...
    for p in PAYLOADS:
        assert p not in page  # ... but never raw
    assert "`" not in page and "${" not in page  # nothing a template literal could run
    assert len(re.findall(r"</script", page, re.IGNORECASE)) == page.count("<script")
    # the layer's name: HTML-escaped (Leaflet's control sets it as innerHTML), then JSON-escaped
    assert "\\u0026lt;script\\u0026gt;window.__pwned=1\\u0026lt;/script\\u0026gt;" in page


def test_colours_are_checked():
    with pytest.raises(P4gnError, match="colour"):
        maps.DataLayer({"type": "FeatureCollection", "features": []}, "x", style={"color": "red;x:url(y)"})
    bad = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"_s": {
        "fillColor": "url(https://evil.example/x.png)"}}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}
    with pytest.raises(P4gnError, match="colour"):
        maps.DataLayer(bad, "x")
    with pytest.raises(P4gnError, match="colour"):
        maps.Legend("t", [("", [("javascript:alert(1)", "x")])])
    with pytest.raises(P4gnError, match="corner"):
        maps.Legend("t", [], position="middle")


def test_legend_text_is_data_not_markup():
    m = maps.base_map(tiles="")
    maps.Legend(PAYLOADS[1], [(PAYLOADS[2], [("#abc", PAYLOADS[4])])]).add_to(m)
    page = _render(m)
    assert all(p not in page for p in PAYLOADS)
    assert "`" not in page and "${" not in page
    assert ".innerHTML" not in page.split("window.geoP4gn")[1].split("</script>")[0]


def test_tile_urls_are_checked():
    assert maps.check_tiles("https://tile.example.org/{z}/{x}/{y}.png")
    for bad in ("javascript:alert(1)//{z}{x}{y}", "https://t.example/{z}/{x}.png",
                'https://t.example/{z}/{x}/{y}.png"onload="x', "ftp://t.example/{z}/{x}/{y}"):
        with pytest.raises(P4gnError, match="tile URL"):
            maps.check_tiles(bad)


def test_tile_attribution_is_text():
    m = maps.base_map(tiles="https://tile.example.org/{z}/{x}/{y}.png", attribution=PAYLOADS[1])
    page = _render(m)
    assert PAYLOADS[1] not in page and "\\u0026lt;img src=x" in page


# -- classification and metrics ----------------------------------------------------------------------------
def test_classify_counts_and_shares():
    colors, items = maps.classify(pd.Series([0, 1, 2, 3, 10]), classes=2, lang="en")
    assert colors.tolist() == ["#f0f0f0", "#c7e9b4", "#c7e9b4", "#c7e9b4", "#253494"]
    assert items == [("#f0f0f0", "none yet"), ("#c7e9b4", "1-3"), ("#253494", "4-10")]
    colors, items = maps.classify(pd.Series([0.0, 0.1, 0.5, 1.0, float("nan")]), share=True, lang="id")
    assert colors.tolist() == ["#f0f0f0", "#c7e9b4", "#41b6c4", "#253494", "#f0f0f0"]
    assert items[0] == ("#f0f0f0", "belum ada / tidak ada data")
    assert [label for _, label in items[1:]] == ["> 0-20%", "20%-40%", "40%-60%", "60%-80%", "80%-100%"]
    colors, items = maps.classify(pd.Series([0, 0]))
    assert colors.tolist() == ["#f0f0f0", "#f0f0f0"] and len(items) == 1


def test_classes_come_from_mapclassify_quantiles():
    """The count classes are mapclassify's Quantiles of the values above zero, on whole numbers."""
    import mapclassify

    values = pd.Series([0, 0, 1, 1, 2, 3, 4, 6, 9, 15, 40, 41])
    bins = mapclassify.Quantiles(values[values > 0].to_numpy(dtype=float), k=5).bins
    colors, items = maps.classify(values, lang="en")
    assert bins.round(6).tolist() == [1.8, 3.6, 7.2, 20.0, 41.0]
    assert [label for _, label in items] == ["none yet", "1-2", "3-4", "5-8", "9-20", "21-41"]
    assert colors.tolist()[:5] == [maps.NONE_COLOR, maps.NONE_COLOR, "#c7e9b4", "#c7e9b4", "#c7e9b4"]
    assert maps.scheme_text(lang="id") == "Kelas: kuantil (mapclassify)"
    assert maps.scheme_text(share=True, lang="en") == "Classes: equal 20% steps (mapclassify)"


def test_low_counts_are_not_the_colour_of_none_and_clusters_are_no_legend_colour():
    def rgb(c):
        return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
    none, low = rgb(maps.NONE_COLOR), rgb(maps.SEQUENTIAL[0])
    assert sum(abs(a - b) for a, b in zip(none, low)) >= 80  # 1-2 reads apart from "belum ada"
    legend_colours = {maps.NONE_COLOR, *maps.SEQUENTIAL, *(c for _, c in maps.COMPLETENESS), *maps.TYPE_COLORS}
    assert maps.CLUSTER_COLOR not in legend_colours
    css = (Path(maps.__file__).parent / "static" / "support.css").read_text()
    assert ".marker-cluster-small div" in css and "#4d4d4d" in css


def test_one_legend_section_per_metric():
    _, items = maps.classify(pd.Series([0.0, 0.2, 0.5, 1.0]), lang="id", metric="type_completeness")
    sections = maps.legend_sections("type_completeness", items, share=True, lang="id")
    assert len(sections) == 1  # areas and sites share the completeness classes: one block
    title, merged, note = sections[0]
    assert title == "Wilayah dan situs" and note.startswith("Kelas tetap")
    assert [label for _, label in merged] == ["belum ada", "0% (situs sasaran belum dijangkau)", "1-33%",
                                              "34-66%", "67-99%", "100%"]
    _, items = maps.classify(pd.Series([0, 1, 5]), lang="id")
    sections = maps.legend_sections("interventions", items, lang="id")
    assert [s[0] for s in sections] == ["", "Situs: kelengkapan jenis"]
    assert sections[0][2] == "Kelas: kuantil (mapclassify)" and sections[1][3] == "circle"
    assert len({s[0] for s in sections}) == len(sections)  # no two blocks under one title
    assert maps.legend_sections("sites_reached", items, share=True, sites=False, lang="en")[0][2] == \
        "Classes: equal 20% steps (mapclassify)"


def test_completeness_colours():
    got = [maps.completeness_color(x) for x in (0.0, 1 / 7, 3 / 7, 5 / 7, 6 / 7, 1.0, float("nan"))]
    assert got == ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#a6d96a", "#1a9641", "#f0f0f0"]


def test_metric_values_from_a_coverage_table():
    table = pd.DataFrame({"code": ["a", "b"], "interventions": [3, 0], "types_done": [7, 0],
                          "types_total": [7, 7], "actors_done": [1, 0], "actors_total": [5, 5],
                          "pct_sites_reached": [50.0, float("nan")]})
    assert maps.metric_values(table, "interventions").tolist() == [3.0, 0.0]
    assert maps.metric_values(table, "type_completeness").tolist() == [1.0, 0.0]
    assert maps.metric_values(table, "actor_completeness").tolist() == [0.2, 0.0]
    assert maps.metric_values(table, "sites_reached").fillna(-1).tolist() == [0.5, -1]
    with pytest.raises(P4gnError, match="metric"):
        maps.metric_values(table, "nope")


# -- offline assets ----------------------------------------------------------------------------------------
def test_identify_folium_and_branca_urls():
    got = {url: assets.identify(url) for _, url in folium.Map.default_js + folium.Map.default_css}
    assert got == {
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet_js",
        "https://code.jquery.com/jquery-3.7.1.min.js": "jquery",
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": None,
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": None,
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet_css",
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": None,
        "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": None,
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": None,
        "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css":
            None,
    }
    assert assets.identify("https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js") == "d3"
    assert assets.identify("/app/static/vendor/leaflet.markercluster/MarkerCluster.Default.css") == \
        "markercluster_default_css"
    with pytest.raises(assets.AssetError, match="leaflet.draw"):
        assets.identify("https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js")


def test_offline_html_inlines_everything():
    from folium.plugins import MarkerCluster

    m = folium.Map(tiles=None, max_zoom=19)
    cluster = MarkerCluster().add_to(m)
    folium.Marker([-6.2, 106.8]).add_to(cluster)
    page = assets.offline_html(m)
    assert assets.external_loads(page) == []
    assert "<script src=" not in page and "<link rel=" not in page
    assert "L.markerClusterGroup" in page and "data:image/png;base64," in page
    assert "jQuery" not in page and "bootstrap" not in page.lower()
    assert "sourceMappingURL" not in page
    # every remaining http(s) string is inside the inlined libraries (namespaces, licence headers)
    vendored = "".join(assets.asset_text(k) for k in ("leaflet_js", "leaflet_css", "markercluster_js"))
    for url in set(re.findall(r"https?://[^\s\"'<>)\\]+", page)):
        assert url in vendored


def test_offline_html_keeps_jquery_when_the_page_uses_it():
    m = folium.Map(tiles=None)
    folium.Element("<script>$(function () {});</script>").add_to(m.get_root().html)
    assert "jQuery" in assets.offline_html(m)


def test_offline_html_refuses_what_it_cannot_serve():
    with pytest.raises(assets.AssetError, match="tile.openstreetmap.org"):
        assets.offline_html(folium.Map())  # OSM tiles, not allowed
    page = assets.offline_html(folium.Map(), allow=["https://tile.openstreetmap.org/"])
    assert assets.external_loads(page) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    m = folium.Map(tiles=None)
    folium.Marker([-6.2, 106.8], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(assets.AssetError, match="awesome-markers"):
        assets.offline_html(m)


def test_external_loads_finds_every_kind_of_load():
    page = ("<img src='http://a.example/1.png'><link href=//b.example/2.css rel=stylesheet>"
            "<style>x{background:url(https://c.example/3.png)} @import 'https://d.example/4.css';</style>"
            "<a href='https://e.example/not-a-load'>x</a><img src='data:image/png;base64,AA'>")
    assert assets.external_loads(page) == ["http://a.example/1.png", "//b.example/2.css",
                                           "https://c.example/3.png", "https://d.example/4.css"]


def test_install_static(tmp_path):
    files = assets.install_static(tmp_path)
    rel = sorted(str(p.relative_to(tmp_path)) for p in files)
    assert "vendor/leaflet/leaflet.js" in rel and "vendor/leaflet/images/marker-icon.png" in rel
    assert "vendor/jquery/jquery.min.js" in rel and "vendor/d3/d3.js" in rel
    assert "vendor/leaflet.markercluster/MarkerCluster.Default.css" in rel
    manifest = json.loads((tmp_path / "vendor" / "ASSETS.json").read_text())
    assert manifest["leaflet/leaflet.js"] == {"package": "xstatic.pkg.leaflet", "version": "1.9.3",
                                             "licence": "BSD-2-Clause"}
    assert assets.main(["--install", str(tmp_path / "again")]) == 0


def test_use_local_assets_changes_only_this_map():
    from folium.plugins import MarkerCluster

    before = list(folium.Map.default_js)
    m = folium.Map(tiles=None, max_zoom=19)
    MarkerCluster().add_to(m)
    assets.use_local_assets(m)
    page = m.get_root().render()
    links = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', page)
    assert sorted(links) == sorted([
        "/app/static/vendor/leaflet/leaflet.js", "/app/static/vendor/jquery/jquery.min.js",
        "/app/static/vendor/leaflet/leaflet.css", "/app/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "/app/static/vendor/leaflet.markercluster/MarkerCluster.css",
        "/app/static/vendor/leaflet.markercluster/MarkerCluster.Default.css",
    ])
    assert folium.Map.default_js == before
    assert "cdn.jsdelivr.net" in folium.Map().get_root().render()


def test_support_script_runs_before_every_layer_and_is_not_in_the_header():
    # st_folium copies the page header with innerHTML (scripts there never run) and takes each element's
    # own script: the helpers must be an element of the map, ahead of the layers that call them.
    m = maps.base_map(tiles="")
    maps.DataLayer(maps.feature_collection(_points(_t=["a"]), ["_t"]), "x").add_to(m)
    maps.add_support(m)
    supports = [el for el in m._children.values() if isinstance(el, maps.Support)]
    assert len(supports) == 1 and next(iter(m._children.values())) is supports[0]
    page = _render(m)
    head, body = page.split("</head>")
    assert "window.geoP4gn" not in head and ".gp-legend" in head
    assert body.index("window.geoP4gn = window.geoP4gn ||") < body.index("L.geoJSON(")


# -- layers whose shapes come from a file on the same server (the app) -------------------------------
def _areas():
    return gpd.GeoDataFrame({"code": ["31.73.01.1004", "31.73.01.1005"], "name": ["Kedaung <b>", "Kapuk"]},
                            geometry=[shapely.box(106.70, -6.16, 106.75, -6.14), shapely.box(106.75, -6.16,
                                                                                             106.80, -6.14)],
                            crs="EPSG:4326")


def test_a_choropleth_with_a_geometry_url_carries_properties_not_shapes():
    areas = _areas()
    layer, _ = maps.choropleth_layer(areas, pd.Series({"31.73.01.1004": 3}), name="n",
                                     geometry_url="/app/static/geo/kelurahan-0123456789abcdef.json")
    m = maps.base_map()
    layer.add_to(m)
    html = m.get_root().render()
    assert '"coordinates"' not in html and "106.7" not in html
    assert 'geoP4gn.fill(' in html and '"/app/static/geo/kelurahan-0123456789abcdef.json"' in html
    props = json.loads(layer.props_js)
    assert set(props) == {"31.73.01.1004", "31.73.01.1005"} and layer.feature_count == 2
    assert props["31.73.01.1004"]["_t"].startswith("Kedaung <b>")  # data: shown with textContent
    assert "Kedaung <b>" not in html  # and escaped inside the script
    # the same call without a url embeds the shapes, as the self-contained export needs
    inline, _ = maps.choropleth_layer(areas, pd.Series({"31.73.01.1004": 3}), name="n")
    assert len(json.loads(inline.data_js)["features"]) == 2 and inline.props_js is None


@pytest.mark.parametrize("url", ["https://cdn.example.org/k.json", "//cdn.example.org/k.json", "k.json"])
def test_a_geometry_url_must_be_on_the_same_server(url):
    with pytest.raises(ValueError, match="same server"):
        maps.outline_layer(_areas(), name="kota", geometry_url=url)


def test_a_geometry_url_layer_needs_codes_and_still_checks_colours():
    bare = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": None}]}
    with pytest.raises(ValueError, match="'code'"):
        maps.DataLayer(bare, "x", geometry_url="/app/static/geo/x.json")
    bad = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "1", "_s": {"fillColor": "red;}</style>"}}, "geometry": None}]}
    with pytest.raises(P4gnError):
        maps.DataLayer(bad, "x", geometry_url="/app/static/geo/x.json")
