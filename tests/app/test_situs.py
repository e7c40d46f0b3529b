"""Situs: add a site by tapping the map, give an approximate site its real outline; audited."""

from __future__ import annotations

import pytest

from geo_p4gn import services
from tests.app.conftest import IN_JAKARTA, OUTSIDE, open_app

pytestmark = pytest.mark.usefixtures("app_env")


def tap(at, fake_map, lon, lat):
    fake_map.click(lon, lat)
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def save(at):
    next(b for b in at.button if b.label == "Simpan situs").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_a_new_site_is_placed_by_a_tap(fake_map, store, boundaries):
    at = open_app("situs")
    assert at.selectbox(key="situs_sel").value == "__new__"
    tap(at, fake_map, *IN_JAKARTA)
    assert at.session_state["situs_draft"] == [IN_JAKARTA]
    fg = fake_map.last[1]["feature_group_to_add"][0]
    assert len(fg._children) == 1
    next(t for t in at.text_input if t.label.startswith("Kode situs")).set_value("gang-baru")
    next(t for t in at.text_input if t.label == "Nama").set_value("Gang Baru")
    next(t for t in at.text_area if t.label.startswith("Nama lain")).set_value("Gang Lama\nGang Tua")
    next(s for s in at.selectbox if s.label == "Kategori IKRN").set_value("waspada")
    save(at)
    site = store.get_site("gang-baru")
    assert (site["name"], site["aliases"], site["ikrn"], site["approximate"]) == \
        ("Gang Baru", ["Gang Lama", "Gang Tua"], "waspada", False)
    assert site["kelurahan_code"] == boundaries.assign_one(*IN_JAKARTA)
    assert any("Situs tersimpan (baru)" in s.value for s in at.success)
    log = services.site_history(store, services.SINGLE_USER, "gang-baru")
    assert log["action"].tolist() == ["create"] and log["who"].tolist() == [services.SINGLE_USER.name]


def test_drawing_an_outline_clears_approximate(fake_map, store):
    seed = store.get_site("kampung-ambon")
    assert seed["approximate"]
    x, y = seed["geometry"].x, seed["geometry"].y
    at = open_app("situs")
    at.selectbox(key="situs_sel").set_value("kampung-ambon")
    at.run()
    at.segmented_control(key="situs_mode_kampung-ambon").set_value("polygon")
    at.run()
    corners = [(x - 0.0005, y - 0.0004), (x + 0.0005, y - 0.0004), (x + 0.0004, y + 0.0005)]
    for c in corners:
        tap(at, fake_map, *c)
    assert at.session_state["situs_draft"] == [(round(a, 7), round(b, 7)) for a, b in corners]
    at.button(key="situs_undo").click()
    at.run()
    assert len(at.session_state["situs_draft"]) == 2
    corners[2] = (x + 0.0003, y + 0.0005)
    tap(at, fake_map, *corners[2])
    save(at)
    site = store.get_site("kampung-ambon")
    assert site["geometry"].geom_type == "Polygon"
    assert not site["approximate"]
    assert site["geometry"].exterior.coords[:3] == [(round(a, 7), round(b, 7)) for a, b in corners]
    assert site["name"] == seed["name"] and site["aliases"] == seed["aliases"]
    assert any("Situs tersimpan (diubah)" in s.value for s in at.success)
    history = next(d.value for d in at.dataframe if "Tindakan" in d.value.columns)
    assert history["Tindakan"].tolist() == ["update", "create"]


def test_a_place_outside_jakarta_is_refused(fake_map, store):
    at = open_app("situs")
    tap(at, fake_map, *OUTSIDE)
    next(t for t in at.text_input if t.label.startswith("Kode situs")).set_value("di-bogor")
    next(t for t in at.text_input if t.label == "Nama").set_value("Di Bogor")
    save(at)
    assert any("outside DKI Jakarta" in e.value for e in at.error)
    assert "di-bogor" not in set(store.list_sites()["id"])
