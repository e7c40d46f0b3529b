"""A batch given as columns (records.RecordColumns, as the importer makes it) is stored as the same records would
be, on both backends, across the store's write chunks: same rows, same hashes, one audit entry per create, one
transaction, a sound GeoPackage."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import numpy as np
import pytest
import shapely

from geo_p4gn._errors import ConflictError
from geo_p4gn.records import GeometryColumn, Intervention, RecordColumns, content_hashes
from geo_p4gn.store import _logic

KEDAUNG = (106.760338, -6.151539)
POLY = shapely.Polygon([(106.7600, -6.1518), (106.7606, -6.1518), (106.7606, -6.1512), (106.7600, -6.1512)])


def _batch(n: int) -> RecordColumns:
    """``n`` records over more than one write chunk: points as coordinates, a polygon now and then."""
    rng = np.random.default_rng(3)
    lon = KEDAUNG[0] + rng.uniform(-1e-5, 1e-5, n)
    lat = KEDAUNG[1] + rng.uniform(-1e-5, 1e-5, n)
    shapes = np.full(n, None, dtype=object)
    shapes[::997] = POLY
    days = np.array([dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 30, n)], dtype=object)
    obj = lambda v: np.array(v, dtype=object)  # noqa: E731
    return RecordColumns({
        "id": obj([str(uuid.UUID(int=i + 1, version=4)) for i in range(n)]), "date": days,
        "end_date": obj([None] * n), "type_key": obj(["deklarasi"] * n), "actor_key": obj(["komunitas"] * n),
        "organisation": obj([f"RW {i % 13:02d}" for i in range(n)]), "site_id": obj([None] * n),
        "participants": obj([int(p) for p in rng.integers(1, 90, n)]), "notes": obj(["" if i % 3 else "rutin"
                                                                                     for i in range(n)]),
        "geometry": GeometryColumn(lon, lat, shapes),
    })


def test_a_batch_of_columns_is_stored_as_its_records(store):
    n = 2 * _logic.ROW_CHUNK + 7
    batch = _batch(n)
    assert store.add_many(batch, user="bulk").created == n
    frame = store.list()
    assert frame["id"].tolist() == batch.ids.tolist()
    stored = [store.get(batch.ids[i]) for i in (0, 997, _logic.ROW_CHUNK, n - 1)]
    for got, i in zip(stored, (0, 997, _logic.ROW_CHUNK, n - 1), strict=True):
        want = batch[i]
        assert got.content_hash() == want.content_hash()
        assert (got.kelurahan_code, got.created_by, got.version) == ("31.73.01.1004", "bulk", 1)
    assert stored[1].geometry.geom_type == "Polygon"
    log = store.audit_log(entity="intervention")
    assert len(log) == n and set(log["action"]) == {"create"}
    assert store.add_many(batch, user="bulk").unchanged == n  # the same batch again: nothing new
    if hasattr(store, "check_integrity"):
        assert store.check_integrity() == []


def test_a_conflict_in_a_batch_of_columns_stores_none_of_it(store):
    first = _batch(3)
    store.add_many(first, user="a")
    clash = dataclasses.replace(first[1], organisation="other")
    rest = _batch(_logic.ROW_CHUNK + 5).take(np.arange(3, _logic.ROW_CHUNK + 5))
    mixed = RecordColumns.from_records([*rest, clash])
    with pytest.raises(ConflictError):
        store.add_many(mixed, user="b")
    assert len(store.list()) == 3
    assert content_hashes(list(first)) == [store.get(i).content_hash() for i in first.ids]
    assert isinstance(first[0], Intervention)
