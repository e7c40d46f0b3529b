"""``geo-p4gn report`` (the PDF map book) and the briefing side of ``geo-p4gn export png`` / ``export gpkg
--styled``: thin entry points over :mod:`geo_p4gn.services.briefing`.

Cron-friendly: ``{date}`` in OUT becomes today's date in Jakarta (``buletin-{date}.pdf``), ``--quiet``
prints nothing on success, ``--mail ADDR`` (repeatable) mails the file through the SMTP server of
:mod:`geo_p4gn.settings`. Exit status 0 on success, 2 when the request was refused (a role, a filter), 1
on a fault (a full disk, an unreachable SMTP server: the file is written first, so it is kept).
"""

from __future__ import annotations

import argparse

from .. import services
from ..filters import add_filter_arguments, filters_from_args
from ..services import briefing
from ..store import open_store
from .common import add_store_argument, add_user_argument, cli_user

LEVELS = ("kelurahan", "kecamatan", "kota")


def add_bulletin_arguments(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` and ``--mail``, shared by ``report`` and ``export png``."""
    parser.add_argument("--quiet", action="store_true", help="print nothing on success (for cron)")
    parser.add_argument("--mail", action="append", default=[], metavar="ADDR",
                        help="mail the file to ADDR through GEO_P4GN_SMTP_HOST (repeat for several)")


def register(sub) -> None:
    p = sub.add_parser(
        "report", help="the PDF map book: a province cover, a page per kota and per target site",
        description="OUT may hold {date} (today in Jakarta), e.g. buletin-{date}.pdf. --public generalises "
                    "sites to their kelurahan and leaves out free text.")
    p.add_argument("out", help="the PDF to write ({date} becomes today's date)")
    p.add_argument("--public", action="store_true", help="the public version (generalised, no free text)")
    p.add_argument("--lang", choices=("id", "en"), default="id", help="Indonesian (id, default) or English")
    p.add_argument("--metric", default="interventions", help="the choropleth's metric (default: interventions)")
    add_bulletin_arguments(p)
    add_store_argument(p)
    add_filter_arguments(p)
    add_user_argument(p)
    p.set_defaults(func=cmd_report)


def _mail(args, user, out, public: bool, what: str) -> None:

    if not args.mail:
        return
    kind = "publik" if public else "internal"
    subject = f"Buletin P4GN DKI Jakarta {out.stem} ({kind})"
    body = (f"Terlampir {what} P4GN DKI Jakarta ({kind}), dibuat oleh geo_p4gn.\n"
            f"Attached: the P4GN DKI Jakarta {what} ({'public' if public else 'internal'}), made by geo_p4gn.\n")
    briefing.mail_bulletin(user, args.mail, [out], public=public, subject=subject, body=body)
    if not args.quiet:
        print(f"mailed {out.name} to {', '.join(args.mail)}")


def cmd_report(args: argparse.Namespace) -> int:

    user = cli_user(args)
    services.authorize(user, "export_public" if args.public else "export")  # before opening the store
    filters = filters_from_args(args)
    out = briefing.dated_path(args.out)
    with open_store(args.store) as store:
        pdf = briefing.export_report(store, user, out, filters, public=args.public, lang=args.lang,
                                     metric=args.metric)
    if not args.quiet:
        print(f"wrote {out} ({len(pdf) / 1e6:.2f} MB, {'public' if args.public else 'internal'} map book)")
    _mail(args, user, out, args.public, "buku peta / map book")
    return 0


def export_png(args: argparse.Namespace, store, user) -> int:
    """``geo-p4gn export png OUT``: called by :func:`geo_p4gn.cli.data.cmd_export` with the store open."""

    out = briefing.dated_path(args.out)
    png = briefing.export_png(store, user, out, filters_from_args(args), public=args.public, lang=args.lang,
                              level=getattr(args, "level", None) or "kelurahan",
                              metric=args.metric or "interventions")
    if not getattr(args, "quiet", False):
        print(f"wrote {out} ({len(png) / 1e3:.0f} KB, {'public' if args.public else 'internal'} map image)")
    _mail(args, user, out, args.public, "peta / map")
    return 0


def export_styled_gpkg(args: argparse.Namespace, store, user) -> int:
    """``geo-p4gn export gpkg OUT --styled``: the coverage layers, the interventions and their QGIS styles."""

    out = briefing.dated_path(args.out)
    counts = briefing.export_styled_gpkg(store, user, out, filters_from_args(args), public=args.public,
                                         lang=args.lang, metric=args.metric or "interventions")
    if not getattr(args, "quiet", False):
        layers = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"wrote {out}: {layers} ({'public' if args.public else 'internal'} styled gpkg)")
    return 0
