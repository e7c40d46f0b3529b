"""Issue 13, duplicates across reporters: the possible-duplicate rule, exact pairs."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo_p4gn.duplicates import COLUMNS, name_similarity, possible_duplicates

D = dt.date
K1, K2 = "31.73.01.1004", "31.73.01.1005"


def _records() -> pd.DataFrame:
    def rec(rid, day, org, type_key="deklarasi", site="kampung-ambon", kel=K1, end=None, deleted=False):
        return {"id": rid, "date": day, "end_date": end, "type_key": type_key, "site_id": site,
                "kelurahan_code": kel, "organisation": org, "deleted": deleted}

    rows = [
        rec("r01", D(2024, 8, 17), "BNNK Jakarta Barat"),
        rec("r02", D(2024, 8, 18), "BNNK Jakbar"),                        # 1 day later, similar name: flagged
        rec("r03", D(2024, 8, 17), "Universitas Indonesia"),              # other organisation: not
        rec("r04", D(2024, 8, 17), "BNNK Jakarta Barat", type_key="seni_budaya"),  # other type: not
        rec("r05", D(2024, 8, 25), "BNNK Jakarta Barat"),                 # 8 days after r01: not
        rec("r06", D(2024, 8, 16), "bnnk jakarta barat", site=None),      # no site, same kelurahan: flagged
        rec("r07", D(2024, 8, 17), "BNNK Jakarta Barat", site="kampung-lain"),  # another site: not with r01
        rec("r08", D(2024, 8, 10), "Karang Taruna RW 07", end=D(2024, 8, 20)),
        rec("r09", D(2024, 8, 19), "Karang Taruna RW.07"),                # inside r08's days: flagged
        rec("r10", D(2024, 8, 17), "BNNK Jakarta Barat", kel=K2, site=None),  # another kelurahan: not
        rec("r11", D(2024, 8, 17), "BNNK Jakarta Barat", deleted=True),   # deleted: never
    ]
    return pd.DataFrame(rows)


def test_the_rule():
    t = possible_duplicates(_records(), days=3, similarity=0.6)
    assert tuple(t.columns) == COLUMNS
    assert t[["record_a", "record_b", "place_level", "place", "days_apart", "similarity"]].values.tolist() == [
        # sorted by place, type, first day, ids; r06 has no site, so it pairs by kelurahan (with r07 too)
        ["r01", "r06", "kelurahan", K1, 1, 1.0],
        ["r02", "r06", "kelurahan", K1, 2, 0.759],
        ["r06", "r07", "kelurahan", K1, 1, 1.0],
        ["r08", "r09", "site", "kampung-ambon", 0, 1.0],
        ["r01", "r02", "site", "kampung-ambon", 1, 0.759],
    ]


def test_tunable():
    assert len(possible_duplicates(_records(), days=0, similarity=0.6)) == 1  # only r08/r09 overlap
    wide = possible_duplicates(_records(), days=10, similarity=0.99)
    assert ("r01", "r05") in set(zip(wide["record_a"], wide["record_b"]))
    assert possible_duplicates(_records().iloc[:0], days=3, similarity=0.6).columns.tolist() == list(COLUMNS)


def test_name_similarity():
    assert name_similarity("Karang Taruna RW 07", "karang taruna rw.07") == 1.0
    assert name_similarity("Kelurahan Kapuk", "Kapuk") == 1.0  # the shorter name's words are all in the other
    assert name_similarity("", "BNNK") == 0.0
