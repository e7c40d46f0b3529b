"""Who may do what: the verified identity (:class:`User`), the roles and the permission matrix.

The lowest layer of access control, with no I/O: :mod:`geo_p4gn.auth` maps a sign-in to a :class:`User`,
and :mod:`geo_p4gn.services` calls :func:`authorize` before every action.

Roles
-----
``petugas`` (field team)
    records interventions; corrects or deletes their OWN records created within the last
    :data:`geo_p4gn.settings.own_edit_days` days; sees their own records and the site registry.
``perencana`` (planner)
    reads everything; exports for internal use (not the public exports).
``pimpinan`` (manager)
    planner + public exports + the site registry + importing files + reviewing possible duplicates.
``admin``
    everything: users and roles, taxonomy, any edit or delete, restoring deleted records, the audit
    log, backups and restores.

:data:`ROLE_ACTIONS` is the whole matrix; ``tests/integration/test_auth_matrix.py`` walks every cell.

Examples
--------
>>> petugas = User("ani@example.org", "petugas")
>>> can(petugas, "record"), can(petugas, "export")
(True, False)
>>> authorize(petugas, "export")
Traceback (most recent call last):
...
geo_p4gn._errors.PermissionDenied: ani@example.org (petugas, field team) may not export data for internal use
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from types import MappingProxyType

from . import settings
from ._errors import PermissionDenied
from .records import Intervention

#: Roles, in increasing order of power, with their English descriptions.
ROLES: Mapping[str, str] = MappingProxyType({
    "petugas": "field team",
    "perencana": "planner",
    "pimpinan": "manager",
    "admin": "administrator",
})

#: Every action, with the phrase used in refusals ("... may not <phrase>").
ACTIONS: Mapping[str, str] = MappingProxyType({
    "record": "record interventions",
    "read_own": "see their own records",
    "read_sites": "see the site registry",
    "edit_own": "correct this record",
    "delete_own": "delete this record",
    "edit_any": "edit records made by others",
    "delete_any": "delete records made by others",
    "restore": "restore deleted records",
    "read": "read all records",
    "export": "export data for internal use",
    "export_public": "make public exports",
    "import": "import files",
    "manage_sites": "change the site registry",
    "manage_users": "manage users and roles",
    "manage_taxonomy": "change the taxonomy",
    "audit_read": "read the audit log",
    "backup": "make backups",
    "restore_backup": "restore the store from a backup",
    "manage_database": "grant database roles",
    "review_duplicates": "review possible duplicates",
})

_FIELD = frozenset({"record", "read_own", "read_sites", "edit_own", "delete_own"})
_PLANNER = frozenset({"read", "read_own", "read_sites", "export"})
_MANAGER = _PLANNER | {"export_public", "manage_sites", "import", "review_duplicates"}

#: Which role may do which action (the whole permission matrix).
ROLE_ACTIONS: Mapping[str, frozenset[str]] = MappingProxyType({
    "petugas": _FIELD,
    "perencana": _PLANNER,
    "pimpinan": _MANAGER,
    "admin": frozenset(ACTIONS),
})

#: Actions that are about one record and need it (``record=``) to be decided.
OWN_ACTIONS = frozenset({"edit_own", "delete_own"})

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,253}")


@dataclasses.dataclass(frozen=True)
class User:
    """A verified identity and its role. ``name`` is what the audit log records as "who"."""

    name: str
    role: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            msg = (f"user name {self.name!r}: 1-254 characters, letters, digits and . _ @ + - "
                   "(starting with a letter or digit)")
            raise PermissionDenied(msg)
        if self.role not in ROLES:
            msg = f"user {self.name}: unknown role {self.role!r} (roles: {', '.join(ROLES)})"
            raise PermissionDenied(msg)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role}, {ROLES[self.role]})"


#: The user of the clearly labelled single-user laptop mode (no OIDC, no local accounts configured).
SINGLE_USER = User("pengguna-lokal", "admin")


# -- permission checks ---------------------------------------------------------------------------
def _created_at(record: Intervention) -> dt.datetime | None:
    if not record.created_at:
        return None
    try:
        when = dt.datetime.fromisoformat(str(record.created_at))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def authorize(user: User, action: str, *, record: Intervention | None = None,
              now: dt.datetime | None = None) -> None:
    """Return when ``user`` may do ``action``; raise :class:`~geo_p4gn.PermissionDenied` saying why not.

    ``edit_own`` and ``delete_own`` need the ``record``: allowed when the user made it
    (``created_by == user.name``) less than :data:`geo_p4gn.settings.own_edit_days` days before ``now``
    (default: the current time). Unknown actions and roles are refused.
    """
    if not isinstance(user, User):
        msg = f"no signed-in user (got {type(user).__name__}); sign in first"
        raise PermissionDenied(msg)
    if action not in ACTIONS:
        msg = f"unknown action {action!r}: refused"
        raise PermissionDenied(msg)
    allowed = ROLE_ACTIONS.get(user.role, frozenset())
    if action not in allowed:
        msg = f"{user.label} may not {ACTIONS[action]}"
        raise PermissionDenied(msg)
    if action in OWN_ACTIONS:
        if record is None:
            msg = f"{user.label}: {action} is decided per record, and no record was given"
            raise PermissionDenied(msg)
        if record.created_by != user.name:
            msg = f"{user.label} may not {ACTIONS[action]}: record {record.id} was made by someone else"
            raise PermissionDenied(msg)
        created = _created_at(record)
        now = now or dt.datetime.now(dt.UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        window = dt.timedelta(days=settings.own_edit_days)
        if created is None or not (now - window <= created <= now + dt.timedelta(minutes=5)):
            msg = (f"{user.label} may not {ACTIONS[action]}: record {record.id} was made on "
                   f"{record.created_at}, more than {settings.own_edit_days} days ago; ask an administrator")
            raise PermissionDenied(msg)


def can(user: User, action: str, *, record: Intervention | None = None, now: dt.datetime | None = None) -> bool:
    """True when :func:`authorize` would allow it (for showing or hiding UI; the services still check)."""
    try:
        authorize(user, action, record=record, now=now)
    except PermissionDenied:
        return False
    return True


def allowed_actions(user: User) -> frozenset[str]:
    """The actions the user's role grants (``edit_own``/``delete_own`` still depend on the record)."""
    return ROLE_ACTIONS.get(user.role, frozenset())


def cache_scope(user: User) -> tuple[str, str]:
    """What a cache of service results must include in its key: the role, and the name for field teams.

    A field team sees only their own records, so their results differ per person; the other roles see
    the same data as everyone else of their role.
    """
    return (user.role, user.name if "read" not in allowed_actions(user) else "*")
