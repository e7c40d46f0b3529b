"""geo_p4gn._json: the one JSON encoding hook; the store's content hashes and audit snapshots are unchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import orjson
import pandas as pd
import pytest
import shapely

from geo_p4gn import _json
from geo_p4gn.records import Intervention
from geo_p4gn.render.maps import to_js
from geo_p4gn.store import _logic

REC = Intervention(id="a", date=dt.date(2024, 5, 1), type_key="sosialisasi", actor_key="pemerintah",
                   organisation='BNNP DKI "Jakarta" é', geometry=shapely.Point(106.8272, -6.1754))
FULL = dataclasses.replace(REC, end_date=dt.date(2024, 5, 3), participants=40, site_id="s-1",
                           notes="catatan\nbaru")


def test_plain_values_from_pandas_and_numpy():
    value = {"i": np.int32(7), "f": np.float64(1.5), "b": np.bool_(False), "nan": np.float32("nan"),
             "inf": float("-inf"), "na": pd.NA, "nat": pd.NaT, "none": None, "d": dt.date(2024, 1, 2),
             "t": pd.Timestamp("2024-01-02 03:04:05"), "arr": np.array([1.0, np.nan]), "tup": ("x", np.int8(1)),
             1: "key"}
    assert _json.plain(value) == {"i": 7, "f": 1.5, "b": False, "nan": None, "inf": None, "na": None, "nat": None,
                                  "none": None, "d": "2024-01-02", "t": "2024-01-02T03:04:05",
                                  "arr": [1.0, None], "tup": ["x", 1], "1": "key"}
    assert _json.plain(value, days=True)["t"] == "2024-01-02"
    assert type(_json.plain(np.int64(3))) is int and type(_json.plain(np.float32(0.5))) is float


def test_the_hook_is_used_only_for_what_the_encoder_cannot_write():
    data = {"n": 1, "x": 0.1, "s": "teks", "l": [None, True]}
    assert json.dumps(data, default=_json.default) == json.dumps(data)
    assert orjson.dumps({"t": pd.Timestamp("2024-05-01")}, default=_json.default) == b'{"t":"2024-05-01T00:00:00"}'
    for bad in (object(), {1, 2}, b"bytes"):
        with pytest.raises(TypeError, match="is not JSON serializable"):
            json.dumps(bad, default=_json.default)


def test_maps_write_the_day_and_null_for_missing_values():
    assert to_js({"d": pd.Timestamp("2024-05-01 10:00"), "n": np.int64(2), "x": float("nan")}) == \
        '{"d":"2024-05-01","n":2,"x":null}'


def test_content_hashes_are_unchanged():
    # pinned: a changed hash would turn every retried import of stored records into a conflict
    assert REC.content_hash() == "cc01d195ba6481acc925752f653f8167c56a3ee3abd1478217eae66ab840a31e"
    assert FULL.content_hash() == "b67f6d6a1f4734a0922ec6dca60b4f0aef096348f5a1a6f3973c8d870ed12eec"


def test_audit_snapshots_are_unchanged():
    rows = _logic.record_rows([FULL], ["31.71.01.1001"])
    rows[0]["updated_at"] = pd.Timestamp("2024-05-02 10:00")
    rows[0]["version"] = np.int64(2)
    assert _logic.snapshots(rows) == [(
        '{"id":"a","date":"2024-05-01","end_date":"2024-05-03","type_key":"sosialisasi","actor_key":"pemerintah",'
        '"organisation":"BNNP DKI \\"Jakarta\\" é","site_id":"s-1","kelurahan_code":"31.71.01.1001",'
        '"participants":40,"notes":"catatan\\nbaru","created_by":null,"created_at":null,"updated_by":null,'
        '"updated_at":"2024-05-02T10:00:00","deleted":false,"version":2,"geometry":"POINT (106.8272 -6.1754)"}')]
