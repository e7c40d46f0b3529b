"""Administration: the audit log, backups and restores, setting up a store, database roles, accounts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import auth, seed
from .._errors import ValidationError
from ..identity import User, authorize
from ..store.base import GrantsAppRoles, Store
from ..store.restore import restore_from


# -- audit, backup -------------------------------------------------------------------------------
def audit_log(store: Store, user: User, *, entity: str | None = None, since_seq: int = 0,
              contents: bool = True) -> pd.DataFrame:
    """The audit log (admins). It is append-only for everyone: no service edits it. ``contents=False``:
    a new record's entry without the record's content (see :meth:`geo_p4gn.store.base.Store.audit_log`)."""
    authorize(user, "audit_read")
    return store.audit_log(entity=entity, since_seq=since_seq, contents=contents)


def backup_store(store: Store, user: User, out: str | Path) -> Path:
    """A consistent copy of the store at ``out`` while others keep writing (admins)."""
    authorize(user, "backup")
    out = Path(out)
    store.backup(str(out))
    return out


def restore_store(user: User, backup: str | Path, target: str, *, boundaries=None, taxonomy=None,
                  safety_dir: str | Path | None = None) -> dict:
    """Replace the store at ``target`` by ``backup`` (admins), after checking the backup; the store as it
    was is kept aside. See :func:`geo_p4gn.cli.admin.restore_from`."""
    authorize(user, "restore_backup")
    return restore_from(backup, target, user=user.name, boundaries=boundaries, taxonomy=taxonomy,
                        safety_dir=safety_dir)


# -- setting up a store --------------------------------------------------------------------------
def seed_actions(starter: bool) -> tuple[str, ...]:
    """What :func:`seed_store` needs: adding the seed sites changes the registry; the starter records are
    an import."""
    return ("manage_sites", "import") if starter else ("manage_sites",)


def seed_store(store: Store, user: User, *, starter: bool = True) -> dict[str, int]:
    """Add the seed sites (and the cited starter interventions) as ``user`` (managers, admins); idempotent.
    Returns what was created (:func:`geo_p4gn.seed.seed_store`)."""
    for action in seed_actions(starter):
        authorize(user, action)
    return seed.seed_store(store, starter=starter, user=user.name)


def grant_app_role(store: Store, user: User, role: str) -> list[str]:
    """Let the database role ``role`` use a PostGIS store without owning it (admins); returns the
    statements run. Refused for a GeoPackage store."""
    authorize(user, "manage_database")
    if not isinstance(store, GrantsAppRoles):
        msg = "db grant-app-role needs a PostGIS store (a postgresql:// URL in --store or GEO_P4GN_STORE)"
        raise ValidationError(msg)
    return list(store.grant_app_role(role))


# -- users (delegates to auth) -------------------------------------------------------------------
def add_user(user: User, name: str, role: str, *, password: str | None = None, path=None) -> None:
    authorize(user, "manage_users")
    auth.add_user(name, role, password=password, path=path)


def set_role(user: User, name: str, role: str, *, path=None) -> None:
    authorize(user, "manage_users")
    auth.set_role(name, role, path=path)


def set_password(user: User, name: str, password: str, *, path=None) -> None:
    """Admins set anyone's password; everyone may change their own."""
    if name != user.name:
        authorize(user, "manage_users")
    auth.set_password(name, password, path=path)


def remove_user(user: User, name: str, *, path=None) -> None:
    authorize(user, "manage_users")
    auth.remove_user(name, path=path)


def list_users(user: User, *, path=None) -> list[User]:
    authorize(user, "manage_users")
    return auth.list_users(path=path)
