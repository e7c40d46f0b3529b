"""Coverage tables and gap lists, imports and exports: each checked against the role first."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .. import compare, coverage, importers
from ..filters import Filters
from ..filters import resolve_filters as _resolve_filters
from ..identity import User, authorize
from ..importers import ImportReport, limits
from ..render import data as export_data
from ..render import html as _export_html
from ..store.base import Store
from .duplicates import coverage_records, without_duplicates
from .ikrn import window_sites
from .records import list_sites


# -- filters -------------------------------------------------------------------------------------
def resolve_filters(store: Store, user: User, filters: Filters, *, areas=None, taxonomy=None) -> Filters:
    """``filters`` with areas, sites, types, actors and IKRN categories given by code or name replaced by
    their codes (:func:`geo_p4gn.filters.resolve_filters`); a value that matches nothing raises
    :class:`~geo_p4gn.filters.FilterValueError` naming it. ``areas`` and ``taxonomy`` default to the store's."""
    authorize(user, "read_sites")
    return _resolve_filters(filters, areas=store.boundaries.kelurahan if areas is None else areas,
                            sites=list_sites(store, user), taxonomy=store.taxonomy if taxonomy is None else taxonomy)


# -- coverage ------------------------------------------------------------------------------------
def _coverage_inputs(store: Store, user: User, filters: Filters | None
                     ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Filters]:
    """Records (every filter is applied by coverage; the store only trims what lies after the window) and
    sites, for roles that read every record."""
    authorize(user, "read")
    filters = filters or Filters()
    records = coverage_records(store, user, Filters(date_to=filters.date_to))  # confirmed duplicates left out
    return records, window_sites(store, user, filters), filters  # IKRN: the grades of the window's year


def coverage_table(store: Store, user: User, level: str = "kelurahan", filters: Filters | None = None, *,
                   as_of: dt.date | None = None, areas=None, taxonomy=None) -> pd.DataFrame:
    """The coverage table of :func:`geo_p4gn.coverage.coverage_table` over the store (planners and up).
    ``areas`` (the kelurahan table) and ``taxonomy`` default to the store's."""
    records, sites, filters = _coverage_inputs(store, user, filters)
    return coverage.coverage_table(records, sites, store.boundaries.kelurahan if areas is None else areas,
                                   store.taxonomy if taxonomy is None else taxonomy, level, filters, as_of=as_of)


def gap_list(store: Store, user: User, filters: Filters | None = None, *, levels=("site", "kelurahan"),
             as_of: dt.date | None = None, areas=None, taxonomy=None) -> pd.DataFrame:
    """The ranked gap list of :func:`geo_p4gn.coverage.gap_list` over the store (planners and up)."""
    records, sites, filters = _coverage_inputs(store, user, filters)
    return coverage.gap_list(records, sites, store.boundaries.kelurahan if areas is None else areas,
                             store.taxonomy if taxonomy is None else taxonomy, filters, levels=tuple(levels),
                             as_of=as_of)


def compare_periods(store, user: User, a, b, filters: Filters | None = None, *, level: str = "kelurahan",
                    areas=None, taxonomy=None):
    """Period ``a`` against period ``b`` (:func:`geo_p4gn.compare.compare_periods`) over the store (planners
    and up); each period is ``(first day, last day)``."""
    records, sites, filters = _coverage_inputs(store, user, dataclasses.replace(filters or Filters(), date_to=max(
        a[1], b[1])))
    return compare.compare_periods(records, sites, store.boundaries.kelurahan if areas is None else areas,
                                   store.taxonomy if taxonomy is None else taxonomy, a, b,
                                   dataclasses.replace(filters, date_from=None, date_to=None), level=level)


# -- import and export ---------------------------------------------------------------------------
def import_file(store: Store, user: User, path: str | Path, **kw: Any) -> ImportReport:
    """Import a CSV, XLSX or GeoJSON file (managers, admins) after the upload limits are checked.

    Keyword arguments go to :func:`geo_p4gn.importers.import_file` (``dry_run``, ``rejects_path``,
    ``progress``), except ``name``: the user's file name, for the limits' messages. The limits are
    checked first, by streaming, so a 1 GB file or a zip bomb is refused before any parser sees it.
    """
    authorize(user, "import")
    name = kw.pop("name", None)
    limits.check_upload(path, name=name)
    kw.setdefault("source", name or str(path))  # content ids: the user's file name, not a temporary path
    return importers.import_file(store, path, user=user.name, **kw)


def _export_action(public: bool) -> str:
    return "export_public" if public else "export"


def export_records(store: Store, user: User, out: str | Path, fmt: str, filters: Filters | None = None,
                   public: bool = False, **kw: Any) -> int:
    """Write the (filtered) records as csv/xlsx/geojson/gpkg (:func:`geo_p4gn.render.data.export_records`;
    ``kw``: hxl, lang); returns the number of records written. ``public`` exports need ``export_public``."""
    authorize(user, _export_action(public))
    kw.setdefault("boundaries", store.boundaries)
    kw.setdefault("taxonomy", store.taxonomy)
    return export_data.export_records(store, out, fmt, filters, public=public, **kw)


def export_html(store: Store, user: User, out: str | Path | None, filters: Filters | None = None,
                public: bool = False, **kw: Any) -> str:
    """The shareable HTML map (:func:`geo_p4gn.render.html.export_html`), written to ``out`` unless None;
    returns the page. Internal maps need ``export``, public ones ``export_public``. ``kw``: lang, metric,
    tiles, as_of."""
    authorize(user, _export_action(public))
    kw.setdefault("boundaries", store.boundaries)
    kw.setdefault("taxonomy", store.taxonomy)
    # the records as export_html reads a store (every filter but the window start), confirmed duplicates left out
    records = without_duplicates(store, store.list(dataclasses.replace(filters or Filters(), date_from=None)))
    return _export_html.export_html((records, window_sites(store, user, filters)), out, filters, public=public,
                                    **kw)
