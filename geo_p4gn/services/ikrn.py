"""IKRN history (:mod:`geo_p4gn.ikrn`): importing BNN's yearly kelurahan grades, their history, the before/after
table, and which categories a coverage window uses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import ikrn
from ..filters import Filters, resolve_filters
from ..identity import User, authorize
from ..importers import limits
from .duplicates import coverage_records
from .records import list_sites


def _grades(store) -> pd.DataFrame:
    """The store's grades; none for a stand-in store without them."""
    if hasattr(store, "ikrn_grades"):
        return store.ikrn_grades()
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "year" else object) for c in ikrn.GRADE_FIELDS})


def import_ikrn(store, user: User, path: str | Path, *, name: str | None = None, dry_run: bool = False
                ) -> dict[str, int]:
    """Import a CSV/XLSX of grades (managers and admins: ``import``), after the upload limits; one transaction,
    audited, idempotent. Returns ``{"rows", "created", "updated", "unchanged"}`` (a dry run writes nothing and
    counts every row as ``rows`` only). A row that cannot be read raises, naming the row and the field."""
    authorize(user, "import")
    limits.check_upload(path, name=name)
    grades = ikrn.read_grades(path, areas=store.boundaries.kelurahan, taxonomy=store.taxonomy)
    if dry_run:
        return {"rows": len(grades), "created": 0, "updated": 0, "unchanged": 0}
    return {"rows": len(grades), **store.import_ikrn_grades(grades, user=user.name)}


def ikrn_grades(store, user: User) -> pd.DataFrame:
    authorize(user, "read_sites")
    return store.ikrn_grades()


def ikrn_history(store, user: User, kelurahan: str | None = None) -> pd.DataFrame:
    """The grade history per kelurahan (:func:`geo_p4gn.ikrn.history`); ``kelurahan``: a code (or a name,
    resolved with the boundaries as the filters are)."""
    authorize(user, "read_sites")
    areas = store.boundaries.kelurahan
    code = None
    if kelurahan:
        code = resolve_filters(Filters(kelurahan=(kelurahan,)), areas=areas).kelurahan[0]
    return ikrn.history(store.ikrn_grades(), areas, code)


def ikrn_before_after(store, user: User, year: int, filters: Filters | None = None) -> pd.DataFrame:
    """:func:`geo_p4gn.ikrn.before_after` over the store's records (confirmed duplicates left out) for the
    kelurahan graded in ``year`` and ``year + 1`` (planners and up)."""
    authorize(user, "read")
    records = coverage_records(store, user, filters)
    return ikrn.before_after(records, store.ikrn_grades(), store.boundaries.kelurahan, store.taxonomy, int(year))


def ikrn_basis(store, user: User, filters: Filters | None) -> dict:
    """Which IKRN categories a coverage window uses (:func:`geo_p4gn.ikrn.basis`)."""
    authorize(user, "read_sites")
    return ikrn.basis(_grades(store), filters)


def window_sites(store, user: User, filters: Filters | None) -> pd.DataFrame:
    """The sites as a coverage window sees them: each with its kelurahan's grade of the window's year when grades
    of that year are imported (not graded: unknown), else with its own category."""
    sites = list_sites(store, user)
    return ikrn.sites_for_window(sites, _grades(store), filters)
