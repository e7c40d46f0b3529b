"""The app's maps (Peta cakupan, Catat, Situs) with a payload in every user-text field, run by Streamlit's
AppTest with the real ``st_folium``: no user string is compiled as a template, and every text reaches the
browser as a JSON string, unevaluated. See ``tests/integration/test_template_injection.py``.
"""

from __future__ import annotations

from unittest import mock

import pytest
import streamlit_folium

from geo_p4gn.render.maps import to_js
from tests.app.conftest import open_app
from tests.integration.test_template_injection import EVALUATED
from tests.template_spy import MARK, MARKED, compiled_sources, tainted


@pytest.fixture
def app_with_payloads(payload_store, payload_taxonomy_file, users_path, monkeypatch):
    from geo_p4gn import settings

    path, _ = payload_store
    monkeypatch.setattr(settings, "store_url", str(path))
    monkeypatch.setattr(settings, "tiles", "")
    monkeypatch.setattr("geo_p4gn_app.data.taxonomy_path", lambda: payload_taxonomy_file)
    monkeypatch.setattr("geo_p4gn.taxonomy.taxonomy_path", lambda: payload_taxonomy_file)
    sent = []

    def component(**kw):  # what st_folium would send to the browser
        sent.append(kw)
        return kw.get("default")

    with mock.patch.object(streamlit_folium, "_component_func", side_effect=component):
        yield sent


@pytest.mark.parametrize("page", ["cakupan", "catat", "situs"])
def test_app_maps(app_with_payloads, page):
    sent = app_with_payloads
    with compiled_sources() as sources:
        at = open_app(page)
    assert not at.exception
    assert tainted(sources) == []
    assert sent, "the page drew no map"
    script = "\n".join(str(kw.get(k) or "") for kw in sent for k in ("script", "header", "html", "feature_group"))
    assert MARK in script  # the texts reach the map (as JSON strings) ...
    assert not any(e in script for e in EVALUATED)  # ... and none was evaluated
    if page == "cakupan":  # the points layer's tooltips: the organisation of each record, verbatim
        for t in MARKED:
            assert to_js(t)[1:-1] in script
