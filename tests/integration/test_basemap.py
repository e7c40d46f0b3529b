"""Issue 12 without a browser: the basemap file's routes, the MBTiles command, the place-name rows."""

from __future__ import annotations

import asyncio
import sqlite3
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette

from geo_p4gn import settings
from geo_p4gn.http import basemap as basemap_routes
from geo_p4gn.render import basemap, maps
from tests.e2e.test_map_phone_browser import RED, make_mbtiles, make_pmtiles


class _Client:
    """GET requests straight into the ASGI app (no server, no HTTP client package)."""

    def __init__(self, app):
        self.app = app

    def get(self, path, headers=None):
        async def run():
            sent, out, done, asked = [], {"body": b""}, asyncio.Event(), []

            async def receive():
                if not asked:
                    asked.append(1)
                    return {"type": "http.request", "body": b"", "more_body": False}
                await done.wait()  # the client stays until the answer is complete
                return {"type": "http.disconnect"}

            async def send(message):
                sent.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    done.set()

            scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
                     "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
                     "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
                     "root_path": "", "app": self.app}
            await self.app(scope, receive, send)
            start = next(m for m in sent if m["type"] == "http.response.start")
            out["body"] = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
            hdrs = {k.decode().lower(): v.decode() for k, v in start["headers"]}
            return SimpleNamespace(status_code=start["status"], headers=hdrs, content=out["body"])

        return asyncio.run(run())


@pytest.fixture
def client():
    return _Client(Starlette(routes=basemap_routes.routes()))


def test_mbtiles_tiles_are_served_and_a_missing_one_is_transparent(tmp_path, monkeypatch, client):
    path = make_mbtiles(tmp_path / "dki.mbtiles", zooms=range(11, 12))
    monkeypatch.setattr(settings, "basemap_path", path)
    spec = basemap.layer_spec()
    assert spec["kind"] == "mbtiles" and (spec["min_zoom"], spec["max_zoom"]) == (11, 11)
    url = spec["url"].format(z=11, x=1631, y=1059)
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert "immutable" in r.headers["cache-control"]
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(r.content)).convert("RGB").getpixel((5, 5)) == RED
    empty = client.get(spec["url"].format(z=11, x=0, y=0))
    assert empty.status_code == 200 and empty.content == basemap.EMPTY_PNG
    assert client.get("/basemap/000000000000/11/1631/1059.png").status_code == 404  # an old file's address


def test_pmtiles_is_answered_in_byte_ranges(tmp_path, monkeypatch, client):
    path = make_pmtiles(tmp_path / "dki.pmtiles", zooms=range(10, 12))
    monkeypatch.setattr(settings, "basemap_path", path)
    spec = basemap.layer_spec()
    assert spec["kind"] == "pmtiles" and spec["attribution"] == "© OpenStreetMap contributors"
    r = client.get(spec["url"], headers={"Range": "bytes=0-126"})
    assert r.status_code == 206 and r.content.startswith(b"PMTiles") and len(r.content) == 127


def test_no_basemap_file_means_none(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "basemap_path", None)
    assert basemap.layer_spec() is None
    monkeypatch.setattr(settings, "basemap_path", tmp_path / "missing.pmtiles")
    assert basemap.layer_spec() is None


def test_place_name_rows_by_level(boundaries):
    rows = maps.label_rows({level: boundaries.layer(level) for level in ("kota", "kecamatan", "kelurahan")})
    kinds = [r[3] for r in rows]
    assert kinds.count(0) == 6 and kinds.count(1) == 44 and kinds.count(2) == 267
    assert kinds == sorted(kinds)  # kota first, then kecamatan, then kelurahan
    assert "Jakarta Utara" in {r[2] for r in rows if r[3] == 0}  # "Kota Administrasi" left out on the map


def test_the_mbtiles_command_writes_boundaries_names_and_sites(tmp_path, boundaries, taxonomy, capsys):
    from geo_p4gn.cli import main
    from geo_p4gn.seed import seed_store
    from geo_p4gn.store import open_store

    store = tmp_path / "p4gn.gpkg"
    with open_store(store, boundaries=boundaries, taxonomy=taxonomy) as s:
        seed_store(s)
    out = tmp_path / "dki.mbtiles"
    assert main(["basemap", "mbtiles", str(out), "--store", str(store), "--min-zoom", "10", "--max-zoom", "12",
                 "--public"]) == 0
    assert "public" in capsys.readouterr().out
    con = sqlite3.connect(out)
    meta = dict(con.execute("SELECT name, value FROM metadata"))
    assert (meta["format"], meta["minzoom"], meta["maxzoom"]) == ("png", "10", "12")
    per_zoom = dict(con.execute("SELECT zoom_level, count(*) FROM tiles GROUP BY zoom_level"))
    assert set(per_zoom) == {10, 11, 12} and per_zoom[12] > per_zoom[10]
    con.close()
