"""Interventions and sites: record, correct, delete, restore, list, history; the site registry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd

from .._errors import NotFoundError, PermissionDenied
from ..filters import Filters
from ..identity import User, allowed_actions, authorize
from ..records import Intervention, validate_record
from ..store.base import AddOutcome, SiteOutcome, Store


def _authorize_record_change(user: User, own: str, anyone: str, rec: Intervention,
                             now: dt.datetime | None) -> None:
    if anyone in allowed_actions(user):
        return
    authorize(user, own, record=rec, now=now)


# -- interventions -------------------------------------------------------------------------------
def record_intervention(store: Store, user: User, raw: dict[str, Any]) -> tuple[Intervention, AddOutcome]:
    """Validate and store one new intervention made by ``user``; return it and ``"created"``/``"unchanged"``.

    ``raw`` is the form's dict (see :func:`geo_p4gn.records.validate_record`); its ``id`` is made when the
    form opens, so a double submit stores one record. The record's who/when come from the store.
    """
    authorize(user, "record")
    rec = validate_record(raw, taxonomy=store.taxonomy, locate=store.boundaries.locate)
    outcome = store.add(rec, user=user.name)
    stored = store.get(rec.id, include_deleted=True)
    if stored.created_by != user.name and "read" not in allowed_actions(user):
        return rec, outcome  # the same content stored earlier by someone else: do not show who
    return stored, outcome


def sees_authors(user: User) -> bool:
    """Whether the user may see who created and edited any record (``created_by``, ``updated_by``, the
    record history): administrators only. Everyone else sees it for the records they made themselves."""
    return "audit_read" in allowed_actions(user)


def _without_authors(frame: gpd.GeoDataFrame, user: User) -> gpd.GeoDataFrame:
    """The records frame with who created and edited each record left out, for readers who are not admins.

    Per role, not per person (the app shares one cached frame among the people of a role); a field team's
    frame holds their own records only, so it keeps the names."""
    if sees_authors(user) or "read" not in allowed_actions(user):
        return frame
    for col in ("created_by", "updated_by"):
        if col in frame.columns:
            frame[col] = None
    return frame


def get_intervention(store: Store, user: User, rec_id: str, *, include_deleted: bool = False) -> Intervention:
    """One record. Field teams get only their own (others are "not found", leaking nothing); readers who are
    not admins get others' records without who created or edited them."""
    if include_deleted:
        authorize(user, "restore")
    if "read" in allowed_actions(user):
        rec = store.get(rec_id, include_deleted=include_deleted)
        if sees_authors(user) or rec.created_by == user.name:
            return rec
        return dataclasses.replace(rec, created_by=None, updated_by=None)
    authorize(user, "read_own")
    rec = store.get(rec_id, include_deleted=include_deleted)
    if rec.created_by != user.name:
        msg = f"no intervention with id {rec_id}"
        raise NotFoundError(msg)
    return rec


def edit_intervention(store: Store, user: User, rec_id: str, changes: dict[str, Any],
                      expected_version: int | None = None, *, now: dt.datetime | None = None) -> Intervention:
    """Edit a record (``changes`` as in :meth:`Store.update`); own recent records, or any with ``edit_any``."""
    rec = store.get(rec_id)
    _authorize_record_change(user, "edit_own", "edit_any", rec, now)
    return store.update(rec_id, changes, user=user.name, expected_version=expected_version)


def delete_intervention(store: Store, user: User, rec_id: str, *, now: dt.datetime | None = None) -> None:
    """Soft-delete a record: own recent records, or any with ``delete_any``. Admins can restore it."""
    rec = store.get(rec_id)
    _authorize_record_change(user, "delete_own", "delete_any", rec, now)
    store.delete(rec_id, user=user.name)


def restore_intervention(store: Store, user: User, rec_id: str) -> None:
    """Undo a soft delete (admins)."""
    authorize(user, "restore")
    store.restore(rec_id, user=user.name)


def list_interventions(store: Store, user: User, filters: Filters | None = None, *,
                       include_deleted: bool = False) -> gpd.GeoDataFrame:
    """Records as a GeoDataFrame: all of them for roles that ``read``; a field team's own otherwise.

    ``include_deleted`` (to find what to restore) needs ``restore``.
    """
    if include_deleted:
        authorize(user, "restore")
    if "read" in allowed_actions(user):
        return _without_authors(store.list(filters, include_deleted=include_deleted), user)
    authorize(user, "read_own")
    frame = store.list(filters, include_deleted=include_deleted)
    return frame[frame["created_by"] == user.name].reset_index(drop=True)


def record_history(store: Store, user: User, rec_id: str) -> pd.DataFrame:
    """The audit entries of one record (who created and edited it, when, before and after): administrators,
    and the person who made the record. Planners and managers read records, not who made them."""
    if not sees_authors(user):
        rec = get_intervention(store, user, rec_id)  # a field team: own record, else "not found"
        if rec.created_by != user.name:
            msg = (f"{user.label} may not see who created and edited record {rec_id}: only the person who "
                   "made it and administrators may")
            raise PermissionDenied(msg)
    return store.history(rec_id)


# -- sites ---------------------------------------------------------------------------------------
def list_sites(store: Store, user: User) -> gpd.GeoDataFrame:
    authorize(user, "read_sites")
    return store.list_sites()


def upsert_site(store: Store, user: User, site: dict[str, Any]) -> SiteOutcome:
    """Add or edit a site (managers, admins); returns ``"created"``, ``"updated"`` or ``"unchanged"``."""
    authorize(user, "manage_sites")
    return store.upsert_site(site, user=user.name)


def site_history(store: Store, user: User, site_id: str) -> pd.DataFrame:
    """The audit entries of one site (whoever may change the registry)."""
    authorize(user, "manage_sites")
    log = store.audit_log(entity="site")
    return log[log["entity_id"] == site_id].reset_index(drop=True)
