"""Key columns of a records frame as integer codes, computed once per column and reused (issue 16).

Every filter mask, coverage table, matrix and timeline looks at the same few text columns of the records
(``type_key``, ``actor_key``, ``kelurahan_code``, ``site_id``, ``organisation``). Comparing a million strings on
every filter change costs most of the page's time; comparing a few hundred distinct values and taking the
answer by code costs milliseconds. :func:`factorized` gives a column's ``(codes, uniques)`` (code -1: missing)
and keeps it for the next call:

- **Reuse.** The same column again (a filter change on the same frame, or a shallow copy of it) is found by
  identity; a column whose values equal an earlier one (a copy) by one vectorised comparison.
- **After a write.** A column whose first values are an earlier column's (the store's frame after new
  records: the old rows, then the new ones) is encoded by its new rows only, and the earlier codes kept.
- **Never stale.** Only Arrow-backed columns are kept (pandas' ``str`` columns read from a store): their
  buffers are immutable, so a kept column is the values its codes were made from; a frame changed in place
  gets new Arrow arrays, so it never matches an entry made before the change. Other columns (object arrays
  of a hand-built frame) are encoded at every call.

A few columns are kept per name (:data:`KEEP`): the app serves at most two versions of the records, each
possibly narrowed to a user's scope. The cache holds the Arrow arrays it was made from, so it keeps no frame
alive beyond those columns.

>>> s = pd.Series(["a", None, "b", "a"], dtype="str")
>>> codes, uniques = factorized(s)
>>> codes.tolist(), list(uniques)
([0, -1, 1, 0], ['a', 'b'])
>>> value_mask(s, lambda u: u.isin(["a"])).tolist()
[True, False, False, True]
>>> positions(s, ["b", "a"]).tolist()
[1, -1, 0, 1]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

#: How many encoded columns are kept per column name.
KEEP = 4
_lock = threading.Lock()
_kept: dict[str, list[tuple]] = {}  # name -> [(chunked array, codes, uniques)], most recent first


def _arrow(values) -> object | None:
    """The immutable pyarrow ChunkedArray behind an Arrow-backed pandas column, else None."""
    array = getattr(values, "array", values)
    if not hasattr(array, "_pa_array"):
        return None
    try:
        return array.__arrow_array__()
    except (TypeError, ValueError):  # pragma: no cover - an Arrow array that will not export
        return None


def _encode_arrow(chunked) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(chunked) == 0:
        return np.zeros(0, dtype=np.int32), np.array([], dtype=object)
    one = chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
    enc = pc.dictionary_encode(one)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return codes, np.asarray(enc.dictionary.to_pylist(), dtype=object)


def _extend(old_codes: np.ndarray, old_uniques: np.ndarray, tail) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``old rows + tail`` from the old rows' codes and the tail's own encoding."""
    t_codes, t_uniques = _encode_arrow(tail)
    where = pd.Index(old_uniques, dtype=object).get_indexer(t_uniques)
    new = where < 0
    uniques = old_uniques
    if new.any():
        where[new] = len(old_uniques) + np.arange(int(new.sum()))
        uniques = np.concatenate([old_uniques, t_uniques[new]])
    mapped = np.append(where, -1).astype(np.int32)[t_codes]
    return np.concatenate([old_codes, mapped]), uniques


def _uncached(values) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(np.asarray(values, dtype=object) if not isinstance(values, pd.Series)
                                  else values.astype(object))
    return codes.astype(np.int32, copy=False), np.asarray(uniques, dtype=object)


def factorized(values, name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of a text column: int32 codes into the object array ``uniques`` (first-seen order),
    -1 for a missing value. Shared: treat both arrays as read-only."""
    chunked = _arrow(values)
    if chunked is None:
        return _uncached(values)
    key = name if name is not None else str(getattr(values, "name", ""))
    n = len(chunked)
    with _lock:
        entries = list(_kept.get(key, ()))
    hit = None
    for entry in entries:  # identity first: free
        if entry[0] is chunked:
            hit = entry
            break
    if hit is None:
        for entry in entries:
            m = len(entry[0])
            if m == n and entry[0].equals(chunked):
                hit = (chunked, entry[1], entry[2])
                break
            if 0 < m < n and chunked.slice(0, m).equals(entry[0]):
                codes, uniques = _extend(entry[1], entry[2], chunked.slice(m))
                hit = (chunked, codes, uniques)
                break
    if hit is None:
        codes, uniques = _encode_arrow(chunked)
        hit = (chunked, codes, uniques)
    with _lock:
        rest = [e for e in _kept.get(key, ()) if e[0] is not hit[0]]
        _kept[key] = [hit, *rest][:KEEP]
    return hit[1], hit[2]


def value_mask(values, predicate: Callable[[pd.Series], object]) -> np.ndarray:
    """``predicate`` evaluated on the column's distinct values (an object Series, with a last ``None`` standing
    for the missing ones) and spread to every row: a new writable bool array."""
    codes, uniques = factorized(values)
    answer = np.asarray(predicate(pd.Series([*uniques, None], dtype=object)), dtype=bool)
    return answer[codes]  # code -1 takes the last answer: the one for None


def positions(values, vocabulary: Sequence) -> np.ndarray:
    """Position of each value in ``vocabulary`` (-1 when missing or not in it), as int64."""
    codes, uniques = factorized(values)
    lookup = pd.Index(vocabulary, dtype=object).get_indexer(uniques)
    return np.append(lookup, -1).astype(np.int64)[codes]


def clear() -> None:
    """Forget every kept column (tests; memory)."""
    with _lock:
        _kept.clear()
