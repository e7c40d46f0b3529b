"""No user string is ever compiled as a template by the map elements (tiny hand-built frames).

folium/branca compile every element's rendered output as a Jinja2 template unless the element is a
:class:`geo_p4gn.render.elements.SafeElement`. These tests plant a marker in every user string, record each
template Jinja2 compiles while a map is rendered (for a page, and the way ``st_folium`` renders it for the
app) and fail if the marker reaches any of them; and they check that the text reaches the page unchanged.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import streamlit_folium
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_p4gn.render import assets, elements, maps
from tests.payloads import PAYLOADS, TEMPLATE_PAYLOADS
from tests.template_spy import MARK, compiled_sources, tainted

MARKED = tuple(f"{p} {MARK}" for p in PAYLOADS)


def _areas(names) -> gpd.GeoDataFrame:
    boxes = [shapely.box(106.8 + i * 0.01, -6.2, 106.805 + i * 0.01, -6.195) for i in range(len(names))]
    return gpd.GeoDataFrame({"code": [f"31.71.01.{1000 + i}" for i in range(len(names))], "name": list(names)},
                            geometry=boxes, crs="EPSG:4326")


def _points(labels) -> gpd.GeoDataFrame:
    pts = [shapely.Point(106.8 + i * 0.01, -6.2) for i in range(len(labels))]
    return gpd.GeoDataFrame({"label": list(labels)}, geometry=pts, crs="EPSG:4326")


def _marked_map(texts) -> tuple:
    """A coverage map whose every text (area names, popups, layer names, legend, sites, tile attribution,
    type labels) is one of ``texts``; returns the map and its data layers."""
    areas = _areas(texts)
    values = pd.Series(range(len(texts)), index=areas["code"], dtype="float64")
    details = {c: [[t, t]] for c, t in zip(areas["code"], texts)}
    sites = _points(texts)
    sites["sections"] = [[{"t": t, "r": [[t, t]]}] for t in texts]
    sites["completeness"] = 0.5

    class Tax:  # the two things coverage_map reads of a taxonomy
        type_keys = ("a",)

        @staticmethod
        def label(group, key, lang):
            return texts[0]

    type_points = gpd.GeoDataFrame({"type_key": ["a"], "count": [2], "label": [texts[-1]]},
                                   geometry=[shapely.Point(106.8, -6.2)], crs="EPSG:4326")
    m = maps.coverage_map(areas=areas, values=values, metric_label=texts[0], details=details,
                          outlines=[(texts[1 % len(texts)], areas, 1.0)], sites=sites, type_points=type_points,
                          taxonomy=Tax, tiles="https://tile.example.org/{z}/{x}/{y}.png",
                          attribution=texts[-1])
    return m, [el for el in m._children.values() if isinstance(el, maps.DataLayer)]


def test_the_marker_itself_is_caught():
    """The spy sees what folium compiles: a plain folium element with the marker in its output is caught."""
    import folium

    m = folium.Map(tiles=None)
    folium.Marker([-6.2, 106.8], tooltip=f"x {MARK}").add_to(m)
    with compiled_sources() as sources:
        m.get_root().render()
    assert tainted(sources)


def test_a_rendered_page_compiles_no_user_string():
    m, layers = _marked_map(MARKED)
    with compiled_sources() as sources:
        page = m.get_root().render()
    assert tainted(sources) == []
    for layer in layers:
        assert layer.data_js in page  # the data reaches the page exactly as encoded
        assert json.loads(layer.data_js)["features"]  # and holds the texts
    decoded = json.dumps([json.loads(layer.data_js) for layer in layers], ensure_ascii=False)
    for text in MARKED:
        assert json.dumps(text, ensure_ascii=False)[1:-1] in decoded
    for evaluated in ("Probe 49", "XXX", "uid="):
        assert evaluated not in page


def test_st_folium_rendering_compiles_no_user_string():
    """What ``st_folium`` does with a map (the page render, the header, each element's script, a feature
    group added later), with the marker in every text."""
    from geo_p4gn_app import mapview

    m, layers = _marked_map(MARKED)
    group = elements.FeatureGroup(name=maps.esc(MARKED[0]), control=False)
    mapview.points_layer(gpd.GeoDataFrame({"date": ["2024-01-02"], "type_key": ["a"], "actor_key": ["b"],
                                           "organisation": [MARKED[1]], "participants": [3]},
                                          geometry=[shapely.Point(106.8, -6.2)], crs="EPSG:4326"),
                         "id", name=MARKED[2]).add_to(group)
    with compiled_sources() as sources:
        m.get_root().render()
        header = streamlit_folium._get_header(m)
        script = streamlit_folium._get_map_string(m)
        extra = streamlit_folium._get_feature_group_string(group, map=m)
    assert tainted(sources) == []
    assert all(layer.data_js in script for layer in layers)
    assert MARK in extra and "Probe 49" not in script + extra + header


def test_page_templates_autoescape():
    out = elements.page_template("export_head.html").render(
        title=MARKED[0], period_label="p", period=MARKED[5], filters_label="f", filters=TEMPLATE_PAYLOADS[0],
        made_label="m", made="x", note=MARKED[3])
    assert "<script>window" not in out and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in out
    assert "Probe {{7*7}}" in out


def test_raw_text_is_never_compiled():
    assert elements.Raw("{{7*7}} {% if 1 %}x{% endif %}").render() == "{{7*7}} {% if 1 %}x{% endif %}"


def test_css_looking_text_is_not_a_load():
    page = ("<td>url(http://example.invalid/a.png) @import 'https://example.invalid/b.css';</td>"
            '<script>var d = {"t":"fetch(\\u0027https://example.invalid/c\\u0027)"};</script>'
            '<script type="application/json">{"u": "url(https://example.invalid/d.png)"}</script>')
    assert assets.external_loads(page) == []
    assert assets.external_loads("<div style=\"background:url('https://example.invalid/e.png')\"></div>") == [
        "https://example.invalid/e.png"]
    assert assets.external_loads("<script>fetch('https://example.invalid/f')</script>") == [
        "https://example.invalid/f"]


_META = "{}%#$`\\'\"<>&/;()=!*+-_.:[]\u2028\u2029\n\t jinja {{ }} {% %} {# #} ${ } </script> <!-- url( @import"
_TEXT = st.lists(st.sampled_from([*_META.split(" "), "a", "7*7", "range(3)", "x"]), min_size=1, max_size=12).map(
    "".join) | st.text(alphabet=_META + "ab7", min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(_TEXT, min_size=2, max_size=4))
def test_any_metacharacters_stay_data(texts):
    """Property: whatever template, JavaScript or HTML metacharacters a text holds, it is never compiled,
    reaches the page exactly as encoded, and decodes back to itself."""
    marked = [f"{t}{MARK}{i}" for i, t in enumerate(texts)]
    m, layers = _marked_map(marked)
    with compiled_sources() as sources:
        page = m.get_root().render()
    assert tainted(sources) == []
    for layer in layers:
        assert layer.data_js in page
    tooltips = [f["properties"].get("_t") for layer in layers for f in json.loads(layer.data_js)["features"]]
    for text in marked[:len(_areas(marked))]:
        assert any(t is not None and t.startswith(text + ":") for t in tooltips), text
    assert "</script" not in page.split("window.geoP4gn")[-1].split("</script>")[0].lower()


@pytest.mark.parametrize("cls", [elements.Map, elements.LayerSwitch, elements.FeatureGroup, elements.TileLayer,
                                 elements.CircleMarker, elements.Polygon, elements.PolyLine, maps.DataLayer,
                                 maps.Legend, maps.CountLayer, maps.Support])
def test_every_project_element_renders_safely(cls):
    assert issubclass(cls, elements.SafeElement)
    assert cls.render is elements.SafeElement.render or elements.SafeElement in cls.__mro__[1:]
    # the safe render comes before branca's: nothing in the chain above it is MacroElement.render
    from branca.element import MacroElement

    chain = [k for k in cls.__mro__ if "render" in k.__dict__]
    assert chain.index(elements.SafeElement) < chain.index(MacroElement)
