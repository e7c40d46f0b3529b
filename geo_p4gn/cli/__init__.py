"""The ``geo-p4gn`` command. Each subcommand is a thin entry point over core functions.

Subcommands live beside the code they drive: a module listed in ``_COMMAND_MODULES`` exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the parsed args
and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from .. import services, settings
from .._errors import FaultError, P4gnError, os_fault
from ..boundaries import load_boundaries
from ..store import open_store
from ..store.geopackage import sqlite_fault
from .common import Parser, _safe, add_store_argument, add_user_argument, cli_user

#: Modules that add subcommands (each defines ``register(subparsers)``).
_COMMAND_MODULES: tuple[str, ...] = (
    "geo_p4gn.cli.coverage", "geo_p4gn.cli.admin", "geo_p4gn.cli.data", "geo_p4gn.cli.db",
    "geo_p4gn.cli.report", "geo_p4gn.cli.basemap", "geo_p4gn.cli.ikrn",
)


def _cmd_boundaries(args: argparse.Namespace) -> int:

    summary = load_boundaries(rebuild=args.rebuild).summary()
    if args.format == "json":
        print(json.dumps(summary, indent=2))
        return 0
    print(f"source : {summary['source']} @ {summary['commit']}")
    print(f"licence: {summary['license']}")
    for level, s in summary["levels"].items():
        nest = ""
        if "nests_all_kelurahan" in s:
            nest = f", nests its kelurahan: {'yes' if s['nests_all_kelurahan'] else 'NO'}"
        print(f"{level:<10} {s['count']:>4}  valid {s['valid']:>4}  area {s['area_km2']:>6.1f} km2{nest}")
    ok = all(s["valid"] == s["count"] and s.get("nests_all_kelurahan", True) for s in summary["levels"].values())
    return 0 if ok else 1


def _cmd_init(args: argparse.Namespace) -> int:

    user = cli_user(args)
    starter = not args.no_starter
    for action in services.seed_actions(starter):
        services.authorize(user, action)  # before opening (or creating) the store
    with open_store(args.store) as store:
        done = services.seed_store(store, user, starter=starter)
        print(f"store {_safe(store.url)}: {done['sites']} seed sites and {done['interventions']} starter "
              f"interventions added; {len(services.list_sites(store, user))} sites, "
              f"{len(services.list_interventions(store, user))} interventions in all")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="geo-p4gn", description="P4GN intervention mapping for DKI Jakarta")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("boundaries", help="build (if needed) and summarise the Jakarta boundary layers")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached layers from the source files")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_cmd_boundaries)
    p = sub.add_parser("init", help="create the store if needed and add the seed sites and starter data")
    add_store_argument(p)
    p.add_argument("--no-starter", action="store_true", help="add the seed sites only")
    add_user_argument(p)
    p.set_defaults(func=_cmd_init)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _fault(exc: Exception, args: argparse.Namespace) -> FaultError | None:
    """The one place where a fault no command handled becomes a message naming the file and what to do:
    an operating-system error, an SQLite error on the store file, a PostGIS error. None: not a fault."""
    import sqlite3
    from pathlib import Path


    store = str(getattr(args, "store", None) or settings.store_url)
    if isinstance(exc, BrokenPipeError):
        return FaultError("the output was closed before the command finished (broken pipe)")
    if isinstance(exc, OSError):
        return os_fault(exc)
    if isinstance(exc, sqlite3.Error):

        return sqlite_fault(exc, Path(store.removeprefix("file:")), "running the command")
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.Error):
        return FaultError(f"the PostGIS store {_safe(store)}: {type(exc).__name__}: {str(exc).strip()}; check "
                          "that the database server is running, reachable and has free disk space, then run "
                          "the command again")
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command; exit status 0 on success, 2 when geo_p4gn refused the input or the request, 1 on a
    fault (a full disk, a read-only or damaged store: :class:`~geo_p4gn._errors.FaultError`)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except P4gnError as exc:
        print(f"geo-p4gn: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_status", 2)
    except Exception as exc:
        fault = _fault(exc, args)
        if fault is None:
            raise
        print(f"geo-p4gn: error: {fault}", file=sys.stderr)
        return fault.exit_status


if __name__ == "__main__":
    sys.exit(main())
