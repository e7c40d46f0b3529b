"""The clustered points layer of Peta cakupan on tiny hand-built frames: which records, which fields, how
escaped, which assets (:mod:`geo_p4gn_app.mapview`)."""

from __future__ import annotations

import datetime as dt
import json
import math
from unittest import mock

import folium
import geopandas as gpd
import pytest
import shapely

from geo_p4gn.render import maps
from geo_p4gn_app import data, mapview

HOSTILE = ("<img src=x onerror=alert(1)>", "${alert(1)}", "</script>", "\\`;window.__pwned=4;`",
           "\"'><svg onload=window.__pwned=6>")


def records(n: int, *, organisation="Karang Taruna", x0=106.80, step=0.001) -> gpd.GeoDataFrame:
    """``n`` records along a line, with every column the store has (the sensitive ones included)."""
    return gpd.GeoDataFrame({
        "id": [f"REC-ID-{i:04d}" for i in range(n)],
        "date": [dt.date(2025, 1, 1 + i % 28) for i in range(n)],
        "end_date": [None] * n,
        "type_key": ["pemetaan" if i % 2 else "deklarasi" for i in range(n)],
        "actor_key": ["swasta"] * n,
        "organisation": [organisation] * n,
        "site_id": ["SITE-ID-SECRET"] * n,
        "kelurahan_code": ["31.73.01.1004"] * n,
        "participants": [10 + i for i in range(n)],
        "notes": ["NOTE-SECRET"] * n,
        "created_by": ["RECORDER-SECRET"] * n,
        "updated_by": ["UPDATER-SECRET"] * n,
    }, geometry=[shapely.Point(x0 + i * step, -6.2) for i in range(n)], crs="EPSG:4326")


def view(zoom, west=106.80, south=-6.21, east=106.81, north=-6.19) -> dict:
    return {"zoom": zoom, "bounds": {"_southWest": {"lat": south, "lng": west},
                                     "_northEast": {"lat": north, "lng": east}}}


def rendered(layer) -> str:
    m = mapview.base_map()
    layer.add_to(m)
    folium.LayerControl().add_to(m)
    mapview.prepare(m)
    return m.get_root().render()


# -- which records --------------------------------------------------------------------------------------
def test_a_small_set_gives_every_point_with_allow_listed_fields_only():
    pts = mapview.select_points(records(5), limit=5)
    assert len(pts) == 5
    assert list(pts.columns) == ["date", "type_key", "actor_key", "organisation", "participants", "geometry"]
    assert pts["participants"].tolist() == [10, 11, 12, 13, 14]


def test_more_than_the_limit_gives_none():
    assert mapview.select_points(records(6), limit=5) is None
    mask = [True, True, False, False, False, False]
    assert len(mapview.select_points(records(6), mask, limit=5)) == 2


def test_a_box_keeps_only_the_points_inside_it():
    recs = records(100)  # x from 106.800 to 106.899
    box = mapview.zoomed_box(view(16, west=106.8095, east=106.8195))
    pts = mapview.select_points(recs, limit=50, box=box)
    assert len(pts) == 10
    xs = shapely.get_x(pts.geometry.to_numpy())
    assert xs.min() >= 106.8095 and xs.max() <= 106.8195
    assert mapview.select_points(recs, limit=9, box=box) is None  # too many even in the box
    assert len(mapview.select_points(recs, limit=50, box=(100.0, 0.0, 101.0, 1.0))) == 0


def test_a_polygon_record_is_drawn_at_a_point_inside_it():
    recs = records(1)
    poly = shapely.Polygon([(106.80, -6.20), (106.81, -6.20), (106.80, -6.21)])
    recs = recs.set_geometry([poly], crs="EPSG:4326")
    (point,) = mapview.select_points(recs, limit=5).geometry
    assert point.geom_type == "Point" and poly.contains(point)


@pytest.mark.parametrize(("state", "expected"), [
    (view(16), (106.80, -6.21, 106.81, -6.19)),
    (view(15), (106.80, -6.21, 106.81, -6.19)),
    (view(14.75), None),
    (view(None), None),
    (view("16"), (106.80, -6.21, 106.81, -6.19)),
    (view(16, south=-6.19, north=-6.21), None),  # north below south
    (view(16, west=float("nan")), None),
    ({"zoom": 16}, None),
    ({"zoom": 16, "bounds": {"_southWest": None, "_northEast": {}}}, None),
    ({"zoom": 16, "bounds": {"_southWest": {"lat": "x", "lng": 1}, "_northEast": {"lat": 1, "lng": 2}}}, None),
    (None, None),
    ("zoom", None),
])
def test_zoomed_box(state, expected):
    assert mapview.zoomed_box(state, 15) == expected


def test_the_box_is_rounded_outwards():
    box = mapview.zoomed_box(view(16, west=106.812345, south=-6.212345, east=106.823456, north=-6.201234))
    assert box == (106.8123, -6.2124, 106.8235, -6.2012)
    assert all(math.isfinite(v) for v in box)


# -- what reaches the page ------------------------------------------------------------------------------
def test_the_layer_carries_only_a_tooltip_and_a_colour():
    layer = mapview.points_layer(mapview.select_points(records(3), limit=5), "id", name="Intervensi (3)")
    assert isinstance(layer, maps.DataLayer) and layer.feature_count == 3
    feats = json.loads(layer.data_js)["features"]
    assert [set(f["properties"]) for f in feats] == [{"_t", "_s"}] * 3
    tax = data.taxonomy()
    label, actor = tax.label("types", "deklarasi", "id"), tax.label("actors", "swasta", "id")
    assert feats[0]["properties"]["_t"] == f"01/01/2025 · {label} · {actor} · Karang Taruna · 10 peserta"
    color = maps.TYPE_COLORS[list(tax.type_keys).index("deklarasi") % len(maps.TYPE_COLORS)]
    assert feats[0]["properties"]["_s"] == {"fillColor": color}
    en = json.loads(mapview.points_layer(mapview.select_points(records(1), limit=5), "en", name="x").data_js)
    assert "10 participants" in en["features"][0]["properties"]["_t"]


@pytest.mark.parametrize("payload", HOSTILE)
def test_a_hostile_organisation_is_escaped_and_nothing_sensitive_is_sent(payload):
    recs = records(3, organisation=f"Org {payload} end")
    layer = mapview.points_layer(mapview.select_points(recs, limit=5), "id", name=f"Intervensi {payload}")
    html = rendered(layer)
    assert f"Org {payload}" not in html and f"Intervensi {payload}" not in html
    assert html.count("</script>") == html.count("<script")  # no script ended or opened by the data
    assert maps.to_js(f"Org {payload} end")[1:-1] in html  # the \\uXXXX-escaped JSON text
    assert maps.esc(f"Intervensi {payload}") in html or maps.to_js(maps.esc(f"Intervensi {payload}"))[1:-1] in html
    for secret in ("REC-ID-", "NOTE-SECRET", "RECORDER-SECRET", "UPDATER-SECRET", "SITE-ID-SECRET"):
        assert secret not in html


def test_the_markercluster_assets_are_local():
    layer = mapview.points_layer(mapview.select_points(records(2), limit=5), "id", name="Intervensi (2)")
    html = rendered(layer)
    assert "L.markerClusterGroup(" in html
    assert '"maxZoom": 19' in html  # Leaflet.markercluster throws on a tile-less map without one
    assert '<script src="/app/static/vendor/leaflet.markercluster/leaflet.markercluster.js"></script>' in html
    assert "/app/static/vendor/leaflet.markercluster/MarkerCluster.Default.css" in html
    assert "cdnjs.cloudflare.com" not in html and "https://" not in html.split("<body>")[0]
    # the class-wide folium defaults are untouched (each element got its own list)
    assert all(u.startswith("https://") for _, u in folium.plugins.MarkerCluster.default_js)


def test_show_rewrites_and_checks_the_feature_groups_too():
    m = mapview.base_map()
    mapview.ClusterAssets().add_to(m)
    group = folium.FeatureGroup(name="pts", control=False)
    mapview.points_layer(mapview.select_points(records(2), limit=5), "id", name="pts").add_to(group)
    with mock.patch("streamlit_folium.st_folium", return_value={"zoom": 16}) as st_folium:
        out = mapview.show(m, key="k", returned=("zoom",), feature_groups=[group])
    assert out == {"zoom": 16}
    assert st_folium.call_args.kwargs["feature_group_to_add"] == [group]
    assert all(u.startswith("/app/static/vendor/") for u in mapview.links(group))
    assert "/app/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in mapview.links(m)

    bad = folium.FeatureGroup(name="bad")
    folium.plugins.Fullscreen().add_to(bad)  # a plugin with no offline copy
    with mock.patch("streamlit_folium.st_folium", return_value={}), pytest.raises(Exception, match="offline"):
        mapview.show(mapview.base_map(), key="k2", feature_groups=[bad])
