"""Intervention stores: one contract (:class:`~geo_p4gn.store.base.Store`), two backends.

>>> store = open_store("/tmp/example.gpkg")  # doctest: +SKIP
>>> store = open_store("postgresql://user@host/db")  # doctest: +SKIP
"""

from __future__ import annotations

from .. import settings
from .base import AUDIT_FIELDS, BatchResult, Store

#: URL prefixes of a PostGIS store; anything else is a GeoPackage path.
POSTGIS_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgis(url: str) -> bool:
    """Whether ``url`` names a PostGIS store (else a GeoPackage file)."""
    return str(url).startswith(POSTGIS_PREFIXES)


def safe_url(url: str) -> str:
    """The store URL as it may be shown: a PostGIS URL without its user and password.

    >>> safe_url("postgresql://app:secret@db.example:5432/p4gn")
    'postgresql://db.example:5432/p4gn'
    >>> safe_url("data/p4gn.gpkg")
    'data/p4gn.gpkg'
    """
    if not is_postgis(url):
        return str(url)
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(str(url).replace("postgresql+psycopg://", "postgresql://"))
    return f"postgresql://{info.get('host', '')}:{info.get('port', '')}/{info.get('dbname', '')}"


def open_store(url: str | None = None, *, boundaries=None, taxonomy=None) -> Store:
    """Open (creating if needed) the store at ``url``: a GeoPackage path or a ``postgresql://`` URL.

    Default: ``GEO_P4GN_STORE``, else ``<data>/interventions/p4gn.gpkg``.
    """
    url = str(url or settings.store_url)
    if is_postgis(url):
        from .postgis import PostGISStore  # only the backend asked for: psycopg loads for PostGIS alone

        return PostGISStore(url, boundaries=boundaries, taxonomy=taxonomy)
    from .geopackage import GeoPackageStore  # likewise (restore.py and the tests import it directly)

    return GeoPackageStore(url.removeprefix("file:"), boundaries=boundaries, taxonomy=taxonomy)


__all__ = ["AUDIT_FIELDS", "POSTGIS_PREFIXES", "BatchResult", "Store", "is_postgis", "open_store", "safe_url"]
