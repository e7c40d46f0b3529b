"""AppTest fixtures: a seeded temporary store, the single-user mode, and a patched ``st_folium``.

The map component is opaque to ``streamlit.testing``: tests drive clicks by patching
``streamlit_folium.st_folium`` (which the app looks up at call time) to return what the browser would
send, and inspect the folium map the page passed to it.
"""

from __future__ import annotations

import types
from pathlib import Path
from unittest import mock

import pytest
from streamlit.testing.v1 import AppTest

from geo_p4gn import settings
from geo_p4gn.seed import seed_store
from geo_p4gn.store import open_store

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app_main.py")  # the page script; app.py is the st.App server around it
TIMEOUT = 90

#: Points used by the tests (lon, lat): checked against the real boundaries in test_catat.
IN_JAKARTA = (106.8456, -6.2088)  # Kelurahan Menteng Atas? see test: 31.74.02.1006
IN_SEA = (106.85, -6.03)  # Jakarta Bay, more than 50 m from every kelurahan
OUTSIDE = (106.80, -6.60)  # Bogor


@pytest.fixture
def store_path(tmp_path, boundaries, taxonomy):
    path = tmp_path / "p4gn.gpkg"
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        seed_store(store)
    return path


@pytest.fixture
def store(store_path, boundaries, taxonomy):
    with open_store(store_path, boundaries=boundaries, taxonomy=taxonomy) as s:
        yield s


@pytest.fixture
def users_path(tmp_path, monkeypatch):
    """No users file: the app runs in the single-user mode unless a test writes accounts."""
    path = tmp_path / "users.toml"
    monkeypatch.setattr(settings, "users_path", path)
    return path


@pytest.fixture
def app_env(store_path, users_path, monkeypatch):
    monkeypatch.setattr(settings, "store_url", str(store_path))
    monkeypatch.setattr(settings, "tiles", "")
    return store_path


class FakeMap:
    """Stands in for st_folium: returns ``value`` and keeps every map it was given."""

    def __init__(self):
        self.value: dict = {}
        self.calls: list[tuple[object, dict]] = []

    def __call__(self, fig, **kw):
        self.calls.append((fig, kw))
        return dict(self.value)

    def click(self, lon: float, lat: float) -> None:
        self.value = {"last_clicked": {"lat": lat, "lng": lon}, "last_object_clicked": None}

    def click_object(self, lon: float, lat: float) -> None:
        self.value = {"last_clicked": {"lat": lat + 1e-4, "lng": lon + 1e-4},
                      "last_object_clicked": {"lat": lat, "lng": lon}}

    @property
    def last(self):
        return self.calls[-1]

    def last_html(self) -> str:
        fig, _ = self.last
        return fig.get_root().render()


@pytest.fixture
def fake_map():
    fake = FakeMap()
    with mock.patch("streamlit_folium.st_folium", side_effect=fake):
        yield fake


def open_app(page: str | None = None, query: dict | None = None) -> AppTest:
    """Run the pages (app_main.py), then switch to ``app_pages/<page>.py`` (None: the default page)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Everything the page shows as text (markdown, alerts, captions, headings), one string."""
    parts = []
    for group in (at.title, at.header, at.subheader, at.markdown, at.caption, at.success, at.info, at.warning,
                  at.error, at.text):
        parts += [str(e.value) for e in group]
    return "\n".join(parts)


ns = types.SimpleNamespace
