"""What each backend guarantees on its own: an ordinary GeoPackage; constraints in PostGIS."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from geo_p4gn.store import open_store

from .test_store_contract import KEDAUNG, make


def test_geopackage_layers_open_in_gdal(tmp_path, boundaries, taxonomy):
    path = tmp_path / "s.gpkg"
    recs = [make(taxonomy, organisation=f"Org {i}") for i in range(25)]
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        store.add_many(recs, user="a")
        store.upsert_site({"id": "kampung-uji", "name": "Uji", "geometry": shapely.Point(*KEDAUNG)}, user="a")
    frame = gpd.read_file(path, layer="interventions")
    assert len(frame) == 25 and frame.crs.to_epsg() == 4326
    assert sorted(frame["id"]) == sorted(r.id for r in recs)
    assert set(frame["kelurahan_code"]) == {"31.73.01.1004"}
    assert str(frame["date"].dtype).startswith("datetime64")  # a real DATE field, not text
    # the spatial index answers a bbox query through GDAL
    near = gpd.read_file(path, layer="interventions", bbox=(106.75, -6.16, 106.77, -6.14))
    far = gpd.read_file(path, layer="interventions", bbox=(106.85, -6.2, 106.86, -6.19))
    assert (len(near), len(far)) == (25, 0)
    assert len(gpd.read_file(path, layer="sites")) == 1
    info = pyogrio.read_info(path, layer="interventions")  # what ogrinfo -so prints
    assert (info["features"], info["geometry_type"], info["crs"]) == (25, "Unknown", "EPSG:4326")


def test_geopackage_audit_is_append_only(tmp_path, boundaries, taxonomy):
    path = tmp_path / "s.gpkg"
    store = open_store(path, boundaries=boundaries, taxonomy=taxonomy)
    store.add(make(taxonomy), user="a")
    store.close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET who = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit")
    conn.close()
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        assert store.audit_log()["who"].tolist() == ["a"]


def test_not_a_store_is_a_clear_error(tmp_path):
    from geo_p4gn import P4gnError

    bad = tmp_path / "x.gpkg"
    bad.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(P4gnError, match="not a geo_p4gn GeoPackage store"):
        open_store(bad)


@pytest.fixture
def pg_store(pg_url, boundaries, taxonomy):
    from .conftest import pg_schema_url

    url = pg_schema_url(pg_url)
    store = open_store(url, boundaries=boundaries, taxonomy=taxonomy)
    yield store
    store.close()


_RAW_INSERT = (
    "INSERT INTO interventions (id, geom, date, type_key, actor_key, organisation, kelurahan_code, created_by, "
    "created_at, updated_by, updated_at, version, content_hash, created_hash) VALUES "
    "(%s, ST_GeomFromText(%s, %s), '2024-01-01', 'deklarasi', 'media', 'Org', '31.73.01.1004', 'a', now(), 'a', "
    "now(), 1, 'h', 'h')"
)


@pytest.mark.parametrize(("wkt", "srid", "reason"), [
    ("POINT(106.70 -4.0)", 4326, "interventions_geom_check"),  # outside the DKI bounding box
    ("POINT(11880000 -690000)", 3857, "geom"),  # another SRID
    ("POLYGON((106.75 -6.15, 106.76 -6.16, 106.76 -6.15, 106.75 -6.16, 106.75 -6.15))", 4326, "check"),  # bow-tie
    ("LINESTRING(106.75 -6.15, 106.76 -6.16)", 4326, "check"),  # not a point or polygon
])
def test_postgis_constraints_refuse_bad_geometry(pg_store, wkt, srid, reason):
    import psycopg

    conn = pg_store._conn()
    with pytest.raises(psycopg.errors.DatabaseError, match=f"(?i){reason}"):
        conn.execute(_RAW_INSERT, ("6f1c7f59-2a7b-4c5e-9a8e-0d2f7e3c1a11", wkt, srid))
    assert conn.execute("SELECT count(*) FROM interventions").fetchone()[0] == 0


def test_postgis_unique_id_and_append_only_audit(pg_store, taxonomy):
    import psycopg

    rec = make(taxonomy)
    pg_store.add(rec, user="a")
    conn = pg_store._conn()
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(_RAW_INSERT, (rec.id, "POINT(106.75 -6.15)", 4326))
    for stmt in ("UPDATE audit SET who = 'x'", "DELETE FROM audit", "TRUNCATE audit"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute(stmt)
    assert pg_store.audit_log()["who"].tolist() == ["a"]
    col = conn.execute("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'interventions' "
                       "AND f_table_schema = current_schema()").fetchone()
    assert col == ("GEOMETRY", 4326)


def test_geopackage_bulk_batch_keeps_index_count_and_triggers(tmp_path, boundaries, taxonomy):
    from geo_p4gn.store.geopackage import _BULK_ROWS

    path = tmp_path / "s.gpkg"
    n = _BULK_ROWS + 200
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        store.add(make(taxonomy), user="a")  # one row through the triggers first
        assert store.add_many([make(taxonomy, organisation=f"Org {i}") for i in range(n)], user="a").created == n
        store.add(make(taxonomy, lon=106.879149, lat=-6.108873), user="a")  # triggers are back
        assert store.check_integrity() == []
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    conn.close()
    assert {"rtree_interventions_geom_insert", "trigger_insert_feature_count_interventions"} <= names
    assert pyogrio.read_info(path, layer="interventions")["features"] == n + 2
    priok = gpd.read_file(path, layer="interventions", bbox=(106.87, -6.12, 106.89, -6.10))
    assert len(priok) == 1
    assert len(gpd.read_file(path, layer="interventions", bbox=(106.75, -6.16, 106.77, -6.14))) == n + 1


def test_geopackage_first_import_builds_the_unique_id_index_after_the_rows(tmp_path, boundaries, taxonomy):
    from geo_p4gn.store.geopackage import _BULK_ROWS, _register_functions

    path = tmp_path / "s.gpkg"
    recs = [make(taxonomy, organisation=f"Org {i}") for i in range(_BULK_ROWS + 5)]
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        assert store.add_many(recs, user="a").created == len(recs)  # the index is dropped and built again
        assert store.check_integrity() == []
    conn = sqlite3.connect(path)
    _register_functions(conn)  # what the GeoPackage triggers call, as GDAL provides them
    unique = conn.execute("SELECT \"unique\" FROM pragma_index_list('interventions') WHERE name = 'interventions_id'")
    assert unique.fetchone() == (1,)
    blob = conn.execute("SELECT geom FROM interventions LIMIT 1").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute("INSERT INTO interventions (geom, id, date, type_key, actor_key, organisation, kelurahan_code, "
                     "created_by, created_at, updated_by, updated_at, version, content_hash, created_hash) "
                     "SELECT geom, id, date, type_key, actor_key, organisation, kelurahan_code, created_by, "
                     "created_at, updated_by, updated_at, version, content_hash, created_hash FROM interventions "
                     "LIMIT 1")
    conn.close()
    assert blob[:4] == b"GP\x00\x03"


def test_point_blobs_laid_out_by_numpy_equal_the_general_encoding():
    from geo_p4gn.store.geopackage import decode, encode

    rng = np.random.default_rng(5)
    pts = shapely.points(rng.uniform(-180, 180, 50), rng.uniform(-90, 90, 50))
    tall = shapely.points(rng.uniform(106, 107, 5), rng.uniform(-6.5, -5, 5), rng.uniform(0, 50, 5))
    square = shapely.box(0, 0, 1, 1)  # one non-point: the whole batch takes the general path
    for batch in (pts, tall):
        fast = encode(batch)
        assert fast == encode(np.append(batch, square))[:-1]
        assert shapely.equals(decode(fast), shapely.force_2d(batch)).all()
