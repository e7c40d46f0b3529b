"""``geo-p4gn coverage`` and ``geo-p4gn gaps``: thin entry points over :func:`geo_p4gn.services.coverage_table`
and :func:`geo_p4gn.services.gap_list`, which check that the user (``--as NAME``, see
:mod:`geo_p4gn.cli.admin`) may read every record: planners, managers and admins.

The store is chosen as in the other commands (``--store`` or ``GEO_P4GN_STORE``) and opened only once the
role is known to allow it; the boundaries and the taxonomy are the project's. Output is CSV (one header row, empty cells for NA, ISO dates) or JSON (a list
of objects with the documented columns, ``null`` for NA). Percentages are rounded to 2 decimals on output.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from .. import _json, compare, coverage, services, settings
from .._errors import P4gnError
from ..boundaries import load_boundaries
from ..filters import add_filter_arguments, filters_from_args
from ..records import parse_date
from ..store import open_store
from ..taxonomy import load_taxonomy
from .common import add_user_argument, cli_user


def _open_store(url: str):
    return open_store(url)


def _load_areas() -> pd.DataFrame:

    return load_boundaries().kelurahan


def _load_taxonomy():

    return load_taxonomy()


def _run(args: argparse.Namespace, query):
    """``query(store, user)`` through the services, as ``--as``; the store is opened after the role check."""
    user = cli_user(args)
    services.authorize(user, "read")  # before opening (or creating) anything
    store = _open_store(args.store or settings.store_url)
    try:
        return query(store, user)
    finally:
        store.close()


# -- output ------------------------------------------------------------------------------------------
def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").astype(object)
        elif col.startswith("pct_"):
            out[col] = out[col].round(2)
    out = out.astype(object)
    return out.where(out.notna(), None)


def format_table(frame: pd.DataFrame, fmt: str) -> str:
    """The frame as CSV or JSON text (see the module docstring)."""
    plain = _plain(frame)
    if fmt == "json":
        return json.dumps(plain.to_dict("records"), default=_json.default, ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return plain.to_csv(index=False, lineterminator="\n")
    msg = f"format must be csv or json, not {fmt!r}"
    raise P4gnError(msg)


def _ikrn_note(store, user, filters) -> None:
    """Say on stderr which IKRN categories a window within one year uses: that year's grades, or (none
    imported for it) the sites' own categories."""
    b = services.ikrn_basis(store, user, filters)
    if b["year"] is None:
        return
    if b["source"] == "grades":
        print(f"IKRN: the grades of {b['year']} ({b['graded']} kelurahan; not graded: unknown)", file=sys.stderr)
    else:
        print(f"IKRN: no grades imported for {b['year']}: the sites' own categories are used", file=sys.stderr)


# -- commands ---------------------------------------------------------------------------------------------
def _as_of(args: argparse.Namespace):
    return parse_date(args.as_of, "--as-of") if args.as_of else None


def _cmd_coverage(args: argparse.Namespace) -> int:
    filters = filters_from_args(args)
    as_of = _as_of(args)
    areas, taxonomy = _load_areas(), _load_taxonomy()
    if args.compare:
        if filters.date_from or filters.date_to:
            msg = "--compare gives both periods: leave out --from and --to"
            raise P4gnError(msg)
        a, b = (compare.period(p) for p in args.compare)
        table = _run(args, lambda store, user: services.compare_periods(
            store, user, a, b, services.resolve_filters(store, user, filters, areas=areas, taxonomy=taxonomy),
            level=args.level, areas=areas, taxonomy=taxonomy))
        sys.stdout.write(format_table(table, args.format))
        return 0
    table = _run(args, lambda store, user: (_ikrn_note(store, user, filters), services.coverage_table(
        store, user, args.level, services.resolve_filters(store, user, filters, areas=areas, taxonomy=taxonomy),
        as_of=as_of, areas=areas, taxonomy=taxonomy))[1])
    sys.stdout.write(format_table(table, args.format))
    return 0


def _cmd_gaps(args: argparse.Namespace) -> int:
    filters = filters_from_args(args)
    levels = tuple(lv.strip() for v in (args.level or ["site,kelurahan"]) for lv in v.split(",") if lv.strip())
    as_of = _as_of(args)
    areas, taxonomy = _load_areas(), _load_taxonomy()
    gaps = _run(args, lambda store, user: (_ikrn_note(store, user, filters), services.gap_list(
        store, user, services.resolve_filters(store, user, filters, areas=areas, taxonomy=taxonomy),
        levels=levels, as_of=as_of, areas=areas, taxonomy=taxonomy))[1])
    sys.stdout.write(format_table(gaps, args.format))
    return 0


def _cmd_duplicates(args: argparse.Namespace) -> int:
    filters = filters_from_args(args)
    user = cli_user(args)
    services.authorize(user, "review_duplicates")  # before opening (or creating) anything
    areas, taxonomy = _load_areas(), _load_taxonomy()
    store = _open_store(args.store or settings.store_url)
    try:
        table = services.review_list(
            store, user, services.resolve_filters(store, user, filters, areas=areas, taxonomy=taxonomy),
            days=args.days, similarity=args.similarity)
    finally:
        store.close()
    sys.stdout.write(format_table(table, args.format))
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    """``duplicates mark A --of B`` / ``keep A B`` / ``unmark A [--of B]`` / ``decisions``."""
    user = cli_user(args)
    services.authorize(user, "review_duplicates")  # before opening (or creating) anything
    store = _open_store(args.store or settings.store_url)
    try:
        if args.review == "decisions":
            sys.stdout.write(format_table(services.duplicate_decisions(store, user), args.format))
            return 0
        if args.review == "mark":
            outcome = services.mark_duplicate(store, user, args.record, args.of)
            print(f"{args.record}: duplicate of {args.of} ({outcome}); it counts in no coverage figure")
        elif args.review == "keep":
            outcome = services.keep_both(store, user, args.record, args.other)
            print(f"{args.record} and {args.other}: both kept ({outcome})")
        else:
            n = services.unmark_duplicate(store, user, args.record, args.of)
            print(f"{args.record}: {n} review decision{'s' if n != 1 else ''} undone; it counts again")
    finally:
        store.close()
    return 0


def _review_parsers(d: argparse.ArgumentParser) -> None:
    sub = d.add_subparsers(dest="review", metavar="{mark,keep,unmark,decisions}",
                           help="review a flagged pair (managers and admins; audited, reversible)")

    def parser(name: str, text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--store", metavar="URL", help="a GeoPackage path or postgresql:// URL (default GEO_P4GN_STORE)")
        add_user_argument(p)
        p.set_defaults(func=_cmd_review)
        return p

    m = parser("mark", "confirm record A as a duplicate of record B (the one kept): A counts in no coverage figure")
    m.add_argument("record", metavar="A")
    m.add_argument("--of", required=True, metavar="B", help="the record kept")
    k = parser("keep", "keep both: records A and B are two events")
    k.add_argument("record", metavar="A")
    k.add_argument("other", metavar="B")
    u = parser("unmark", "undo A's duplicate mark (with --of B: whatever was decided on the pair A, B)")
    u.add_argument("record", metavar="A")
    u.add_argument("--of", metavar="B", help="the other record of the pair")
    dec = parser("decisions", "every review decision stored, oldest first")
    dec.add_argument("--format", choices=("csv", "json"), default="csv")


def _common(p: argparse.ArgumentParser) -> None:
    add_filter_arguments(p)
    p.add_argument("--as-of", metavar="DATE", help="the day days_since_last counts to (default today)")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--store", metavar="URL", help="a GeoPackage path or postgresql:// URL (default GEO_P4GN_STORE)")
    add_user_argument(p)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "coverage", help="the coverage table (reached, covered, completeness) of target sites or areas",
        description="Print the coverage table; columns are documented in docs/coverage.md.")
    p.add_argument("--level", choices=coverage.LEVELS, default="kelurahan")
    p.add_argument("--compare", nargs=2, metavar=("FROM..TO", "FROM..TO"),
                   help="compare two periods (or years: --compare 2024 2025): reached in both, newly reached, "
                        "no longer reached, types and actors gained and lost (columns: docs/coverage.md)")
    _common(p)
    p.set_defaults(func=_cmd_coverage)

    g = subparsers.add_parser(
        "gaps", help="targets with nothing in the window, then those missing types or actor classes",
        description="Print the ranked gap list (only targets; a kelurahan with no target site is not a gap).")
    g.add_argument("--level", action="append", metavar="LEVEL",
                   help=f"levels to list, repeat or comma-separate ({', '.join(coverage.LEVELS)}; "
                        "default site,kelurahan)")
    _common(g)
    g.set_defaults(func=_cmd_gaps)

    d = subparsers.add_parser(
        "duplicates", help="possible duplicates across reporters (managers and admins)",
        description="List pairs of records that may report the same event: same type, same site (or kelurahan), "
                    "days overlapping or close, similar organisation names (geo_p4gn.duplicates).")
    d.add_argument("--days", type=int, help="days apart at most (default GEO_P4GN_DUPLICATE_DAYS, 3)")
    d.add_argument("--similarity", type=float,
                   help="least organisation-name similarity, 0..1 (default GEO_P4GN_DUPLICATE_SIMILARITY, 0.6)")
    _common(d)
    d.set_defaults(func=_cmd_duplicates)
    _review_parsers(d)
