"""Peta cakupan: filters in the URL, the choropleth and its legend, clicks to the matrix, small payloads."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
import shapely

from geo_p4gn import coverage
from geo_p4gn.filters import Filters
from geo_p4gn.records import Intervention
from geo_p4gn.render import maps
from geo_p4gn_app import mapview
from tests.app.conftest import open_app, texts

pytestmark = pytest.mark.usefixtures("app_env")


def layer(fig, cls, name=None):
    out = [el for el in fig._children.values() if isinstance(el, cls)
           and (name is None or getattr(el, "layer_name", None) == maps.esc(name))]
    return out[0] if out else None


def features(data_layer) -> list[dict]:
    """The layer's features; for a layer whose shapes come from a geometry_url, their properties only."""
    if data_layer.props_js:
        return [{"properties": p} for p in json.loads(data_layer.props_js).values()]
    return json.loads(data_layer.data_js)["features"]


def fills(fig, metric_label="Jumlah intervensi") -> dict[str, str]:
    return {f["properties"]["code"]: f["properties"]["_s"]["fillColor"]
            for f in features(layer(fig, maps.DataLayer, metric_label))}


def add_records(store, boundaries, n: int, *, type_key="pemetaan", site_id=None, code="31.73.01.1004"):
    point = shapely.point_on_surface(boundaries.kelurahan.set_index("code").loc[code, "geometry"])
    recs = [Intervention(id=str(uuid.uuid4()), date=dt.date(2025, 1, 1 + i % 28), type_key=type_key,
                         actor_key="swasta", organisation=f"Org {i % 7}", geometry=point, site_id=site_id,
                         notes="SECRET-NOTE-xyz")
            for i in range(n)]
    store.add_many(recs, user="loader")
    return recs


def test_a_shared_link_sets_the_filters(fake_map, store):
    at = open_app("cakupan", query={"types": "deklarasi", "kota": "31.73", "level": "kecamatan",
                                    "metric": "type_completeness"})
    assert at.multiselect(key="flt_types").value == ["deklarasi"]
    assert at.multiselect(key="flt_kota").value == ["31.73"]
    assert at.session_state["view_level"] == "kecamatan"
    assert at.session_state["view_metric"] == "type_completeness"
    n = len(store.list(Filters(types=("deklarasi",), kota=("31.73",))))
    assert f"{n} intervensi sesuai filter" in texts(at)
    fig, _ = fake_map.last
    legend = layer(fig, maps.Legend)
    assert "Kelengkapan jenis intervensi" in legend.spec_js
    # only the kecamatan of the filtered kota are drawn
    codes = set(fills(fig, "Kelengkapan jenis intervensi"))
    assert codes and all(c.startswith("31.73.") and len(c) == 8 for c in codes)


def test_a_shared_link_by_name_and_an_unknown_value(fake_map):
    """Issue 13: link values by code or name; a value that matches nothing is dropped and named."""
    at = open_app("cakupan", query={"kota": "Jakarta Barat", "kecamatan": "cengkareng,Atlantis"})
    assert at.multiselect(key="flt_kota").value == ["31.73"]
    assert at.multiselect(key="flt_kecamatan").value == ["31.73.01"]
    warnings = [w.value for w in at.warning]
    assert any("Atlantis" in w and "tidak dikenali" in w for w in warnings), warnings
    assert at.query_params["kecamatan"] == "31.73.01"


def test_changing_a_filter_updates_the_url_and_the_choropleth(fake_map, store, boundaries):
    at = open_app("cakupan")
    before = fills(fake_map.last[0])
    reached = {c for c, color in before.items() if color != maps.NONE_COLOR}
    assert reached  # the starter records colour some kelurahan
    at.multiselect(key="flt_types").set_value(["tim_terpadu"])  # no record has this type
    at.run()
    assert at.query_params["types"] == "tim_terpadu"
    assert Filters.from_query(at.query_params) == Filters(types=("tim_terpadu",))
    after = fills(fake_map.last[0])
    assert set(after) == set(before)
    assert all(color == maps.NONE_COLOR for color in after.values())
    at.button(key="flt_reset").click()
    at.run()
    assert "types" not in at.query_params
    assert fills(fake_map.last[0]) == before


def test_the_metric_and_the_level_change_the_map(fake_map):
    at = open_app("cakupan")
    assert len(fills(fake_map.last[0])) == 267
    at.segmented_control(key="view_level").set_value("kota")
    at.selectbox(key="view_metric").set_value("actor_completeness")
    at.run()
    fig = fake_map.last[0]
    assert len(fills(fig, "Kelengkapan aktor pentahelix")) == 6
    assert "Kelengkapan aktor pentahelix" in layer(fig, maps.Legend).spec_js
    assert at.query_params["level"] == "kota" and at.query_params["metric"] == "actor_completeness"


def test_a_click_on_a_site_or_an_area_shows_its_matrix(fake_map, store, taxonomy):
    at = open_app("cakupan")
    site = store.get_site("kampung-ambon")
    fake_map.value = {"last_object_clicked": {"lat": site["geometry"].y, "lng": site["geometry"].x}}
    at.run()
    assert at.session_state["cakupan_sel"] == ("site", "kampung-ambon")
    assert any("Kampung Ambon" in h.value for h in at.subheader)
    expected = coverage.type_actor_matrix(store.list(), taxonomy, Filters(), site="kampung-ambon")
    shown = next(d.value for d in at.table if d.value.shape == expected.shape)  # a static table (issue 13)
    assert shown.to_numpy().tolist() == expected.to_numpy().tolist()
    assert shown.to_numpy().sum() == 3  # its three starter records

    fake_map.value = {"last_object_clicked": {"lat": -6.2088, "lng": 106.8456}}
    at.run()
    assert at.session_state["cakupan_sel"] == ("area", "31.74.02.1006")
    at.button(key="cakupan_clear").click()
    at.run()
    assert at.session_state["cakupan_sel"] is None


def test_the_map_gets_aggregates_not_records(fake_map, store, boundaries):
    recs = add_records(store, boundaries, 320)
    at = open_app("cakupan")
    fig, kw = fake_map.last
    assert kw["returned_objects"] == ["last_object_clicked"]
    html = fake_map.last_html()
    assert "SECRET-NOTE-xyz" not in html
    assert not any(r.id in html for r in recs[:50])
    assert layer(fig, maps.DataLayer, "Intervensi (326)") is None  # too many to draw one by one
    assert all(u.startswith(("/app/static/vendor/", "/app/static/geo/")) for u in mapview.links(fig))
    size_many = len(html)

    at.multiselect(key="flt_types").set_value(["deklarasi"])  # leaves two: drawn as points
    at.run()
    pts = layer(fake_map.last[0], maps.DataLayer, "Intervensi (2)")
    assert pts is not None and len(features(pts)) == 2
    assert set(features(pts)[0]["properties"]) == {"_t", "_s"}
    add_records(store, boundaries, 2000)
    at.multiselect(key="flt_types").set_value([])
    at.run()
    assert abs(len(fake_map.last_html()) - size_many) < 2000  # 2000 more records: the same payload


def test_gaps_timeline_and_table(fake_map, store, boundaries, taxonomy):
    at = open_app("cakupan")
    gaps = coverage.gap_list(store.list(), store.list_sites(), boundaries.kelurahan, taxonomy, Filters())
    gap_table = next(d.value for d in at.dataframe if "Kesenjangan" in d.value.columns)
    assert len(gap_table) == len(gaps)
    assert gap_table["Nama"].tolist() == gaps["name"].tolist()
    assert any(b.label == "Unduh tabel (CSV)" for b in at.download_button)
    assert re.search(r"Intervensi per bulan", texts(at))
