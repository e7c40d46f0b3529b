"""The error hierarchy: a missing record is no KeyError, a refusal is no OSError."""

from __future__ import annotations

import pytest

from geo_p4gn import NotFoundError, P4gnError, PermissionDenied
from geo_p4gn._files import atomic_write


def test_not_found_prints_its_message_as_it_is():
    exc = NotFoundError("no intervention with id abc")
    assert str(exc) == "no intervention with id abc"  # a KeyError would print "'no intervention ...'"
    assert isinstance(exc, P4gnError | ValueError) and not isinstance(exc, KeyError | LookupError)


def test_a_refusal_is_not_swallowed_by_an_except_oserror(tmp_path):
    assert not isinstance(PermissionDenied("x"), OSError)

    def write_as_refused():
        try:
            atomic_write(tmp_path / "out.txt", "x")
            raise PermissionDenied("perencana may not export the internal version")
        except OSError:  # a full disk: the caller turns it into a message; never a refusal
            return "swallowed"

    with pytest.raises(PermissionDenied, match="may not export"):
        write_as_refused()
