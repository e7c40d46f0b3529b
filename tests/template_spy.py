"""Record every template Jinja2 compiles, to prove that no user string ever becomes template source."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

import jinja2

from tests.payloads import PAYLOADS

#: A token no renderer writes by itself: planted in every user string of a test, it must never appear in
#: a compiled template source (only in data: JSON values, escaped text).
MARK = "Zq9mark"
#: Planted in notes, which none of the renderers under test shows.
PAYLOAD_NOTE = "NOTE-7f3e"
#: Every payload with the marker (and a number, so each is unique).
MARKED = tuple(f"{p} {MARK}{i}" for i, p in enumerate(PAYLOADS))


@contextlib.contextmanager
def compiled_sources() -> Iterator[list[str]]:
    """Every template source (a string) compiled while the block runs, by any Jinja2 environment."""
    sources: list[str] = []
    original = jinja2.Environment.compile

    def spy(self, source, *args, **kwargs):
        if isinstance(source, str):
            sources.append(source)
        return original(self, source, *args, **kwargs)

    with mock.patch.object(jinja2.Environment, "compile", spy):
        yield sources


def tainted(sources: list[str], mark: str = MARK) -> list[str]:
    """The compiled sources holding ``mark`` (each cut to 200 characters around it, for the message)."""
    out = []
    for src in sources:
        i = src.find(mark)
        if i >= 0:
            out.append(src[max(0, i - 100): i + 100])
    return out
