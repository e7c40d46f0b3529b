"""``--site`` combined with ``--kota`` / ``--kecamatan`` / ``--kelurahan`` (issue 10, section 4).

It used to crash coverage and gaps with ``ValueError: output array is read-only``: the area mask was a
read-only view of a pandas column that the site filter then narrowed in place. The areas combine by the
rule of issue 13 (a finer choice narrows a coarser one, different branches add up: test_filter_rule.py)
and are AND-ed with every other filter.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo_p4gn import coverage as cov
from geo_p4gn.filters import Filters
from geo_p4gn.records import FIELDS
from geo_p4gn.sites import SITE_FIELDS

D = dt.date
K1, K2, K3, K4 = "31.73.01.1004", "31.73.01.1005", "31.73.07.1006", "31.72.02.1001"
S1, S2, S3 = "kampung-ambon", "kampung-boncos", "kampung-bahari"
WINDOW = {"date_from": D(2024, 1, 1), "date_to": D(2024, 12, 31)}


def _areas() -> pd.DataFrame:
    rows = [
        (K1, "Kedaung Kali Angke", "31.73.01", "Cengkareng", "31.73", "Kota Administrasi Jakarta Barat"),
        (K2, "Kapuk", "31.73.01", "Cengkareng", "31.73", "Kota Administrasi Jakarta Barat"),
        (K3, "Kota Bambu Selatan", "31.73.07", "Pal Merah", "31.73", "Kota Administrasi Jakarta Barat"),
        (K4, "Tanjung Priok", "31.72.02", "Tanjung Priok", "31.72", "Kota Administrasi Jakarta Utara"),
    ]
    return pd.DataFrame(rows, columns=["code", "name", "kecamatan_code", "kecamatan_name", "kota_code",
                                       "kota_name"])


def _sites() -> pd.DataFrame:
    rows = [(S1, "Kampung Ambon", K1, "bahaya"), (S2, "Kampung Boncos", K3, "waspada"),
            (S3, "Kampung Bahari", K4, None)]
    df = pd.DataFrame(rows, columns=["id", "name", "kelurahan_code", "ikrn"])
    df["aliases"] = [[] for _ in rows]
    df["approximate"] = True
    df["sources"] = [[] for _ in rows]
    df["geometry"] = None
    return df[list(SITE_FIELDS)]


def _records() -> pd.DataFrame:
    def rec(rid, site, kel, day):
        return {"id": rid, "date": day, "end_date": None, "type_key": "deklarasi", "actor_key": "komunitas",
                "organisation": "Karang Taruna", "site_id": site, "kelurahan_code": kel, "participants": 10,
                "notes": "", "created_by": "t", "created_at": "2025-01-01T00:00:00Z", "updated_by": None,
                "updated_at": None, "deleted": False, "version": 1, "geometry": None}

    rows = [rec("r1", S1, K1, D(2024, 3, 1)), rec("r2", S2, K3, D(2024, 4, 1)), rec("r3", S3, K4, D(2024, 5, 1)),
            rec("r4", None, K2, D(2024, 6, 1)), rec("r5", None, None, D(2024, 7, 1))]
    return pd.DataFrame(rows, columns=list(FIELDS))


COMBINED = [
    # (filters, records kept, target sites kept)
    (Filters(sites=(S1,), kota=("31.73",)), ["r1"], [S1]),
    (Filters(sites=(S1, S3), kota=("31.73",)), ["r1"], [S1]),
    (Filters(sites=(S1, S2), kelurahan=(K1,)), ["r1"], [S1]),
    (Filters(sites=(S2,), kecamatan=("31.73.07",)), ["r2"], [S2]),
    (Filters(sites=(S1, S3), kota=("31.72",), kelurahan=(K1,)), ["r1", "r3"], [S1, S3]),  # different branches add up
    (Filters(sites=(S2,), kelurahan=(K1,)), [], []),
]


@pytest.mark.parametrize(("filters", "records", "sites"), COMBINED)
def test_record_mask_site_and_area(filters, records, sites):
    frame = _records()
    assert frame.loc[filters.record_mask(frame, _sites()), "id"].tolist() == records


@pytest.mark.parametrize(("filters", "records", "sites"), COMBINED)
def test_coverage_and_gaps_with_site_and_area(taxonomy, filters, records, sites):
    f = Filters(**WINDOW, sites=filters.sites, kota=filters.kota, kecamatan=filters.kecamatan,
                kelurahan=filters.kelurahan)
    table = cov.coverage_table(_records(), _sites(), _areas(), taxonomy, "site", f, as_of=D(2025, 1, 31))
    assert sorted(table["code"]) == sites
    assert int(table["interventions"].sum()) == len(records)
    for level in cov.LEVELS:  # every level runs, none crashes
        cov.coverage_table(_records(), _sites(), _areas(), taxonomy, level, f, as_of=D(2025, 1, 31))
    gaps = cov.gap_list(_records(), _sites(), _areas(), taxonomy, f, levels=("site", "kelurahan"),
                        as_of=D(2025, 1, 31))
    assert set(gaps.loc[gaps["level"] == "site", "code"]) <= set(sites)


def test_area_mask_is_a_fresh_writable_array():
    codes = pd.Series([K1, K3, K4, None], dtype=object)
    for f in (Filters(), Filters(kota=("31.73",)), Filters(kecamatan=("31.73.01",), kelurahan=(K4,))):
        mask = f.area_mask(codes)
        assert isinstance(mask, np.ndarray) and mask.dtype == bool and mask.flags.writeable
    assert Filters().area_mask(codes).tolist() == [True, True, True, True]
    assert Filters(kota=("31.73",)).area_mask(codes).tolist() == [True, True, False, False]
    assert Filters(kecamatan=("31.73.01",), kelurahan=(K4,)).area_mask(codes).tolist() == [True, False, True, False]
    # the string dtype the store's frames may carry gives the same answer
    assert Filters(kota=("31.73",)).area_mask(codes.astype("string")).tolist() == [True, True, False, False]
