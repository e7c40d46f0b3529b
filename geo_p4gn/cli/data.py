"""``geo-p4gn import`` and ``geo-p4gn export``: thin entry points over :mod:`geo_p4gn.services`, which
checks the role (``--as``, see :mod:`geo_p4gn.cli.admin`) and the upload limits, then calls
:mod:`geo_p4gn.importers`, :mod:`geo_p4gn.render.data` or :mod:`geo_p4gn.render.html`.

Exit status of ``import``: 0 when the file was processed (whether or not some rows were rejected), 2 when
it could not be read or stored at all (then nothing was written), 1 on a fault of the disk or the store (a
full disk, a read-only or damaged store: nothing was written either). ``--json`` prints
``{"accepted", "rejected", "duplicates", "conflicts", ...}`` on standard output, or ``{"error": ...}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .. import services
from .._errors import P4gnError
from ..filters import add_filter_arguments, filters_from_args
from ..services import authorize, import_file
from ..store import open_store
from . import report as report_cli
from .common import add_user_argument, cli_user

#: Rows from which ``import`` draws a progress bar (on a terminal only).
PROGRESS_ROWS = 5000
#: Reasons ``import`` prints before pointing to ``--rejects``.
SHOWN_REJECTS = 20
EXPORT_FORMATS = ("csv", "xlsx", "geojson", "gpkg", "html", "png")
_STAGES = ("read", "validate", "locate", "write")


def register(sub) -> None:
    p = sub.add_parser(
        "import", help="import interventions from a CSV, XLSX, GeoJSON or KoboToolbox/ODK export",
        description="Each row is stored or rejected with a reason naming its row (the header is row 1) and "
                    "column. Valid rows are stored in one transaction; a file that cannot be read changes nothing.",
    )
    p.add_argument("file", help="the file to import")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.add_argument("--rejects", metavar="OUT.csv",
                   help="write the rejected rows, with their reasons, to a CSV you can fix and import again")
    p.add_argument("--lang", choices=("id", "en"), default="id",
                   help="the reasons and the rejects file in Indonesian (id, the default) or English (en)")
    p.add_argument("--store", help="GeoPackage path or postgresql:// URL (default: GEO_P4GN_STORE or "
                                   "data/interventions/p4gn.gpkg)")
    add_user_argument(p)
    p.set_defaults(func=cmd_import)

    e = sub.add_parser(
        "export", help="export the (filtered) interventions: csv, xlsx, geojson, gpkg or an html map",
        description="Only allow-listed columns are written (see geo_p4gn.render.data); --public generalises "
                    "locations to the kelurahan and leaves out ids, notes and sites.",
    )
    e.add_argument("format", choices=EXPORT_FORMATS)
    e.add_argument("out", help="the file to write")
    e.add_argument("--public", action="store_true", help="the public version (generalised, no free text)")
    e.add_argument("--hxl", action="store_true", help="csv: add an HXL hashtag row under the header")
    e.add_argument("--lang", choices=("id", "en"), default="id", help="labels in Indonesian (id) or English (en)")
    e.add_argument("--store", help="GeoPackage path or postgresql:// URL (default: GEO_P4GN_STORE or "
                                   "data/interventions/p4gn.gpkg)")
    h = e.add_argument_group("html map")
    h.add_argument("--metric", help="html: the choropleth's metric (default: interventions)")
    h.add_argument("--tiles", default="", metavar="URL", help="html: background tiles (default: none, offline)")
    b = e.add_argument_group("briefing pack (png, gpkg --styled; see geo_p4gn.cli.report)")
    b.add_argument("--level", choices=report_cli.LEVELS, default="kelurahan", help="png: the choropleth's level")
    b.add_argument("--styled", action="store_true",
                   help="gpkg: add the coverage layers and their QGIS styles (layer_styles)")
    report_cli.add_bulletin_arguments(b)
    add_filter_arguments(e)
    add_user_argument(e)
    e.set_defaults(func=cmd_export)


class _Bar:
    """A one-line progress bar on standard error: the import's stages, then the rows of each."""

    def __init__(self, stream) -> None:
        self.stream, self.last = stream, 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        k = _STAGES.index(stage) if stage in _STAGES else 0
        frac = (k + (done / total if total else 0)) / len(_STAGES)
        if now - self.last < 0.1 and frac < 1:
            return
        self.last = now
        width = 30
        fill = int(width * frac)
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {frac:4.0%} {stage:<8} {done}/{total} rows")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _rows_hint(path: str) -> int:
    """A cheap guess of the rows in a file (its lines), to decide whether to draw a bar."""
    try:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return 0


def cmd_import(args: argparse.Namespace) -> int:

    bar = None
    if sys.stderr.isatty() and not args.json and _rows_hint(args.file) >= PROGRESS_ROWS:
        bar = _Bar(sys.stderr)
    try:
        user = cli_user(args)
        authorize(user, "import")  # before opening (or creating) the store
        with open_store(args.store) as store:
            report = import_file(store, user, args.file, name=args.file, dry_run=args.dry_run,
                                 rejects_path=args.rejects, progress=bar, lang=args.lang)
    except P4gnError as exc:
        if bar:
            bar.close()
        if args.json:
            print(json.dumps({"error": str(exc), "file": args.file}, ensure_ascii=False))
            return getattr(exc, "exit_status", 2)
        raise
    if bar:
        bar.close()
    if args.json:
        out = report.summary() | {"rows": report.rows, "stored": report.stored, "dry_run": report.dry_run,
                                  "file": report.path,
                                  "rejects_file": report.rejects_path,
                                  "rejects": [{"row": r.row, "field": r.field, "reason": r.reason_in(args.lang)}
                                              for r in report.rejects[:1000]]}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    s = report.summary()
    what = "would be stored (dry run: nothing written)" if report.dry_run else "stored"
    print(f"{report.path}: {report.rows} rows: {s['accepted']} {what}, {s['duplicates']} already stored, "
          f"{s['rejected']} rejected, {s['conflicts']} conflicts")
    if report.stored:
        print(f"{report.stored} rows match records already in the store (the same file imported before?): "
              "not stored again")
    if report.ignored_columns:
        print(f"columns ignored: {', '.join(report.ignored_columns)}")
    for r in report.rejects[:SHOWN_REJECTS]:
        print(f"  {r.reason_in(args.lang)}")
    if len(report.rejects) > SHOWN_REJECTS:
        print(f"  ... and {len(report.rejects) - SHOWN_REJECTS} more")
    if report.rejects_path:
        print(f"rejected rows written to {report.rejects_path}: fix them there and import that file")
    elif report.rejects:
        print("use --rejects OUT.csv to get the rejected rows in a file you can fix and import again")
    return 0


def cmd_export(args: argparse.Namespace) -> int:

    if args.hxl and args.format == "html":  # export_data checks the other formats
        msg = "--hxl is for csv exports"
        raise P4gnError(msg)
    user = cli_user(args)
    services.authorize(user, "export_public" if args.public else "export")  # before opening the store
    filters = filters_from_args(args)
    kind = "public" if args.public else "internal"
    if args.mail and args.format != "png":
        msg = "--mail is for png exports (and for geo-p4gn report)"
        raise P4gnError(msg)
    with open_store(args.store) as store:
        if args.format == "png":
            return report_cli.export_png(args, store, user)
        if args.format == "gpkg" and args.styled:
            return report_cli.export_styled_gpkg(args, store, user)
        filters = services.resolve_filters(store, user, filters)  # names to codes; an unknown value: exit 2
        if args.format == "html":
            page = services.export_html(store, user, args.out, filters, public=args.public, lang=args.lang,
                                        metric=args.metric or "interventions", tiles=args.tiles or "")
            print(f"wrote {args.out} ({len(page.encode('utf-8')) / 1e6:.2f} MB, {kind} html map)")
            return 0
        n = services.export_records(store, user, args.out, args.format, filters, public=args.public,
                                    hxl=args.hxl, lang=args.lang)
    print(f"wrote {args.out}: {n} records ({kind} {args.format})")
    return 0
