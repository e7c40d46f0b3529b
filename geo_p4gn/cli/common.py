"""What every ``geo-p4gn`` command shares: the parser class, ``--store`` and ``--as``, who the command acts as.

Who the command runs as
-----------------------
The command is run by an operator on the server, with the operator's own access to the store file or
database. It acts as ``--as NAME`` (or ``GEO_P4GN_USER``), looked up in the users file, and goes through
:mod:`geo_p4gn.services`, so it gets the same permission answers as the app and the audit log records
that name. With no users file at all (a laptop), it acts as the single user, an admin.
"""

from __future__ import annotations

import argparse

from .. import services
from ..auth import cli_user as _cli_user
from ..store import open_store, safe_url


class Parser(argparse.ArgumentParser):
    """A parser that takes options only as written in full: with argparse's prefix matching, ``--as NAME``
    on a command without ``--as`` was read as ``--as-of NAME``. Subcommands' parsers are of this class too
    (``add_subparsers`` makes parsers of its parent's type)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help="GeoPackage path or postgresql:// URL (default: GEO_P4GN_STORE or "
                        "data/interventions/p4gn.gpkg)")


def add_user_argument(parser: argparse.ArgumentParser) -> None:
    """``--as NAME``: who a command acts as (see the module docstring). For every command that changes
    or reads data through :mod:`geo_p4gn.services`."""
    parser.add_argument("--as", dest="as_name", metavar="NAME",
                        help="act as this user of the users file (default: GEO_P4GN_USER; with no users "
                             "file, the single local user)")


def cli_user(args: argparse.Namespace) -> services.User:
    return _cli_user(getattr(args, "as_name", None))


def _open(args, **kw):
    return open_store(getattr(args, "store", None), **kw)


#: The store URL with any password left out, for messages.
_safe = safe_url
