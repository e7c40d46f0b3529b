"""Peta cakupan: individual intervention points, clustered, only when few enough are to be drawn.

The map component is opaque to AppTest: ``st_folium`` is patched (``fake_map``) to return the zoom and
bounds a browser would report, and the tests inspect the folium map and the feature groups the page gave it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import folium
import pytest
import shapely
import streamlit_folium

from geo_p4gn.filters import Filters
from geo_p4gn.records import Intervention
from geo_p4gn.render import maps
from geo_p4gn.services import User
from geo_p4gn_app import data, mapview
from geo_p4gn_app.i18n import t
from tests.app.conftest import open_app, texts

pytestmark = pytest.mark.usefixtures("app_env")

HOSTILE = "<img src=x onerror=alert(1)> ${alert(1)} </script><script>window.__pwned=1</script>"
NOTE = "SECRET-NOTE-points-xyz"
RECORDER = "perekam-rahasia-77"
A, B = "31.73.01.1004", "31.74.02.1006"


def place(boundaries, code: str) -> shapely.Point:
    return shapely.point_on_surface(boundaries.kelurahan.set_index("code").loc[code, "geometry"])


def add(store, boundaries, n: int, *, code=A, type_key="pemetaan", organisation=None, user=RECORDER,
        participants=25):
    point = place(boundaries, code)
    recs = [Intervention(id=str(uuid.uuid4()), date=dt.date(2025, 3, 1 + i % 28), type_key=type_key,
                         actor_key="swasta", organisation=organisation or f"Org {i % 5}", geometry=point,
                         participants=participants, notes=NOTE)
            for i in range(n)]
    store.add_many(recs, user=user)
    return recs


def box_around(point: shapely.Point, half: float = 0.002, zoom: float = 16) -> dict:
    """What st_folium reports for a view centred on ``point``."""
    return {"last_object_clicked": None, "zoom": zoom,
            "bounds": {"_southWest": {"lat": point.y - half, "lng": point.x - half},
                       "_northEast": {"lat": point.y + half, "lng": point.x + half}}}


def points_layers(fig) -> list[mapview.PointsLayer]:
    return [el for el in fig._children.values() if isinstance(el, mapview.PointsLayer)]


def features(layer) -> list[dict]:
    return json.loads(layer.data_js)["features"]


def groups_of(kw) -> list[folium.FeatureGroup]:
    return list(kw.get("feature_group_to_add") or [])


def group_points(kw) -> list[dict]:
    out = []
    for group in groups_of(kw):
        for el in group._children.values():
            assert isinstance(el, mapview.PointsLayer)
            out += features(el)
    return out


def page_html(fig, kw) -> str:
    """The map as the browser gets it, the feature groups included (as st_folium adds them)."""
    for group in groups_of(kw):
        group.add_to(fig)
    return fig.get_root().render()


def base_hash(fig, key) -> str:
    """The key st_folium gives the component: the same hash means the base map is not drawn again."""
    fig.get_root().render()
    return streamlit_folium.generate_js_hash(streamlit_folium._get_map_string(fig), key)


def assert_clean(html: str, recs) -> None:
    assert NOTE not in html
    assert RECORDER not in html
    assert not any(r.id in html for r in recs)
    for raw in ("<img src=x", "${alert(1)}", "</script><script>window.__pwned", "window.__pwned=1</script>"):
        assert raw not in html


def test_a_small_filtered_set_is_a_clustered_toggleable_layer(fake_map, store, boundaries):
    recs = add(store, boundaries, 4, type_key="deklarasi", organisation=HOSTILE)
    at = open_app("cakupan")
    at.multiselect(key="flt_types").set_value(["deklarasi"])
    at.run()
    assert not at.exception
    n = len(store.list(Filters(types=("deklarasi",))))
    assert 4 < n <= mapview.POINT_LIMIT  # the starter records of that type too
    fig, kw = fake_map.last
    (layer,) = points_layers(fig)
    assert layer.layer_name == maps.esc(f"Intervensi ({n})") and layer.control and layer.overlay
    feats = features(layer)
    assert len(feats) == n
    assert all(set(f["properties"]) == {"_t", "_s"} for f in feats)
    tooltips = [f["properties"]["_t"] for f in feats if HOSTILE in f["properties"]["_t"]]
    assert len(tooltips) == 4  # the data keeps the text; the browser shows it with textContent
    assert re.match(r"\d\d/03/2025 ", tooltips[0]) and "Swasta" in tooltips[0] and "25 peserta" in tooltips[0]
    assert kw["returned_objects"] == ["last_object_clicked"] and not groups_of(kw)
    assert t("points_shown", n=mapview.POINT_LIMIT) in texts(at)

    html = page_html(fig, kw)
    assert_clean(html, recs)
    assert "\\u003cimg src=x onerror=alert(1)\\u003e \\u0024{alert(1)} \\u003c/script\\u003e" in html
    assert "L.markerClusterGroup(" in html
    links = mapview.links(fig)
    assert "/app/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in links
    assert all(u.startswith(("/app/static/vendor/", "/app/static/geo/")) for u in links)
    assert "cdnjs" not in html and "unpkg" not in html and "jsdelivr" not in html


def test_a_large_set_not_zoomed_in_sends_no_points(fake_map, store, boundaries):
    recs = add(store, boundaries, mapview.POINT_LIMIT + 20)
    at = open_app("cakupan")
    fig, kw = fake_map.last
    assert not points_layers(fig) and not groups_of(kw)
    assert kw["returned_objects"] == ["last_object_clicked"]  # by default a pan reruns nothing
    assert t("points_hidden", n=mapview.POINT_LIMIT) in texts(at)
    size = len(fake_map.last_html())

    toggle = at.toggle(key="cakupan_zoom_points")
    assert toggle.value is False
    toggle.set_value(True)
    fake_map.value = box_around(place(boundaries, A), half=0.05, zoom=12)  # the whole city, not zoomed in
    at.run()
    assert not at.exception
    fig, kw = fake_map.last
    assert kw["returned_objects"] == ["last_object_clicked", "zoom", "bounds"]
    assert kw["key"] == "cakupan_map_zoom"
    assert not points_layers(fig) and not groups_of(kw)
    assert t("points_zoom_in", zoom=mapview.POINT_ZOOM) in texts(at)
    html = fake_map.last_html()
    assert_clean(html, recs)
    # the markercluster script is on the base map (st_folium loads scripts once), the payload is the same
    assert "/app/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in mapview.links(fig)
    assert abs(len(html) - size) < 2000


def test_zoomed_in_only_the_points_inside_the_view_are_sent(fake_map, store, boundaries):
    near = add(store, boundaries, 200, code=A, organisation=HOSTILE)
    far = add(store, boundaries, mapview.POINT_LIMIT + 50, code=B)
    at = open_app("cakupan")
    at.toggle(key="cakupan_zoom_points").set_value(True)
    at.run()
    assert not fake_map.calls[-1][1].get("feature_group_to_add")
    hash_before = base_hash(*fake_map.last[:1], "cakupan_map_zoom")

    fake_map.value = box_around(place(boundaries, A))  # zoom 16 around kelurahan A
    at.run()
    assert not at.exception
    fig, kw = fake_map.last
    assert not points_layers(fig)  # the base map holds no points: they come as a feature group
    pts = group_points(kw)
    west, south, east, north = mapview.zoomed_box(fake_map.value)
    reps = shapely.point_on_surface(store.list().geometry.to_numpy())
    inside = [west <= p.x <= east and south <= p.y <= north for p in reps]
    assert len(pts) == sum(inside) and 200 <= len(pts) < 250  # ours and the starter records there
    for f in pts:
        x, y = f["geometry"]["coordinates"]
        assert west <= x <= east and south <= y <= north
    assert sum(HOSTILE in f["properties"]["_t"] for f in pts) == 200
    assert t("points_in_view", k=len(pts)) in texts(at)
    # the group's plugin assets are the local copies, and the base map is the one already drawn
    for group in groups_of(kw):
        assert all(u.startswith("/app/static/vendor/") for u in mapview.links(group))
    assert base_hash(fig, kw["key"]) == hash_before
    html = page_html(fig, kw)
    assert_clean(html, near + far)
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html

    fake_map.value = box_around(place(boundaries, B))  # more than the limit in view: none, and why
    at.run()
    fig, kw = fake_map.last
    assert not groups_of(kw) and not points_layers(fig)
    assert t("points_too_many_here", n=mapview.POINT_LIMIT) in texts(at)

    fake_map.value = box_around(place(boundaries, A), zoom=mapview.POINT_ZOOM - 1)  # zoomed out again
    at.run()
    assert not groups_of(fake_map.last[1])
    assert t("points_zoom_in", zoom=mapview.POINT_ZOOM) in texts(at)


def test_the_caption_is_in_english_too(fake_map, store, boundaries):
    add(store, boundaries, mapview.POINT_LIMIT + 1)
    at = open_app("cakupan")
    at.toggle(key="cakupan_zoom_points").set_value(True)
    at.sidebar.segmented_control(key="lang").set_value("en")
    at.run()
    assert "Zoom in (zoom 15 or more) or narrow the filters to see individual points." in texts(at)


def test_field_teams_get_only_their_own_points(store, store_path, boundaries):
    mine = add(store, boundaries, 3, user="ani")
    add(store, boundaries, 5, user="budi")
    url = str(store_path)
    ani, planner = User("ani", "petugas"), User("rina", "perencana")
    own = mapview.record_points(data.view(url, ani), ani, Filters(), mapview.POINT_LIMIT)
    assert len(own) == 3
    assert set(own.columns) == {"date", "type_key", "actor_key", "organisation", "participants", "geometry"}
    box = mapview.zoomed_box(box_around(place(boundaries, A)))
    own_here = mapview.record_points(data.view(url, ani), ani, Filters(), mapview.POINT_LIMIT, box)
    assert len(own_here) == 3
    everyone = mapview.record_points(data.view(url, planner), planner, Filters(), mapview.POINT_LIMIT)
    assert len(everyone) == len(store.list()) >= 8
    assert {r.organisation for r in mine} >= set(own["organisation"])
