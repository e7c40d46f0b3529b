"""Every ``geo-p4gn`` command that reads or writes the store says who runs it (``--as``), goes through the
services with that identity, and opens the store only once the role allows the command.

The store and the users of ``tests/integration/test_auth_matrix.py`` are reused: one record per role, two by
another field team member, one site.
"""

from __future__ import annotations

import argparse
import json
import shutil

import pytest

from geo_p4gn import auth, cli
from geo_p4gn.store import open_store
from tests.integration.test_auth_matrix import EXPECTED, OTHER, ROLES, USERS, _state, template, world  # noqa: F401

#: Commands over the store, with the action their role needs (None: the role needs several, see below).
COMMANDS = {
    "coverage": (["coverage", "--level", "kelurahan", "--format", "json"], "read"),
    "gaps": (["gaps", "--format", "json"], "read"),
    "init": (["init", "--no-starter"], "manage_sites"),
    "init-starter": (["init"], None),
    "db": (["db", "grant-app-role", "p4gn_app"], "manage_database"),
    "import": (["import", "{csv}"], "import"),
}
#: Refused before the store is opened as well (export itself is faked by the matrix's fixture; the real
#: exports' role checks are in tests/integration/test_cli_import_export.py).
REFUSED_ONLY = {"export": (["export", "csv", "{tmp}/out.csv"], "export"),
                "export-public": (["export", "csv", "{tmp}/out.csv", "--public"], "export_public")}


def _allowed(command: str, role: str) -> bool:
    action = COMMANDS[command][1]
    if action is None:  # init with the starter data: sites and an import
        return {"manage_sites", "import"} <= EXPECTED[role]
    return action in EXPECTED[role]


@pytest.fixture
def cli_world(world, monkeypatch):  # noqa: F811
    for user in USERS.values():
        auth.add_user(user.name, user.role)
    monkeypatch.delenv("GEO_P4GN_USER", raising=False)
    return world


def _argv(command: str, w, store: str) -> list[str]:
    args = (COMMANDS | REFUSED_ONLY)[command][0]
    return [a.format(csv=w.csv, tmp=w.tmp) for a in args] + ["--store", store]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("role", ROLES)
def test_every_store_command_checks_the_role_of_as(cli_world, role, command, capsys):
    w = cli_world
    before = _state(w)
    code = cli.main([*_argv(command, w, str(w.tmp / "store.gpkg")), "--as", USERS[role].name])
    out, err = capsys.readouterr()
    if not _allowed(command, role):
        assert code == 2, (out, err)
        assert err.startswith(f"geo-p4gn: error: {USERS[role].label} may not "), err
        assert _state(w) == before  # nothing written, no file made
        return
    if command == "db":  # allowed, and refused for what it is: a GeoPackage has no database roles
        assert code == 2 and "needs a PostGIS store" in err
        return
    assert code == 0, err
    if command in ("coverage", "gaps"):
        assert isinstance(json.loads(out), list)


@pytest.mark.parametrize("command", sorted(COMMANDS | REFUSED_ONLY))
def test_a_refused_command_does_not_even_create_the_store(cli_world, command, capsys):
    w = cli_world
    new = w.tmp / "new.gpkg"
    role = "perencana" if command == "export-public" else "petugas"
    code = cli.main([*_argv(command, w, str(new)), "--as", USERS[role].name])
    assert code == 2
    assert "may not" in capsys.readouterr().err
    assert not new.exists() and not list(w.tmp.glob("new.gpkg*"))


def test_without_as_the_commands_are_refused_when_accounts_exist(cli_world, capsys):
    for command in ("coverage", "gaps", "init"):
        assert cli.main([*_argv(command, cli_world, str(cli_world.tmp / "store.gpkg"))]) == 2
        assert "say who you are with --as NAME" in capsys.readouterr().err


def test_as_is_never_read_as_as_of(cli_world, capsys):
    store = ["--store", str(cli_world.tmp / "store.gpkg")]
    # a user name after --as is a user name, also on the commands that have --as-of
    assert cli.main(["coverage", "--as", USERS["perencana"].name, *store]) == 0
    capsys.readouterr()
    assert cli.main(["gaps", "--as", "2025-01-31", *store]) == 2
    assert "'2025-01-31' has no role in this installation" in capsys.readouterr().err
    # --as-of still works beside --as, and abbreviations are refused instead of guessed
    assert cli.main(["coverage", "--as-of", "2025-01-31", "--as", USERS["admin"].name, "--format", "json",
                     *store]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["days_since_last"] is None or r["days_since_last"] >= 0 for r in rows)
    for abbreviated in (["coverage", "--as-o", "2025-01-31"], ["coverage", "--form", "json"],
                        ["export", "csv", "x.csv", "--pub"], ["user", "list", "--a", "x"]):
        with pytest.raises(SystemExit) as exc:
            cli.main([*abbreviated, *store])
        assert exc.value.code == 2
        assert "unrecognized arguments" in capsys.readouterr().err


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_no_parser_guesses_abbreviated_options():
    parsers = list(_parsers(cli.build_parser()))
    assert len(parsers) > 15
    assert [p.prog for p in parsers if p.allow_abbrev] == []


def test_every_command_over_the_store_takes_as():
    """A command with --store acts on the store, so it must say who runs it."""
    missing = []
    for p in _parsers(cli.build_parser()):
        options = {o for a in p._actions for o in a.option_strings}
        if "--store" in options and "--as" not in options:
            missing.append(p.prog)
    assert missing == []


def test_init_records_who_ran_it(cli_world, capsys):
    w = cli_world
    fresh = str(w.tmp / "fresh.gpkg")
    assert cli.main(["init", "--store", fresh, "--as", USERS["pimpinan"].name]) == 0
    assert "6 seed sites and 6 starter interventions added" in capsys.readouterr().out
    with open_store(fresh) as store:
        who = set(store.audit_log()["who"])
        made = set(store.list()["created_by"])
    assert who == made == {USERS["pimpinan"].name}


class _PgLooking:
    """The real store, showing a PostGIS URL with a password (what init used to print)."""

    url = "postgresql://p4gn_owner:S3cret-pw@db.internal:5432/p4gn?sslmode=require"

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._store.close()


def test_init_does_not_print_the_store_password(cli_world, monkeypatch, capsys):
    import geo_p4gn.store as store_mod

    real = store_mod.open_store
    monkeypatch.setattr(cli, "open_store", lambda url=None, **kw: _PgLooking(real(url, **kw)))  # as init calls it
    code = cli.main(["init", "--no-starter", "--store", str(cli_world.tmp / "store.gpkg"), "--as",
                     USERS["admin"].name])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "S3cret" not in out + err and "p4gn_owner" not in out + err
    assert out.startswith("store postgresql://db.internal:5432/p4gn: ")


def test_the_template_is_untouched(template, tmp_path):  # noqa: F811
    """The shared template store of the matrix is copied, never written by these tests."""
    shutil.copyfile(template / "template.gpkg", tmp_path / "t.gpkg")
    with open_store(str(tmp_path / "t.gpkg")) as store:
        assert OTHER in set(store.list()["created_by"])
        assert len(store.audit_log()) == 8
