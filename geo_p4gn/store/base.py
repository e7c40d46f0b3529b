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

import dataclasses
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd

from ..filters import Filters
from ..records import Intervention

AddOutcome = Literal["created", "unchanged"]

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
    url: str

    # interventions
    def add(self, rec: Intervention, *, user: str) -> AddOutcome: ...
    def add_many(self, recs: Sequence[Intervention], *, user: str) -> BatchResult: ...
    def get(self, rec_id: str, *, include_deleted: bool = False) -> Intervention: ...
    def update(self, rec_id: str, changes: dict, *, user: str, expected_version: int | None = None
               ) -> Intervention: ...
    def delete(self, rec_id: str, *, user: str) -> None: ...
    def restore(self, rec_id: str, *, user: str) -> None: ...
    def list(self, filters: Filters | None = None, *, include_deleted: bool = False) -> gpd.GeoDataFrame: ...
    def history(self, rec_id: str) -> pd.DataFrame: ...
    def versions(self, rec_id: str) -> list[Intervention]: ...

    # sites
    def upsert_site(self, site: dict, *, user: str) -> Literal["created", "updated", "unchanged"]: ...
    def get_site(self, site_id: str) -> dict: ...
    def list_sites(self) -> gpd.GeoDataFrame: ...

    # housekeeping
    def audit_log(self, *, entity: str | None = None, since_seq: int = 0) -> pd.DataFrame: ...
    def data_version(self) -> str: ...
    def check_integrity(self) -> list[str]: ...
    def backup(self, out: str) -> None: ...
    def close(self) -> None: ...
