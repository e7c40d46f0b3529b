"""``geo-p4gn basemap mbtiles OUT``: an MBTiles of the kelurahan boundaries, their names and the sites, for
ODK Collect's offline layer and for QGIS / QField (:mod:`geo_p4gn.services.basemap`)."""

from __future__ import annotations

import argparse

from .. import services
from ..services import basemap
from ..store import open_store
from .common import add_store_argument, add_user_argument, cli_user


def register(sub) -> None:
    p = sub.add_parser("basemap", help="a basemap file of the boundaries, their names and the sites")
    kinds = p.add_subparsers(dest="kind", required=True)
    m = kinds.add_parser("mbtiles", help="raster PNG tiles in one MBTiles file (ODK Collect, QGIS, QField)",
                         description="--public draws one dot per kelurahan that holds sites, with no site names.")
    m.add_argument("out", help="the .mbtiles file to write (replaced)")
    m.add_argument("--public", action="store_true", help="generalise the sites to their kelurahan")
    m.add_argument("--min-zoom", type=int, default=10, help="lowest zoom (default 10)")
    m.add_argument("--max-zoom", type=int, default=15, help="highest zoom (default 15; each more is 4x the tiles)")
    add_store_argument(m)
    add_user_argument(m)
    m.set_defaults(func=cmd_mbtiles)


def cmd_mbtiles(args: argparse.Namespace) -> int:

    user = cli_user(args)
    services.authorize(user, "export_public" if args.public else "export")
    with open_store(args.store) as store:
        info = basemap.export_mbtiles(store, user, args.out, public=args.public, min_zoom=args.min_zoom,
                                      max_zoom=args.max_zoom)
    print(f"wrote {args.out}: {info['tiles']} tiles, zoom {info['min_zoom']}-{info['max_zoom']}, "
          f"{'public' if args.public else 'internal'}")
    return 0
