"""Spreadsheet cells that stay text: the one home of the formula rule (CSV/XLSX injection).

A cell a spreadsheet would run as a formula starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return. Every file geo_p4gn writes for people to open (data exports, rejects files, the audit log's CSV,
the app's table downloads) passes its text through :func:`neutralise`; the importer takes the apostrophe
off again (:func:`unneutralise`), so a rejects file imports as it is.

Examples
--------
>>> neutralise("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> neutralise("-6.2", keep_numbers=True), neutralise("-6.2")
('-6.2', "'-6.2")
>>> unneutralise(neutralise("+62 812"))
'+62 812'
"""

from __future__ import annotations

import re
from typing import Any

#: What a spreadsheet runs as a formula when a cell starts with it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def neutralise(value: Any, *, keep_numbers: bool = False) -> Any:
    """Prefix ``'`` to a text a spreadsheet would run as a formula; other values are returned as they are.

    With ``keep_numbers`` a plain number such as ``-6.2`` or ``-6,2`` is left as it is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        if keep_numbers and _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def unneutralise(value: Any) -> Any:
    """The text before :func:`neutralise`: a leading ``'`` before a formula character is removed."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value
