"""The boundary cache holds what assignment derives (issue 16): a start reads, it does not compute."""

from __future__ import annotations

import numpy as np
import pyogrio
import shapely

from geo_p4gn import boundaries as bd


def _write(boundaries, path):
    layers = {level: boundaries.layer(level) for level in bd.LEVELS}
    bd._write_cache(layers, path, dict(boundaries.source))


def test_the_metric_layer_is_read_from_the_cache_and_assigns_the_same(boundaries, tmp_path, monkeypatch):
    path = tmp_path / "boundaries.gpkg"
    _write(boundaries, path)
    assert bd.METRIC_LAYER in {name for name, _ in pyogrio.list_layers(path)}
    cached = bd._read_cache.__wrapped__(str(path))
    assert isinstance(cached.__dict__["_layer_kota"], bd._Deferred)  # read at its first use
    called = []
    monkeypatch.setattr(type(cached.kelurahan), "to_crs", lambda *a, **k: called.append(1))
    metric = cached._metric
    assert not called  # from the cache, not reprojected
    assert metric.crs.equals(bd.settings.metric_crs) and list(metric["code"]) == list(boundaries.kelurahan["code"])
    monkeypatch.undo()
    pts = shapely.point_on_surface(boundaries.kelurahan.geometry.to_numpy())
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    x, y = np.r_[x, 106.80, 106.98], np.r_[y, -6.20, -6.05]
    got, want = cached.assign(x, y), boundaries.assign(x, y)
    assert got["kelurahan_code"].equals(want["kelurahan_code"])
    assert len(cached.kota) == len(boundaries.kota) and len(cached.kecamatan) == len(boundaries.kecamatan)


def test_a_cache_without_the_metric_layer_still_assigns(boundaries, tmp_path):
    path = tmp_path / "old.gpkg"
    _write(boundaries, path)
    # a cache written before issue 16: the same file without the metric layer
    old = tmp_path / "older.gpkg"
    for level in bd.LEVELS:
        pyogrio.write_dataframe(pyogrio.read_dataframe(path, layer=level), old, layer=level, driver="GPKG")
    pyogrio.write_dataframe(pyogrio.read_dataframe(path, layer="source_meta", read_geometry=False), old,
                            layer="source_meta", driver="GPKG")
    cached = bd._read_cache.__wrapped__(str(old))
    assert cached.assign_one(106.75857601542747, -6.152569496052011) == "31.73.01.1004"
