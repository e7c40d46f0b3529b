"""``geo-p4gn db``: database housekeeping for a PostGIS store (admins, ``--as NAME``), through
:func:`geo_p4gn.services.grant_app_role`."""

from __future__ import annotations

import argparse

from .. import services, settings
from .._errors import ValidationError
from ..store import open_store
from .common import add_store_argument, add_user_argument, cli_user


def _cmd_grant(args: argparse.Namespace) -> int:

    user = cli_user(args)
    services.authorize(user, "manage_database")  # before opening anything
    if not str(args.store or settings.store_url).startswith(("postgresql://", "postgres://",
                                                              "postgresql+psycopg://")):
        msg = "db grant-app-role needs a PostGIS store (a postgresql:// URL in --store or GEO_P4GN_STORE)"
        raise ValidationError(msg)  # and no GeoPackage is created for nothing
    with open_store(args.store) as store:
        for stmt in services.grant_app_role(store, user, args.role):
            print(stmt)
    print(f"role {args.role} may now use the store without owning it; point GEO_P4GN_STORE at a URL with "
          "that user for the app and the CLI")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("db", help="PostGIS housekeeping")
    sub = p.add_subparsers(dest="db_command", required=True)
    g = sub.add_parser(
        "grant-app-role",
        help="let an existing database role use the store without owning it (run as the owner)",
        description="Grants ROLE what the app needs and nothing more: no UPDATE, DELETE or TRUNCATE on the "
        "audit log, no DELETE on records, no DDL. Run it with the owner's URL; then run the app as ROLE.",
    )
    g.add_argument("role")
    add_store_argument(g)
    add_user_argument(g)
    g.set_defaults(func=_cmd_grant)
