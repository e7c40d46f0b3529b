"""Kept column codes (geo_p4gn.column_codes): reused, extended after new rows, never stale."""

import numpy as np
import pandas as pd

from geo_p4gn import column_codes


def _decode(codes, uniques):
    return [None if c < 0 else uniques[c] for c in codes.tolist()]


def test_same_column_is_reused_and_equal_copy_found():
    column_codes.clear()
    s = pd.Series(["a", "b", None, "a"], dtype="str", name="type_key")
    c1, u1 = column_codes.factorized(s)
    c2, u2 = column_codes.factorized(s.copy(deep=False))
    assert c2 is c1 and u2 is u1
    c3, _ = column_codes.factorized(pd.Series(["a", "b", None, "a"], dtype="str", name="type_key"))
    assert c3 is c1  # an equal column (a copy) is found by one comparison


def test_new_rows_extend_the_kept_codes():
    column_codes.clear()
    old = pd.Series(["a", "b", None, "a"], dtype="str", name="site_id")
    column_codes.factorized(old)
    new = pd.concat([old, pd.Series(["c", "a", None], dtype="str", name="site_id")], ignore_index=True)
    codes, uniques = column_codes.factorized(new)
    assert _decode(codes, uniques) == ["a", "b", None, "a", "c", "a", None]


def test_a_frame_changed_in_place_gets_new_codes():
    column_codes.clear()
    frame = pd.DataFrame({"type_key": pd.Series(["a", "b", "a"], dtype="str")})
    column_codes.factorized(frame["type_key"])
    frame.loc[1, "type_key"] = "a"
    codes, uniques = column_codes.factorized(frame["type_key"])
    assert _decode(codes, uniques) == ["a", "a", "a"]
    frame["type_key"] = pd.Series(["z", "b", "a"], dtype="str")
    codes, uniques = column_codes.factorized(frame["type_key"])
    assert _decode(codes, uniques) == ["z", "b", "a"]


def test_object_columns_and_masks():
    s = pd.Series(["x", None, "y"], dtype=object)
    assert column_codes.value_mask(s, lambda u: u.isin(["y"])).tolist() == [False, False, True]
    assert column_codes.value_mask(s, lambda u: u.isna()).tolist() == [False, True, False]
    assert column_codes.positions(s, ["y", "x"]).tolist() == [1, -1, 0]
    assert column_codes.positions(pd.Series([], dtype="str"), ["a"]).dtype == np.int64
