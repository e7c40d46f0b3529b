"""The repository contract: what every intervention store does, whatever it is stored in.

Backends: :mod:`geo_p4gn.store.geopackage` (the embedded default, one GeoPackage file) and
:mod:`geo_p4gn.store.postgis` (a PostGIS database). One contract test suite runs against both.

Guarantees every backend gives:

- ``add`` is idempotent: the same id with the same content is a no-op (``"unchanged"``); the same id with
  different content raises :class:`~geo_p4gn.ConflictError` and changes nothing.
- ``add_many`` is one transaction: the whole batch is stored or none of it.
- every change writes an audit entry (who, when, action, before, after); an edit keeps the previous
  version (``version`` increases); delete is soft and ``restore`` undoes it.
- the kelurahan code is assigned by the store from the geometry (never typed by hand).
"""

from __future__ import annotations

import builtins
import dataclasses
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, runtime_checkable

import geopandas as gpd
import pandas as pd

from ..filters import Filters
from ..records import Intervention

if TYPE_CHECKING:  # annotations only: the store modules load the boundaries and taxonomy lazily
    from ..boundaries import Boundaries
    from ..taxonomy import Taxonomy

AddOutcome = Literal["created", "unchanged"]
SiteOutcome = Literal["created", "updated", "unchanged"]

#: Columns of the audit log.
AUDIT_FIELDS = ("seq", "entity", "entity_id", "action", "who", "at", "before", "after")


@dataclasses.dataclass(frozen=True)
class BatchResult:
    created: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.unchanged


@runtime_checkable
class Store(Protocol):
    """Everything the services, importers, renderers, HTTP routes and the app may use of a store.

    A store is a context manager (``with open_store(url) as store:`` closes it). ``builtins.list`` is
    spelled out below because the method :meth:`list` shadows the builtin inside the class body.
    """

    #: Where the store is: a GeoPackage path or a PostGIS URL (may hold a password: show
    #: :func:`geo_p4gn.store.safe_url`).
    url: str

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def close(self) -> None: ...

    # reference data, loaded on first use unless given when the store was opened
    @property
    def boundaries(self) -> Boundaries: ...
    @property
    def taxonomy(self) -> Taxonomy: ...
    @taxonomy.setter
    def taxonomy(self, value: Taxonomy) -> None: ...  # records are checked against it from then on

    # interventions
    def add(self, rec: Intervention, *, user: str) -> AddOutcome: ...
    def add_many(self, recs: Sequence[Intervention], *, user: str) -> BatchResult: ...
    def get(self, rec_id: str, *, include_deleted: bool = False) -> Intervention: ...
    def update(self, rec_id: str, changes: dict[str, Any], *, user: str, expected_version: int | None = None
               ) -> Intervention: ...
    def delete(self, rec_id: str, *, user: str) -> None: ...
    def restore(self, rec_id: str, *, user: str) -> None: ...
    def list(self, filters: Filters | None = None, *, include_deleted: bool = False) -> gpd.GeoDataFrame: ...
    def history(self, rec_id: str) -> pd.DataFrame: ...
    def versions(self, rec_id: str) -> builtins.list[Intervention]: ...

    # sites
    def upsert_site(self, site: dict[str, Any], *, user: str) -> SiteOutcome: ...
    def get_site(self, site_id: str) -> dict[str, Any]: ...
    def list_sites(self) -> gpd.GeoDataFrame: ...

    # duplicate reviews (geo_p4gn.store._reviews): decisions on flagged pairs, audited and reversible
    def duplicate_reviews(self) -> pd.DataFrame: ...
    def confirmed_duplicates(self) -> frozenset[str]: ...
    def review_duplicate(self, record_id: str, other_id: str, decision: str, *, user: str) -> str: ...
    def unreview_duplicate(self, record_id: str, other_id: str | None = None, *, user: str) -> int: ...

    # IKRN grades (geo_p4gn.store._grades): BNN's yearly category per kelurahan, imported, audited
    def ikrn_grades(self) -> pd.DataFrame: ...
    def import_ikrn_grades(self, grades: pd.DataFrame, *, user: str) -> dict[str, int]: ...

    # the audit log
    def audit_log(self, *, entity: str | None = None, since_seq: int = 0,
                  contents: bool = True) -> pd.DataFrame: ...
    def log_event(self, entity: str, entity_id: str, action: str, user: str, before: object = None,
                  after: object = None) -> None: ...

    # housekeeping
    def data_version(self) -> str: ...
    def check_integrity(self) -> builtins.list[str]: ...
    def backup(self, out: str | os.PathLike[str]) -> None: ...
    def mark_restored(self, *, backup: str, safety_copy: str | None, previous: int, user: str) -> int: ...


@runtime_checkable
class GrantsAppRoles(Protocol):
    """What a store that lives in a database server adds (PostGIS): letting another role use it."""

    def grant_app_role(self, role: str) -> builtins.list[str]: ...
