"""Hostile inputs placed on the real boundaries (issue 10, section 2): reasons quote at most 80 characters,
numeric GeoJSON ids are the source's row ids, heights are dropped by the importer and never stored.

Moved from tests/unit/test_hostile_inputs.py (they need the real boundaries and a GeoPackage store); the
pure reader and limit checks stay there.
"""

from __future__ import annotations

import json

import shapely

from bench import bench_hostile_memory as bench
from geo_p4gn import importers
from geo_p4gn.store import open_store

PRIOK = (106.885901, -6.108734)  # lon, lat in 31.72.02.1001 Tanjung Priok
KEDAUNG = (106.760338, -6.151539)


def test_reasons_quote_at_most_80_characters_of_a_value(tmp_path, taxonomy, boundaries):
    long = "9" * 20_000
    path = tmp_path / "alasan.csv"
    path.write_text(bench.HEADER + "\n" + bench.ROW.replace(",120,", f",{long}x,") + "\n"
                    + bench.ROW.replace("deklarasi", "z" * 5000) + "\n")
    checked = importers.check_table(importers.read_rows(path), taxonomy=taxonomy, boundaries=boundaries)
    assert [r.row for r in checked.rejects] == [2, 3]
    for r in checked.rejects:
        assert len(r.reason) < 600, r.reason
        assert "9" * 81 not in r.reason and "z" * 81 not in r.reason
    assert checked.rejects[0].reason == ("row 2: peserta: '" + "9" * 80
                                         + "'... (20,001 characters) is not a number")
    assert checked.rejects[1].reason.startswith("row 3: jenis: '" + "z" * 80 + "'... (5,000 characters) ")


def _fc(features):
    return {"type": "FeatureCollection", "features": features}


def _feat(coords, fid=None, geom="Point", **props):
    f = {"type": "Feature", "properties": {"tanggal": "2024-08-17", "jenis": "deklarasi", "aktor": "komunitas",
                                           "organisasi": "RW 07", **props},
         "geometry": {"type": geom, "coordinates": coords}}
    if fid is not None:
        f["id"] = fid
    return f


def test_numeric_feature_ids_are_source_row_ids(tmp_path, taxonomy, boundaries):
    path = tmp_path / "qgis.geojson"
    path.write_text(json.dumps(_fc([_feat(list(PRIOK), 0), _feat(list(KEDAUNG), 1),
                                    _feat(list(PRIOK), 2, jenis="tidak ada")])))
    checked = importers.check_table(importers.read_rows(path), taxonomy=taxonomy, boundaries=boundaries)
    assert len(checked.records) == 2 and all(checked.generated)
    assert [r.reason.split(":")[0] for r in checked.rejects] == ["feature 3 (id 2)"]
    assert checked.rejects[0].field == "jenis"
    # a string id is still the record's id (and refused when it is not a UUID)
    path.write_text(json.dumps(_fc([_feat(list(PRIOK), "abc")])))
    checked = importers.check_table(importers.read_rows(path), taxonomy=taxonomy, boundaries=boundaries)
    assert [r.field for r in checked.rejects] == ["id"]


def test_heights_are_dropped(tmp_path, taxonomy, boundaries):
    x, y = PRIOK
    ring = [[x - 5e-4, y - 5e-4, 5], [x + 5e-4, y - 5e-4, 5], [x + 5e-4, y + 5e-4, 5], [x - 5e-4, y - 5e-4, 5]]
    path = tmp_path / "z.geojson"
    path.write_text(json.dumps(_fc([_feat([*PRIOK, 12.5]), _feat(list(KEDAUNG)), _feat([ring], geom="Polygon")])))
    checked = importers.check_table(importers.read_rows(path), taxonomy=taxonomy, boundaries=boundaries)
    assert not checked.rejects and len(checked.records) == 3
    assert not any(r.geometry.has_z for r in checked.records)
    assert checked.records[0].geometry.equals(shapely.Point(PRIOK))
    csv_path = tmp_path / "z.csv"
    csv_path.write_text("tanggal,jenis,aktor,organisasi,geometry\n"
                        f"2024-08-17,deklarasi,komunitas,RW 07,POINT Z ({PRIOK[0]} {PRIOK[1]} 3)\n")
    checked = importers.check_table(importers.read_rows(csv_path), taxonomy=taxonomy, boundaries=boundaries)
    assert [r.geometry.has_z for r in checked.records] == [False]


def test_the_geopackage_layer_never_stores_a_height(tmp_path, taxonomy, boundaries):
    path = tmp_path / "z.geojson"
    path.write_text(json.dumps(_fc([_feat([*PRIOK, 12.5])])))
    store = open_store(str(tmp_path / "s.gpkg"), boundaries=boundaries, taxonomy=taxonomy)
    try:
        rec = importers.check_table(importers.read_rows(path), taxonomy=taxonomy, boundaries=boundaries).records[0]
        z = type(rec)(**{**rec.as_dict(), "geometry": shapely.Point(*PRIOK, 9)})
        store.add_many([z], user="t")
        assert not store.get(z.id).geometry.has_z
    finally:
        store.close()


