"""JSON for data that comes out of pandas and numpy: the one encoding hook of geo_p4gn.

:func:`plain` turns a value (walking mappings, lists, tuples and arrays) into what ``json`` writes
itself: numpy scalars become Python numbers, missing values (None, ``pd.NA``, ``NaT``, NaN and the
infinities) become None, dates and times ISO 8601 text. :func:`default` is the same rule as a ``default=``
hook for ``json.dumps`` and ``orjson.dumps``, called only for what the encoder cannot write itself, so
plain data is encoded exactly as without it (the store's content hashes rely on that).

``days=True`` writes dates and times as the day only (``YYYY-MM-DD``), as the maps show them.

>>> import json, numpy as np, pandas as pd, datetime as dt
>>> json.dumps({"n": np.int64(3), "x": np.float32(0.5), "ok": np.bool_(True), "when": dt.date(2024, 5, 1),
...             "t": pd.Timestamp("2024-05-01 07:30"), "gone": pd.NA, "v": np.array([1, 2])}, default=default)
'{"n": 3, "x": 0.5, "ok": true, "when": "2024-05-01", "t": "2024-05-01T07:30:00", "gone": null, "v": [1, 2]}'
>>> plain({"t": pd.Timestamp("2024-05-01 07:30"), "nan": float("nan"), "pair": (1, np.int8(2))}, days=True)
{'t': '2024-05-01', 'nan': None, 'pair': [1, 2]}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any, *, days: bool = False) -> Any:
    """``value`` as plain JSON-able data (see the module docstring); other objects are returned as they are.

    >>> plain([np.nan, np.inf, pd.NaT, None, "teks", 2])
    [None, None, None, None, 'teks', 2]
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v, days=days) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v, days=days) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if days else value.isoformat()
    return value


def default(value: Any, *, days: bool = False) -> Any:
    """A ``default=`` hook for ``json.dumps``/``orjson.dumps``: :func:`plain` of what they cannot write,
    TypeError for what it cannot make plain either.

    >>> default(object())
    Traceback (most recent call last):
    ...
    TypeError: object is not JSON serializable
    """
    out = plain(value, days=days)
    if out is value:
        msg = f"{type(value).__name__} is not JSON serializable"
        raise TypeError(msg)
    return out


def day_default(value: Any) -> Any:
    """:func:`default` with ``days=True`` (dates and times as ``YYYY-MM-DD``).

    >>> day_default(pd.Timestamp("2024-05-01 23:59"))
    '2024-05-01'
    """
    return default(value, days=True)
