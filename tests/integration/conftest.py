"""Store fixtures: every contract test runs on the GeoPackage store and on a real PostGIS."""

from __future__ import annotations

import uuid

import pytest


def pg_schema_url(pg_url: str) -> str:
    """A fresh schema in the test database, as a URL whose search_path points at it."""
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options=-csearch_path%3D{schema},public"


@pytest.fixture(params=["gpkg", "postgis"])
def store_url(request, tmp_path):
    if request.param == "gpkg":
        return str(tmp_path / "store.gpkg")
    return pg_schema_url(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url, boundaries, taxonomy):
    from geo_p4gn.store import open_store

    s = open_store(store_url, boundaries=boundaries, taxonomy=taxonomy)
    yield s
    s.close()
