"""``geo-p4gn db``: database housekeeping for a PostGIS store."""

from __future__ import annotations

import argparse

from ._errors import P4gnError


def _cmd_grant(args: argparse.Namespace) -> int:
    from .store import open_store

    with open_store(args.store) as store:
        if not hasattr(store, "grant_app_role"):
            msg = "db grant-app-role needs a PostGIS store (a postgresql:// URL in --store or GEO_P4GN_STORE)"
            raise P4gnError(msg)
        for stmt in store.grant_app_role(args.role):
            print(stmt)
    print(f"role {args.role} may now use the store without owning it; point GEO_P4GN_STORE at a URL with "
          "that user for the app and the CLI")
    return 0


def register(subparsers) -> None:
    from .cli import add_store_argument

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
    g.set_defaults(func=_cmd_grant)
