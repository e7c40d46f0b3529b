"""Streamlit's icon font cut to the icons the app and Streamlit name (geo_p4gn_app.icons, issue 12)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from geo_p4gn.http import caching
from geo_p4gn_app import icons, page

pytest.importorskip("brotli")
ROOT = Path(__file__).resolve().parents[2]


def _ligatures(body: bytes) -> set[str]:
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(body))
    char_of = {g: chr(c) for c, g in font.getBestCmap().items()}
    out = set()
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for table in lookup.SubTable:
            table = getattr(table, "ExtSubTable", table)
            if type(table).__name__ == "LigatureSubst":
                for first, ligs in table.ligatures.items():
                    out.update("".join(char_of.get(g, "?") for g in (first, *lig.Component)) for lig in ligs)
    return out


def test_the_subset_is_small_and_draws_every_icon_the_app_and_streamlit_name():
    body = icons.make_subset()
    assert body is not None and body[:4] == b"wOF2"
    assert len(body) < 100_000 < icons.source().stat().st_size
    kept = _ligatures(body)
    used = set()
    files = [*ROOT.glob("*.py"), *(p for folder in ("app_pages", "geo_p4gn_app", "geo_p4gn")
                                   for p in (ROOT / folder).rglob("*.py"))]
    for path in files:  # app_main.py holds the pages' icons (the sidebar showed "_FILE", "ATION_CITY" without)
        used.update(re.findall(r":material/([a-z0-9_]+):", path.read_text(encoding="utf-8")))
    assert {"location_on", "check_circle", "add", "delete", "download"} <= used
    assert {"add_location_alt", "upload_file", "location_city", "admin_panel_settings"} <= used
    assert used <= kept
    # Streamlit's own controls: the sidebar arrows, alerts, expanders
    assert {"keyboard_double_arrow_right", "keyboard_double_arrow_left", "expand_more", "close", "error"} <= kept


def test_the_page_script_puts_the_subset_first_in_streamlits_font_rule():
    js = next(body for name, (_, body) in page.assets().items() if name.endswith(".js")).decode()
    assert icons.url() in js and "Material Symbols Rounded" in js
    assert re.fullmatch(r"/ui/icons-[0-9a-f]{16}\.woff2", icons.url())


def test_page_relative_health_checks_are_cached_only_when_refused():
    assert caching.lifetime("/catat/_stcore/host-config", 404) == caching.DAY
    assert caching.lifetime("/_stcore/health", 404) is None
    assert caching.lifetime("/_stcore/health") is None
    assert caching.lifetime("/component/streamlit_folium.st_folium/index.html") == caching.WEEK
    assert caching.lifetime("/component/streamlit_folium.st_folium/static/js/main.521860b0.js") == caching.IMMUTABLE
