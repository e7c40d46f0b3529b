"""The MBTiles basemap of the boundaries, their names and the sites (``geo-p4gn basemap mbtiles OUT``).

It is an export: ``export`` (internal: every site the user may see, at its place, with its name) or
``export_public`` (public: each kelurahan that holds sites gets one dot at its representative point and no
site names, as the public HTML export generalises them).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from .. import settings
from .._errors import P4gnError
from ..identity import User, authorize
from ..render import tiles
from ..store.base import Store
from .records import list_sites


def export_mbtiles(store: Store, user: User, out: str | Path, *, public: bool = False, min_zoom: int = 10,
                   max_zoom: int = 15) -> dict:
    """Write the MBTiles file ``out``; return what :func:`geo_p4gn.render.tiles.write_mbtiles` returns."""
    authorize(user, "export_public" if public else "export")
    if not 0 <= min_zoom <= max_zoom <= 18:

        msg = f"zooms must be 0 <= min ({min_zoom}) <= max ({max_zoom}) <= 18"
        raise P4gnError(msg)
    b = store.boundaries
    sites = list_sites(store, user)
    if len(sites):
        if public:
            kel = b.kelurahan.set_index("code")
            codes = sorted(set(sites["kelurahan_code"].dropna()) & set(kel.index))
            sites = gpd.GeoDataFrame({"name": [""] * len(codes)},
                                     geometry=shapely.point_on_surface(kel.loc[codes].geometry.to_numpy()),
                                     crs=settings.crs)
        else:
            sites = gpd.GeoDataFrame({"name": sites["name"].astype(str).to_numpy()},
                                     geometry=sites.to_crs(settings.crs).geometry.to_numpy(), crs=settings.crs)
    levels = {level: b.layer(level)[["name", "geometry"]] for level in ("kota", "kecamatan", "kelurahan")}
    return tiles.write_mbtiles(out, levels, sites if len(sites) else None, min_zoom=min_zoom, max_zoom=max_zoom,
                               name="P4GN DKI Jakarta" + (" (publik)" if public else ""),
                               attribution="Batas: cahyadsn/wilayah_boundaries (MIT); kode: Kemendagri")


__all__ = ["export_mbtiles"]
