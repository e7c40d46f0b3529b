"""Intervention stores: one contract (:class:`~geo_p4gn.store.base.Store`), two backends.

>>> store = open_store("/tmp/example.gpkg")  # doctest: +SKIP
>>> store = open_store("postgresql://user@host/db")  # doctest: +SKIP
"""

from __future__ import annotations

from .. import settings
from .base import AUDIT_FIELDS, BatchResult, Store


def open_store(url: str | None = None, *, boundaries=None, taxonomy=None) -> Store:
    """Open (creating if needed) the store at ``url``: a GeoPackage path or a ``postgresql://`` URL.

    Default: ``GEO_P4GN_STORE``, else ``<data>/interventions/p4gn.gpkg``.
    """
    url = str(url or settings.store_url)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from .postgis import PostGISStore

        return PostGISStore(url, boundaries=boundaries, taxonomy=taxonomy)
    from .geopackage import GeoPackageStore

    return GeoPackageStore(url.removeprefix("file:"), boundaries=boundaries, taxonomy=taxonomy)


__all__ = ["AUDIT_FIELDS", "BatchResult", "Store", "open_store"]
