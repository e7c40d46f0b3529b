"""Heights on both backends (issue 10): a feature with Z is stored in 2D, never refused with the whole file,
never stored with its height; numeric GeoJSON ids are the source's row ids."""

from __future__ import annotations

import dataclasses
import json

import shapely

from geo_p4gn import importers

PRIOK = (106.885901, -6.108734)
KEDAUNG = (106.760338, -6.151539)


def _feat(coords, fid):
    return {"type": "Feature", "id": fid, "properties": {"tanggal": "2024-08-17", "jenis": "deklarasi",
                                                         "aktor": "komunitas", "organisasi": "RW 07"},
            "geometry": {"type": "Point", "coordinates": coords}}


def test_a_feature_with_a_height_does_not_lose_the_file(store, tmp_path):
    path = tmp_path / "qgis.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feat(list(KEDAUNG), 0), _feat([*PRIOK, 7.5], 1), _feat(list(KEDAUNG), 2)]}))
    report = importers.import_file(store, path, user="t")
    assert report.summary() == {"accepted": 3, "rejected": 0, "duplicates": 0, "conflicts": 0}
    stored = [store.get(i) for i in report.accepted_ids]
    assert [g.has_z for g in (r.geometry for r in stored)] == [False] * 3
    assert stored[1].geometry.equals(shapely.Point(PRIOK))


def test_the_store_drops_a_height_it_is_given(store, tmp_path):
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_feat(list(PRIOK), 0)]}))
    rec = importers.check_table(importers.read_rows(path), taxonomy=store.taxonomy,
                                boundaries=store.boundaries).records[0]
    z = dataclasses.replace(rec, geometry=shapely.Point(*PRIOK, 3.0))
    assert store.add_many([z], user="t").created == 1
    assert not store.get(z.id).geometry.has_z
    store.update(z.id, {"geometry": shapely.Point(KEDAUNG[0], KEDAUNG[1], 4.0)}, user="t")
    assert not store.get(z.id).geometry.has_z
