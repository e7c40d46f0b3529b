"""The users file is written with tomlkit and reads back as it was written (no real boundaries or stores)."""

from __future__ import annotations

import tomllib

from geo_p4gn import auth


def test_the_users_file_round_trips(tmp_path):
    path = tmp_path / "users.toml"
    users = {
        "ani@bnn.go.id": {"role": "petugas"},
        "budi.santoso+p4gn": {"role": "admin", "password_hash": '$argon2id$v=19$m=19456,t=2,p=1$a+b/c$"q"\\x',
                              "failures": 3, "locked_until": "2026-01-01T00:15:00+00:00"},
        "00u1abcd": {"role": "perencana", "password_hash": "", "failures": None},  # empty fields left out
    }
    auth._save(path, users)
    assert auth.load_users(path) == {
        "ani@bnn.go.id": {"role": "petugas"},
        "budi.santoso+p4gn": users["budi.santoso+p4gn"],
        "00u1abcd": {"role": "perencana"},
    }
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# geo-p4gn users: identity -> role")
    assert '[users."ani@bnn.go.id"]' in text and '[users."00u1abcd"]' in text  # names always quoted
    assert text.index("00u1abcd") < text.index("ani@") < text.index("budi")  # sorted
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_no_users_is_a_file_listing_nobody(tmp_path):
    path = tmp_path / "users.toml"
    auth._save(path, {})
    assert tomllib.loads(path.read_text(encoding="utf-8")).get("users", {}) == {}
    assert auth.load_users(path) == {}
    assert path.exists()  # which auth_mode tells apart from no file at all
