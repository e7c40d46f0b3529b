"""``geo-p4gn ikrn import FILE`` / ``history [--kelurahan X]`` / ``before-after --year Y``: BNN's yearly kelurahan
grades (:mod:`geo_p4gn.ikrn`) through :mod:`geo_p4gn.services`. A kelurahan with no grade for a year was not
surveyed: unknown, never Aman."""

from __future__ import annotations

import argparse
import sys

from .. import services, settings
from ..store import open_store
from .common import add_user_argument, cli_user
from .coverage import format_table


def _store(args):
    return open_store(args.store or settings.store_url)


def _cmd_import(args: argparse.Namespace) -> int:
    user = cli_user(args)
    services.authorize(user, "import")
    with _store(args) as store:
        done = services.import_ikrn(store, user, args.file, dry_run=args.dry_run)
    verb = "would be read" if args.dry_run else "read"
    print(f"{args.file}: {done['rows']} grades {verb}; {done['created']} new, {done['updated']} changed, "
          f"{done['unchanged']} already stored")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    user = cli_user(args)
    services.authorize(user, "read_sites")
    with _store(args) as store:
        table = services.ikrn_history(store, user, args.kelurahan)
    sys.stdout.write(format_table(table, args.format))
    return 0


def _cmd_before_after(args: argparse.Namespace) -> int:
    user = cli_user(args)
    services.authorize(user, "read")
    with _store(args) as store:
        table = services.ikrn_before_after(store, user, args.year)
    if table.empty:
        print(f"no kelurahan is graded in both {args.year} and {args.year + 1}", file=sys.stderr)
    sys.stdout.write(format_table(table, args.format))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("ikrn", help="BNN's yearly IKRN grades per kelurahan: import, history, before/after",
                              description=__doc__)
    sub = p.add_subparsers(dest="ikrn_command", required=True, metavar="{import,history,before-after}")

    def common(q):
        q.add_argument("--store", metavar="URL", help="a GeoPackage path or postgresql:// URL (default GEO_P4GN_STORE)")
        add_user_argument(q)

    i = sub.add_parser("import", help="import a CSV/XLSX: year, kelurahan (code or name), category, source "
                                      "(managers and admins; idempotent, audited)")
    i.add_argument("file")
    i.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    common(i)
    i.set_defaults(func=_cmd_import)
    h = sub.add_parser("history", help="the grades per kelurahan and year (a year missing: not surveyed)")
    h.add_argument("--kelurahan", metavar="CODE_OR_NAME")
    h.add_argument("--format", choices=("csv", "json"), default="csv")
    common(h)
    h.set_defaults(func=_cmd_history)
    b = sub.add_parser("before-after", help="kelurahan graded in Y and Y+1: interventions in Y against the change")
    b.add_argument("--year", type=int, required=True, metavar="Y")
    b.add_argument("--format", choices=("csv", "json"), default="csv")
    common(b)
    b.set_defaults(func=_cmd_before_after)
