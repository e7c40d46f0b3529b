"""Boundaries: real facts pinned on the real upstream files (mirror or download cache)."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
import shapely

from geo_p4gn import boundaries as bd
from geo_p4gn._errors import BoundaryDataError, OutsideJakartaError, SwappedCoordinatesError

KEDAUNG_CENTROID = (106.75857601542747, -6.152569496052011)  # upstream lng/lat of 31.73.01.1004


def test_counts_codes_and_names(boundaries):
    kel, kec, kota = boundaries.kelurahan, boundaries.kecamatan, boundaries.kota
    assert (len(kel), len(kec), len(kota)) == (267, 44, 6)
    assert kel["code"].is_unique and kec["code"].is_unique
    row = kel.set_index("code").loc["31.73.01.1004"]
    assert (row["name"], row["kecamatan_name"], row["kota_name"]) == (
        "Kedaung Kali Angke", "Cengkareng", "Kota Administrasi Jakarta Barat")
    assert kec.set_index("code").loc["31.73.07", "name"] == "Pal Merah"
    assert kota.set_index("code").loc["31.01", "name"] == "Kabupaten Administrasi Kepulauan Seribu"
    assert kec["kelurahan_count"].sum() == 267
    assert kota.set_index("code").loc["31.73", "kelurahan_count"] == 56
    assert kel.crs.to_epsg() == 4326


def test_geometry_is_lng_lat_and_valid(boundaries):
    minx, miny, maxx, maxy = boundaries.kelurahan.total_bounds
    assert 106.3 < minx < maxx < 107.0 and -6.4 < miny < maxy < -5.1
    assert boundaries.kelurahan.is_valid.all()


def test_summary_nesting_and_area(boundaries):
    s = boundaries.summary()
    assert s["commit"] == "3c5a7960f4d227a38489094d84252bdbb3f978a5"
    for level, n in (("kelurahan", 267), ("kecamatan", 44), ("kota", 6)):
        assert s["levels"][level]["count"] == s["levels"][level]["valid"] == n
    assert s["levels"]["kecamatan"]["nests_all_kelurahan"] is True
    assert s["levels"]["kota"]["nests_all_kelurahan"] is True
    assert 655 < s["levels"]["kelurahan"]["area_km2"] < 667


def test_centroid_of_kedaung_kali_angke(boundaries):
    assert boundaries.assign_one(*KEDAUNG_CENTROID) == "31.73.01.1004"


def test_java_sea_point_is_rejected(boundaries):
    with pytest.raises(OutsideJakartaError, match="outside DKI Jakarta"):
        boundaries.assign_one(106.70, -5.95)  # between the coast and Pulau Untung Jawa, open sea


def test_swapped_pair_is_reported_as_swapped(boundaries):
    lon, lat = KEDAUNG_CENTROID
    with pytest.raises(SwappedCoordinatesError, match="swapped"):
        boundaries.assign_one(lat, lon)
    assert boundaries.assign([lat], [lon])["status"].tolist() == ["swapped"]


def test_island_kelurahan_is_inside(boundaries):
    kel = boundaries.kelurahan.set_index("code")
    p = shapely.point_on_surface(kel.loc["31.01.01.1001", "geometry"])  # Pulau Panggang
    assert boundaries.assign_one(p.x, p.y) == "31.01.01.1001"


def test_bulk_assignment_statuses(boundaries):
    lon = [106.75857601542747, 106.70, np.nan, -6.15, 200.0]
    lat = [-6.152569496052011, -5.95, -6.2, 106.75, 0.0]
    res = boundaries.assign(lon, lat)
    assert res["status"].tolist() == ["inside", "outside", "invalid", "swapped", "invalid"]
    assert res["kelurahan_code"][0] == "31.73.01.1004"
    assert res["kelurahan_code"][1:].isna().all()


def test_a_repeated_large_assignment_gives_the_same_answer(boundaries):
    """assign() keeps its last large answer (an import asks twice): equal, and not shared with callers."""
    rng = np.random.default_rng(3)
    n = bd._MEMO_MIN + 10
    lon, lat = rng.uniform(106.6, 107.0, n), rng.uniform(-6.4, -6.0, n)
    lon[0], lat[0] = KEDAUNG_CENTROID
    first = boundaries.assign(lon, lat)
    fresh = boundaries._assign(lon, lat)
    first.loc[0, "kelurahan_code"] = "tampered"  # a caller changing its copy must not change the next answer
    again = boundaries.assign(lon.copy(), lat.copy())
    assert again.equals(fresh)
    assert again["kelurahan_code"][0] == "31.73.01.1004"
    lat[1] += 0.01  # other coordinates: computed anew
    moved = boundaries.assign(lon, lat)
    assert moved.drop(index=1).equals(fresh.drop(index=1))
    one = boundaries._assign(lon[1:2], lat[1:2])
    assert moved["status"][1] == one["status"][0]
    assert str(moved["kelurahan_code"][1]) == str(one["kelurahan_code"][0]) or (
        moved["kelurahan_code"].isna()[1] and one["kelurahan_code"].isna()[0])


def test_shared_edge_and_gap_rule_is_deterministic(boundaries):
    kel = boundaries.kelurahan.set_index("code")
    a, b = kel.loc["31.73.01.1004", "geometry"], kel.loc["31.73.01.1005", "geometry"]  # Kedaung / Kapuk
    shared = shapely.intersection(a.boundary, b.boundary)
    assert not shared.is_empty
    p = shapely.line_interpolate_point(shapely.line_merge(shared) if shared.geom_type != "Point" else shared, 0.5,
                                       normalized=True) if shared.geom_type != "Point" else shared
    first = boundaries.assign([p.x] * 3, [p.y] * 3)
    assert first["kelurahan_code"].nunique() == 1
    assert first["kelurahan_code"][0] in ("31.73.01.1004", "31.73.01.1005")
    assert first["status"][0] in ("overlap", "inside", "gap")


def test_gap_point_goes_to_nearest_within_tolerance(boundaries):
    kel = boundaries.kelurahan.set_index("code")
    geom = kel.loc["31.73.01.1004", "geometry"]
    # a point 20 m outside Kedaung Kali Angke's edge towards the outside of DKI is assigned as a gap...
    metric = boundaries._metric.set_index("code").geometry
    union = max(shapely.union_all(metric.values).geoms, key=lambda g: g.area)  # the mainland
    outer = shapely.buffer(union, 20).exterior
    p_m = shapely.get_point(outer, 0)
    from pyproj import Transformer

    back = Transformer.from_crs(32748, 4326, always_xy=True)
    lon, lat = back.transform(p_m.x, p_m.y)
    res = boundaries.assign([lon], [lat])
    assert res["status"][0] == "gap" and 19 < res["gap_m"][0] < 21
    # ... and 200 m out is rejected
    p_far = shapely.get_point(shapely.buffer(union, 200).exterior, 0)
    lon2, lat2 = back.transform(p_far.x, p_far.y)
    assert boundaries.assign([lon2], [lat2])["status"][0] == "outside"
    assert geom.is_valid


def test_polygon_location(boundaries):
    poly = shapely.Point(*KEDAUNG_CENTROID).buffer(0.001)
    assert boundaries.locate(poly) == "31.73.01.1004"
    sea = shapely.Point(106.70, -5.95).buffer(0.001)
    with pytest.raises(OutsideJakartaError, match="vertex 1"):
        boundaries.locate(sea)


def test_parser_reads_both_row_styles():
    text = (
        "INSERT INTO wilayah_boundaries(kode,nama,lat,lng,path) VALUES\n"
        "('31.73.01.1004','Kedaung Kali Angke',-6.15,106.75,'[[[-6.1,106.7],[-6.1,106.8],[-6.2,106.8],[-6.1,106.7]]]'),\n"
        "('31.01.01.1001', 'Pulau O''Panggang', '-5.7', '106.5', "
        "'[[[[-5.7,106.5],[-5.7,106.6],[-5.8,106.6],[-5.7,106.5]]],[[[-5.9,106.5],[-5.9,106.6],[-5.95,106.6],[-5.9,106.5]]]]');"
    )
    df = bd.parse_boundary_sql(text)
    assert df["code"].tolist() == ["31.73.01.1004", "31.01.01.1001"]
    assert df["name"][1] == "Pulau O'Panggang"
    assert df.geometry[0].geom_type == "Polygon" and df.geometry[1].geom_type == "MultiPolygon"
    assert df.geometry[0].exterior.coords[0] == (106.7, -6.1)  # swapped to (lng, lat)


def test_parser_refuses_a_row_it_cannot_read():
    text = "VALUES ('31.73.01.1004','X',-6.1,106.7,'not json'),('31.73.01.1005','Y',-6.1,106.7,'[[[-6.1,106.7]]]');"
    with pytest.raises(BoundaryDataError, match="format changed|unreadable path"):
        bd.parse_boundary_sql(text)


def _mirror_copy(tmp_path, mirror):
    for p in mirror.iterdir():
        shutil.copy(p, tmp_path / p.name)
    return tmp_path


def test_corrupted_mirror_fails_sha256(tmp_path):
    manifest = bd.load_manifest()
    mirror = bd.settings.boundary_mirror
    if mirror is None:
        pytest.skip("GEO_P4GN_BOUNDARY_MIRROR not set")
    copy = _mirror_copy(tmp_path, mirror)
    target = copy / manifest["files"][3]["name"]
    data = bytearray(target.read_bytes())
    data[5000] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(BoundaryDataError, match="sha256"):
        bd.fetch_boundary_files(manifest, mirror=copy)
    target.unlink()
    with pytest.raises(BoundaryDataError, match="missing from the mirror"):
        bd.fetch_boundary_files(manifest, mirror=copy)


def test_manifest_pins_each_mirror_file():
    manifest = bd.load_manifest()
    assert len(manifest["files"]) == 6
    mirror = bd.settings.boundary_mirror
    if mirror is None:
        pytest.skip("GEO_P4GN_BOUNDARY_MIRROR not set")
    for f in manifest["files"]:
        assert hashlib.sha256((mirror / f["name"]).read_bytes()).hexdigest() == f["sha256"]
        assert f["url"].endswith("3c5a7960f4d227a38489094d84252bdbb3f978a5/db/kel/31/" + f["name"])


def test_no_network_download_gives_one_clear_error(tmp_path, monkeypatch):
    manifest = bd.load_manifest()
    manifest["files"] = [dict(manifest["files"][0], url="http://127.0.0.1:9/nowhere.sql")]
    monkeypatch.setattr(bd.settings, "boundary_mirror", None)
    with pytest.raises(BoundaryDataError, match="GEO_P4GN_BOUNDARY_MIRROR"):
        bd.fetch_boundary_files(manifest, cache=tmp_path)
    assert not any((tmp_path / "downloads").glob("*.sql"))


def test_cache_is_rebuilt_when_manifest_changes(tmp_path, monkeypatch):
    m = bd.load_manifest()
    other = dict(m, commit="0" * 40)
    assert bd.cache_path(m) != bd.cache_path(other)


def test_name_mismatch_fails_loudly():
    with pytest.raises(BoundaryDataError, match="differs from the official"):
        bd._cross_check("kelurahan", {"31.73.01.1004": "Kedaung"}, {"31.73.01.1004": "Kedaung Kali Angke"}, True)
    with pytest.raises(BoundaryDataError, match="has no boundary"):
        bd._cross_check("kota", {}, {"31.71": "Kota Administrasi Jakarta Pusat"}, False)
