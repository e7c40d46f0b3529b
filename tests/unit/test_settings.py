"""Every environment variable of geo_p4gn is read in geo_p4gn/settings.py, and documented there."""

from __future__ import annotations

import re
from pathlib import Path

from geo_p4gn import auth, settings
from geo_p4gn.identity import SINGLE_USER

PACKAGE = Path(settings.__file__).resolve().parent
#: Modules that still read their own variables: none.
STILL_OWN: set[str] = set()
_READ = re.compile(r"""(?:environ(?:\.get)?\s*[\[(]|getenv\s*\()\s*["'](GEO_P4GN_\w+)""")


def _reads(path: Path) -> set[str]:
    return set(_READ.findall(path.read_text(encoding="utf-8")))


def test_no_module_but_settings_reads_a_geo_p4gn_variable():
    readers = {str(p.relative_to(PACKAGE)): _reads(p) for p in PACKAGE.rglob("*.py")}
    elsewhere = {name: found for name, found in readers.items()
                 if found and name != "settings.py" and Path(name).name not in STILL_OWN}
    assert elsewhere == {}
    assert {"GEO_P4GN_USERS", "GEO_P4GN_SINGLE_USER", "GEO_P4GN_OIDC_TRUST_EMAIL",
            "GEO_P4GN_USER"} <= readers["settings.py"]


def test_every_variable_settings_reads_is_in_its_docstring():
    # a definition line of the docstring names one variable or several ("A, B"); its text is indented
    documented = {name.strip() for line in settings.__doc__.splitlines()
                  if line.startswith("GEO_P4GN_") for name in line.split(",")}
    assert _reads(PACKAGE / "settings.py") - documented == set()


def test_the_cli_default_user_is_read_when_the_command_runs(monkeypatch, tmp_path):
    monkeypatch.delenv("GEO_P4GN_USER", raising=False)
    assert settings.cli_user_name() is None
    monkeypatch.setenv("GEO_P4GN_USER", "")
    assert settings.cli_user_name() is None
    monkeypatch.setenv("GEO_P4GN_USER", "budi")
    assert settings.cli_user_name() == "budi"
    # auth follows it (and settings.users_path) at call time
    path = tmp_path / "users.toml"
    monkeypatch.setattr(settings, "users_path", path)
    monkeypatch.delenv("GEO_P4GN_USER")
    assert auth.cli_user(None) == SINGLE_USER
    path.write_text('[users.budi]\nrole = "perencana"\n', encoding="utf-8")
    monkeypatch.setenv("GEO_P4GN_USER", "budi")
    assert auth.cli_user(None).role == "perencana"
