"""Unit tests use tiny fixtures they build themselves: the real boundaries and the shared stores are for
tests/integration (and tests/app, tests/e2e). Asking for one of them here fails with a pointer."""

from __future__ import annotations

import pytest


def _integration_only(name: str):
    @pytest.fixture(name=name)
    def refuse():
        pytest.fail(f"tests/unit must not use the {name!r} fixture (real data or a real store): "
                    "move the test to tests/integration, or build a tiny fixture in the test")

    return refuse


boundaries = _integration_only("boundaries")
pg_url = _integration_only("pg_url")
payload_store = _integration_only("payload_store")
