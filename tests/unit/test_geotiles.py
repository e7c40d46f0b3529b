"""Area shapes in tiles per zoom band (geo_p4gn.render.geotiles)."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from geo_p4gn.render import geotiles


def _layer():
    big = shapely.box(106.70, -6.30, 106.90, -6.10)  # about 22 km: in every band
    small = shapely.box(106.95, -6.20, 106.951, -6.199)  # about 110 m: too small for the farthest bands
    ragged = shapely.Polygon([(106.6 + i * 1e-3, -6.0 + (i % 2) * 1e-5) for i in range(100)] + [(106.7, -5.9)])
    return gpd.GeoDataFrame({"code": ["31.71", "31.72", "31.73"]}, geometry=[big, small, ragged], crs=4326)


def _write(tmp_path):
    def write(path, body):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    return geotiles.write_tiles(_layer(), tmp_path, write)


def _band_features(tmp_path, zoom):
    out = {}
    for path in (tmp_path / str(zoom)).glob("*.json"):
        for f in json.loads(path.read_text())["features"]:
            out.setdefault(f["properties"]["code"], []).append(shapely.from_geojson(json.dumps(f["geometry"])))
    return out


def test_bands_index_and_shapes(tmp_path):
    index = _write(tmp_path)
    assert json.loads((tmp_path / geotiles.INDEX).read_text()) == index
    assert [b[:3] for b in index["bands"]] == [list(b[:3]) for b in geotiles.BANDS]
    src = dict(zip(_layer()["code"], _layer().geometry, strict=True))
    for zoom, first, last, simplify in geotiles.BANDS:
        feats = _band_features(tmp_path, zoom)
        listed = {f"{x}-{y}" for y, runs in index["tiles"][str(zoom)].items() for a, b in runs
                  for x in range(a, b + 1)}
        assert listed == {p.stem for p in (tmp_path / str(zoom)).glob("*.json")}
        if not simplify:
            assert set(feats) == set(src)  # the last band keeps every area, at the 1.1 m grid
        if zoom >= 9:
            assert "31.71" in feats and "31.73" in feats
        if first >= 11:
            assert "31.72" in feats
        for code, shapes in feats.items():
            tol = geotiles._pixel(last) / 2 if simplify else 1e-5
            assert all(shapely.hausdorff_distance(g, src[code]) <= tol * 1.5 for g in shapes)
    ragged = _band_features(tmp_path, 9)["31.73"][0]
    assert shapely.get_num_coordinates(ragged) < 20  # simplified: the 1e-5 zigzag is gone


def test_an_area_in_every_tile_its_box_touches_and_view_bytes(tmp_path):
    _write(tmp_path)
    deep = geotiles.BANDS[-1][0]
    feats = _band_features(tmp_path, deep)
    assert len(feats["31.71"]) > 1  # 22 km at zoom 12 (10 km tiles): in several tiles
    first = geotiles.view_bytes(tmp_path, 106.8, -6.2, 10)
    street = geotiles.view_bytes(tmp_path, 106.8, -6.2, 15)
    assert 0 < first and 0 < street
    assert geotiles.view_bytes(tmp_path, 0.0, 0.0, 10) == (tmp_path / geotiles.INDEX).stat().st_size  # nothing there
