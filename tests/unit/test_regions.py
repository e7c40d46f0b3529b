"""geo_p4gn.regions: the Kemendagri code hierarchy, for one code and for a column of codes."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_p4gn import regions

KEL = "31.73.01.1004"  # shaped like a kelurahan code; the tests need no real boundaries
CODES = ["31.73.01.1004", "31.71.02.1001", "31.01.01.1001", "31.74.10.1005"]


def test_each_level_is_the_prefix_of_its_length():
    assert [regions.code_at(KEL, level) for level in regions.LEVELS] == ["31", "31.73", "31.73.01", KEL]
    assert [regions.level_of(regions.code_at(KEL, level)) for level in regions.LEVELS] == list(regions.LEVELS)
    assert regions.kota_code(KEL) == "31.73" and regions.kecamatan_code(KEL) == "31.73.01"
    assert regions.kota_code("31.73.01") == "31.73"  # a kecamatan has a kota too


def test_lengths_follow_the_dotted_format():
    for level, n in regions.CODE_LENGTH.items():
        assert len(regions.code_at(KEL, level)) == n
        assert regions.code_at(KEL, level) == ".".join(KEL.split(".")[:regions.LEVELS.index(level) + 1])


def test_codes_are_cut_not_checked():
    assert regions.kota_code("31.7") == "31.7"
    assert regions.level_of("31.7") is None and regions.level_of("") is None
    with pytest.raises(KeyError):
        regions.code_at(KEL, "desa")


def test_within_is_by_whole_parts_only():
    assert regions.within(KEL, "31.73") and regions.within(KEL, "31") and regions.within(KEL, KEL)
    assert not regions.within(KEL, "31.7")  # a prefix of characters is not a parent region
    assert not regions.within("31.73", KEL)


def test_the_series_versions_agree_with_the_scalar_ones():
    s = pd.Series(CODES + ["31.73", "x"])
    assert regions.kota_codes(s).tolist() == [regions.kota_code(c) for c in s]
    assert regions.kecamatan_codes(s).tolist() == [regions.kecamatan_code(c) for c in s]
    for level in regions.LEVELS:
        assert regions.codes_at(s, level).tolist() == [regions.code_at(c, level) for c in s]
    assert regions.levels_of(s).tolist() == [regions.level_of(c) for c in s]
    for area in ("31.73", "31.7", "31", KEL):
        assert regions.within_codes(s, area).tolist() == [regions.within(c, area) for c in s]


def test_missing_codes_stay_missing_in_a_column():
    s = pd.Series(["31.73.01.1004", None], dtype=object)
    out = regions.kota_codes(s)
    assert out.iloc[0] == "31.73" and pd.isna(out.iloc[1])
