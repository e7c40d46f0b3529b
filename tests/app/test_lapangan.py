"""The Perangkat lapangan page: a capture link with a new token, ODK Collect's settings QR, revoking."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from geo_p4gn import identity
from geo_p4gn.services import tokens
from geo_p4gn_app.collect import collect_settings
from tests.app.conftest import open_app


@pytest.fixture
def tokens_path(tmp_path, monkeypatch):
    path = tmp_path / "tokens.json"
    monkeypatch.setattr(tokens, "tokens_path", path)
    return path


def test_link_and_qr_issue_tokens_that_can_be_revoked(app_env, tokens_path):
    at = open_app("lapangan")
    at.button(key="lap_link").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert [i.user for i in tokens.list_tokens(identity.SINGLE_USER)] == ["pengguna-lokal"]
    at.checkbox(key="lap_with_token").check().run()
    at.button(key="lap_qr").click().run()
    assert not at.exception
    assert len(tokens.list_tokens(identity.SINGLE_USER)) == 2
    table = at.dataframe[0].value
    assert list(table.columns) == ["Token", "Pengguna", "Dibuat (WIB)", "Berlaku sampai (WIB)", "Dibuat oleh",
                                   "Keterangan"]
    assert table["Berlaku sampai (WIB)"].str.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d WIB").all()
    at.button(key="lap_revoke_user").click().run()
    assert not at.exception
    assert tokens.list_tokens(identity.SINGLE_USER) == []


def test_collect_settings_payload_is_collects_format():
    payload = collect_settings("https://p4gn.example/openrosa", "ani", "gp4_x")
    doc = json.loads(zlib.decompress(base64.b64decode(payload)))
    assert doc["general"]["server_url"] == "https://p4gn.example/openrosa"
    assert (doc["general"]["username"], doc["general"]["password"]) == ("ani", "gp4_x")
    assert "password" not in json.loads(zlib.decompress(base64.b64decode(
        collect_settings("https://p4gn.example/openrosa", "ani", None))))["general"]
