"""Possible duplicates across reporters: the same event reported by BNNK, the kelurahan and a partner.

The rule (tunable in :mod:`geo_p4gn.settings`): two records are a possible duplicate when they

- have the same intervention type;
- are at the same site, or, when either has no site, in the same kelurahan;
- have overlapping days, or at most ``days`` days between them (``GEO_P4GN_DUPLICATE_DAYS``, default 3);
- come from organisations whose names are at least ``similarity`` alike (``GEO_P4GN_DUPLICATE_SIMILARITY``,
  default 0.6): the larger of the character similarity (:class:`difflib.SequenceMatcher`) and the share of
  the shorter name's words found in the other, compared without case, accents or punctuation. The same
  name is 1.

Soft-deleted records are never flagged. A pure function over the records frame (``Store.list()``).

>>> import datetime as dt
>>> recs = pd.DataFrame({"id": ["a", "b"], "date": [dt.date(2024, 8, 17), dt.date(2024, 8, 18)],
...     "end_date": [None, None], "type_key": ["deklarasi"] * 2, "site_id": ["kampung-ambon"] * 2,
...     "kelurahan_code": ["31.73.01.1004"] * 2, "organisation": ["BNNK Jakarta Barat", "BNNK Jakbar"],
...     "deleted": [False, False]})
>>> possible_duplicates(recs, days=3, similarity=0.6)[["record_a", "record_b", "days_apart", "place"]].values.tolist()
[['a', 'b', 1, 'kampung-ambon']]
"""

from __future__ import annotations

import difflib
import re
import unicodedata

import numpy as np
import pandas as pd

from . import settings

#: Columns of :func:`possible_duplicates`, in order.
COLUMNS = ("record_a", "record_b", "type_key", "place_level", "place", "kelurahan_code", "date_a", "date_b",
           "days_apart", "organisation_a", "organisation_b", "similarity")


def _norm(name) -> str:
    text = unicodedata.normalize("NFKD", str(name or ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def name_similarity(a, b) -> float:
    """How alike two organisation names are, 0 to 1 (see the module docstring).

    >>> name_similarity("Karang Taruna RW 07", "karang taruna rw.07"), name_similarity("BNNK", "Universitas Indonesia")
    (1.0, 0.16)
    """
    x, y = _norm(a), _norm(b)
    if not x or not y:
        return 0.0
    if x == y or x.replace(" ", "") == y.replace(" ", ""):
        return 1.0
    chars = difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()
    wx, wy = set(x.split()), set(y.split())
    words = len(wx & wy) / min(len(wx), len(wy))
    return round(max(chars, words), 3)


def _site(value) -> str | None:
    return value if isinstance(value, str) and value else None


def possible_duplicates(records: pd.DataFrame, *, days: int | None = None,
                        similarity: float | None = None) -> pd.DataFrame:
    """Pairs of records that may report the same event, by the rule of the module docstring.

    One row per pair (``record_a`` < ``record_b`` by id), sorted by place, type, first date and ids:
    :data:`COLUMNS`. ``place_level`` is ``site`` or ``kelurahan``; ``days_apart`` is 0 when the days overlap.
    """
    days = settings.duplicate_days if days is None else days
    similarity = settings.duplicate_similarity if similarity is None else similarity
    keep = ~records["deleted"].fillna(False).astype(bool).to_numpy() if "deleted" in records else \
        np.ones(len(records), dtype=bool)
    r = records.loc[keep, ["id", "date", "end_date", "type_key", "site_id", "kelurahan_code", "organisation"]]
    start = pd.to_datetime(r["date"]).to_numpy(dtype="datetime64[D]").view("int64")
    end = pd.to_datetime(r["end_date"]).to_numpy(dtype="datetime64[D]").view("int64")
    nat = np.iinfo(np.int64).min
    end = np.where(end == nat, start, end)
    rows = list(zip(r["id"], start, end, r["type_key"], r["site_id"], r["kelurahan_code"], r["organisation"],
                    strict=True))
    groups: dict[tuple, list[int]] = {}
    for i, row in enumerate(rows):
        if isinstance(row[5], str) and row[5]:
            groups.setdefault((row[3], row[5]), []).append(i)  # same type and kelurahan; sites checked below
    out = []
    for members in groups.values():
        members.sort(key=lambda i: (rows[i][1], rows[i][0]))
        for n, i in enumerate(members):
            ri = rows[i]
            for j in members[n + 1:]:
                rj = rows[j]
                if rj[1] - ri[2] > days:
                    break  # sorted by first day: no later one is near enough
                gap = max(0, int(rj[1] - ri[2]), int(ri[1] - rj[2]))
                if gap > days:
                    continue
                si, sj = _site(ri[4]), _site(rj[4])
                if si and sj and si != sj:
                    continue
                sim = name_similarity(ri[6], rj[6])
                if sim < similarity:
                    continue
                a, b = (ri, rj) if ri[0] < rj[0] else (rj, ri)
                level, place = ("site", si) if si and sj else ("kelurahan", ri[5])
                out.append((a[0], b[0], ri[3], level, place, ri[5],
                            np.datetime64(int(a[1]), "D").item(), np.datetime64(int(b[1]), "D").item(), gap,
                            a[6], b[6], sim))
    frame = pd.DataFrame(out, columns=list(COLUMNS))
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    frame["days_apart"] = frame["days_apart"].astype(np.int64)
    order = frame.assign(_first=frame[["date_a", "date_b"]].min(axis=1))
    order = order.sort_values(["place", "type_key", "_first", "record_a", "record_b"], kind="stable")
    return frame.loc[order.index].reset_index(drop=True)


# -- review decisions (stored by geo_p4gn.store._reviews) -----------------------------------------------
#: Columns :func:`with_reviews` adds to the pairs.
REVIEW_COLUMNS = ("decision", "duplicate_id")


def confirmed_ids(reviews: pd.DataFrame) -> frozenset[str]:
    """The records confirmed as a duplicate of another (``decision == "duplicate"``) in ``reviews``
    (``Store.duplicate_reviews()``)."""
    if reviews is None or not len(reviews):
        return frozenset()
    return frozenset(reviews.loc[reviews["decision"] == "duplicate", "record_id"].astype(str))


def without_confirmed(records: pd.DataFrame, confirmed) -> pd.DataFrame:
    """``records`` without the confirmed duplicates (ids in ``confirmed``): what every coverage figure
    counts. The frame itself when there are none (no copy); else a new frame with a fresh index.

    >>> recs = pd.DataFrame({"id": ["a", "b", "c"]})
    >>> without_confirmed(recs, {"b"})["id"].tolist()
    ['a', 'c']
    """
    if not confirmed or not len(records):
        return records
    keep = ~records["id"].isin(list(confirmed)).to_numpy(dtype=bool)
    if keep.all():
        return records
    return records[keep].reset_index(drop=True)


def with_reviews(pairs: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """The pairs of :func:`possible_duplicates` with the review decision on each: ``decision`` is
    ``pending`` (none yet), ``distinct`` (keep both) or ``duplicate``; ``duplicate_id`` is the record
    marked as the duplicate (empty otherwise). Columns: :data:`COLUMNS` then :data:`REVIEW_COLUMNS`."""
    out = pairs.copy()
    decided: dict[frozenset, tuple[str, str | None]] = {}
    for r in (reviews.itertuples(index=False) if reviews is not None else ()):
        decided[frozenset((r.record_id, r.other_id))] = (
            r.decision, r.record_id if r.decision == "duplicate" else None)
    found = [decided.get(frozenset((a, b)), ("pending", None)) for a, b in zip(out["record_a"], out["record_b"],
                                                                              strict=True)]
    out["decision"] = pd.Series([f[0] for f in found], index=out.index, dtype=object)
    out["duplicate_id"] = pd.Series([f[1] for f in found], index=out.index, dtype=object)
    return out
