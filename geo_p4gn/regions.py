"""The Kemendagri code hierarchy: a region's code starts with the code of every region it lies in.

========== ====================== ======
level      example                length
========== ====================== ======
province   ``31``                 2
kota       ``31.73``              5
kecamatan  ``31.73.01``           8
kelurahan  ``31.73.01.1004``      13
========== ====================== ======

So the kota of a kelurahan is the first 5 characters of its code and its kecamatan the first 8. These
functions are the one place that knows it. They cut strings and never check them (a code too short for
the level comes back unchanged, as slicing does); :mod:`geo_p4gn.boundaries` checks codes against the
official list.

>>> kota_code("31.73.01.1004"), kecamatan_code("31.73.01.1004"), level_of("31.73.01")
('31.73', '31.73.01', 'kecamatan')
"""

from __future__ import annotations

import pandas as pd

#: The levels, from the largest region to the smallest.
LEVELS = ("province", "kota", "kecamatan", "kelurahan")
#: The length of a code at each level.
CODE_LENGTH = {"province": 2, "kota": 5, "kecamatan": 8, "kelurahan": 13}
_LEVEL_OF_LENGTH = {n: level for level, n in CODE_LENGTH.items()}


def code_at(code: str, level: str) -> str:
    """The code of the region of ``level`` that ``code`` lies in (``code`` itself at its own level).

    >>> code_at("31.73.01.1004", "kota")
    '31.73'
    >>> code_at("31.73.01.1004", "kelurahan")
    '31.73.01.1004'
    >>> code_at("31.73", "kelurahan")  # never lengthened
    '31.73'
    >>> code_at("31.73", "desa")
    Traceback (most recent call last):
    ...
    KeyError: 'desa'
    """
    return code[:CODE_LENGTH[level]]


def kota_code(code: str) -> str:
    """The kota (kota/kabupaten administrasi) a kecamatan or kelurahan code lies in.

    >>> kota_code("31.01.01.1001")
    '31.01'
    """
    return code_at(code, "kota")


def kecamatan_code(code: str) -> str:
    """The kecamatan a kelurahan code lies in.

    >>> kecamatan_code("31.74.09.1002")
    '31.74.09'
    """
    return code_at(code, "kecamatan")


def level_of(code: str) -> str | None:
    """The level of a code, told by its length; None for a length no level has.

    >>> [level_of(c) for c in ("31", "31.73", "31.73.01", "31.73.01.1004", "31.7", "")]
    ['province', 'kota', 'kecamatan', 'kelurahan', None, None]
    """
    return _LEVEL_OF_LENGTH.get(len(code))


def within(code: str, area: str) -> bool:
    """Whether the region ``code`` is ``area`` or lies in it (``area`` of any level).

    >>> within("31.73.01.1004", "31.73"), within("31.73.01.1004", "31.7"), within("31.73", "31.73")
    (True, False, True)
    """
    return code == area or code.startswith(area + ".")


# -- the same for a column of codes (pandas) ---------------------------------------------------------------
def codes_at(codes: pd.Series, level: str) -> pd.Series:
    """:func:`code_at` for every code of a Series of strings (missing values stay missing).

    >>> codes_at(pd.Series(["31.73.01.1004", "31.71.02.1001"]), "kecamatan").tolist()
    ['31.73.01', '31.71.02']
    """
    return codes.str[:CODE_LENGTH[level]]


def kota_codes(codes: pd.Series) -> pd.Series:
    """:func:`kota_code` for a Series of codes.

    >>> kota_codes(pd.Series(["31.73.01.1004", "31.01.01.1001"])).tolist()
    ['31.73', '31.01']
    """
    return codes_at(codes, "kota")


def kecamatan_codes(codes: pd.Series) -> pd.Series:
    """:func:`kecamatan_code` for a Series of codes.

    >>> kecamatan_codes(pd.Series(["31.73.01.1004"])).tolist()
    ['31.73.01']
    """
    return codes_at(codes, "kecamatan")


def within_codes(codes: pd.Series, area: str) -> pd.Series:
    """:func:`within` for a Series of code strings.

    >>> within_codes(pd.Series(["31.73.01.1004", "31.71.02.1001", "31.73"]), "31.73").tolist()
    [True, False, True]
    """
    return (codes == area) | codes.str.startswith(area + ".")


def levels_of(codes: pd.Series) -> pd.Series:
    """:func:`level_of` for a Series of codes (None where the length is no level's).

    >>> levels_of(pd.Series(["31.73", "31.73.01.1004", "x"])).tolist()
    ['kota', 'kelurahan', None]
    """
    return codes.astype(str).str.len().map(_LEVEL_OF_LENGTH).astype(object).where(
        lambda s: s.notna(), None)
