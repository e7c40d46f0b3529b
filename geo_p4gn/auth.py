"""Who is signed in, and with which role: identities are mapped to roles on the server, never by the browser.

Three modes (:func:`auth_mode`):

``oidc``
    Streamlit's ``st.login`` with the agency's OpenID Connect provider (an ``[auth]`` section in
    ``.streamlit/secrets.toml``). The app passes the verified claims (``st.user``) to :func:`oidc_user`,
    which looks the identity up in the users file. A verified e-mail is used when the provider says
    ``email_verified = true``; otherwise the provider's subject (``sub``). An identity that is not in the
    users file is refused: signing in with the provider is not enough to get a role.
``local``
    Accounts in the users file with an argon2id password hash (:func:`verify_password`), for an intranet
    without an identity provider. Five wrong passwords in a row lock the account for 15 minutes; a
    refused sign-in never says whether the account exists or is locked.
``single``
    Neither is configured and there is no users file at all: one person on a laptop,
    :data:`geo_p4gn.identity.SINGLE_USER` (an admin). The app must label it clearly. A users file that
    lists only provider identities while no provider is configured is refused (the app does not start). With a PostGIS store (a server) this mode is refused unless
    ``GEO_P4GN_SINGLE_USER=1`` says it is intended.

The users file
--------------
TOML at ``GEO_P4GN_USERS`` (default ``<data>/users.toml``), git-ignored, written with mode 0600 by
``geo-p4gn user ...`` under a file lock and replaced atomically::

    [users."ani@example.org"]
    role = "petugas"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."   # local accounts only

It is read afresh on every call: a role change or a removal applies at the user's next request (the
app looks the signed-in name up again on every run), and nothing about users is kept in module-level
state.

Why argon2id (``argon2-cffi``): it is the password hash OWASP recommends first, memory-hard (19 MiB per
hash here, OWASP's parameters), and the encoded hash carries its own salt and parameters, so they can be raised later
(:func:`verify_password` re-hashes on the next sign-in).

Environment
-----------
``GEO_P4GN_USERS``, ``GEO_P4GN_SINGLE_USER``, ``GEO_P4GN_OIDC_TRUST_EMAIL`` and ``GEO_P4GN_USER`` are read
in :mod:`geo_p4gn.settings` (documented there); this module reads ``settings.users_path`` and the others
each time it is called.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import KeyType, SingleKey

from . import settings
from ._errors import P4gnError, PermissionDenied, ValidationError, os_fault
from ._files import atomic_write, locked
from .identity import ROLES, SINGLE_USER, User

#: Shortest and longest accepted password (characters).
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
#: Wrong passwords in a row before the account is locked, and for how long.
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)

#: The one answer to a refused sign-in: an unknown name, a wrong password and a locked account all get it,
#: so that nobody learns from it whether an account exists.
_REFUSED = (f"unknown user or wrong password (after {MAX_FAILURES} wrong passwords in a row an account is "
            f"locked for {int(LOCKOUT.total_seconds() // 60)} minutes)")


def _path(path: str | os.PathLike | None) -> Path:
    return Path(path) if path is not None else settings.users_path


def _hasher():
    from argon2 import PasswordHasher

    # argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1): 0.1-0.2 s a hash on this project's
    # 2-core machines, where the library default (64 MiB, p = 4) took about 1 s
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


# -- the users file ------------------------------------------------------------------------------
def load_users(path: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """The users file as ``{name: {"role": ..., "password_hash": ...}}`` (empty when there is no file)."""
    p = _path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        msg = f"users file {p}: cannot be read ({exc.strerror or exc})"
        raise P4gnError(msg) from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"users file {p}: not valid TOML ({exc})"
        raise P4gnError(msg) from exc
    users = doc.get("users", {})
    if not isinstance(users, dict):
        msg = f"users file {p}: [users] must be a table"
        raise P4gnError(msg)
    out = {}
    for name, entry in users.items():
        if not isinstance(entry, dict):
            msg = f"users file {p}: users.{name!r} must be a table"
            raise P4gnError(msg)
        User(name, entry.get("role", ""))  # checks the name and the role
        out[name] = dict(entry)
    return out


def _dump(users: Mapping[str, Mapping[str, Any]]) -> str:
    """The users file's text (tomlkit): a table per user, names always quoted, empty fields left out.

    >>> print(_dump({"budi": {"role": "admin", "failures": 2, "locked_until": ""}}), end="")
    # geo-p4gn users: identity -> role (and a password hash for local accounts).
    # Managed with `geo-p4gn user ...`. Keep this file private (mode 0600) and out of git.
    <BLANKLINE>
    [users."budi"]
    role = "admin"
    failures = 2
    """
    doc = tomlkit.document()
    doc.add(tomlkit.comment("geo-p4gn users: identity -> role (and a password hash for local accounts)."))
    doc.add(tomlkit.comment("Managed with `geo-p4gn user ...`. Keep this file private (mode 0600) and out of git."))
    doc.add(tomlkit.nl())
    table = tomlkit.table(is_super_table=True)
    for name in sorted(users):
        entry = tomlkit.table()
        for key in ("role", "password_hash", "failures", "locked_until"):
            if users[name].get(key) not in (None, ""):
                entry.add(key, users[name][key])
        table.add(SingleKey(name, KeyType.Basic), entry)
    doc.add("users", table)
    return tomlkit.dumps(doc)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock around a read-modify-write of the users file (:func:`geo_p4gn._files.locked`)."""
    with contextlib.ExitStack() as stack:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(locked(path))
        except OSError as exc:
            msg = (f"users file {path}: cannot lock it ({exc.strerror or exc}); the app's account needs write "
                   "access to its folder (sign-in attempts are counted there)")
            raise P4gnError(msg) from exc
        yield


def _save(path: Path, users: Mapping[str, Mapping[str, Any]]) -> None:
    """Write the users file atomically, mode 0600 (called under :func:`_locked`)."""
    try:
        atomic_write(path, _dump(users), mode=0o600)
    except OSError as exc:
        raise os_fault(exc, doing="writing the users file") from exc


@contextlib.contextmanager
def _editing(path: str | os.PathLike | None) -> Iterator[dict[str, dict[str, Any]]]:
    p = _path(path)
    with _locked(p):
        users = load_users(p)
        yield users
        _save(p, users)


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        msg = f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        raise ValidationError(msg)


# -- managing users (the services check that the caller is an admin) ---------------------------
def add_user(name: str, role: str, *, password: str | None = None, path: str | os.PathLike | None = None) -> User:
    """Add a user (an OIDC identity, or a local account when a ``password`` is given)."""
    user = User(name, role)
    if password is not None:
        _check_password(password)
    with _editing(path) as users:
        if name in users:
            msg = f"user {name} already exists (use set-role or passwd)"
            raise ValidationError(msg)
        users[name] = {"role": role}
        if password is not None:
            users[name]["password_hash"] = _hasher().hash(password)
    return user


def _existing(users: dict, name: str) -> dict:
    if name not in users:
        msg = f"no user {name!r}"
        raise ValidationError(msg)
    return users[name]


def set_role(name: str, role: str, *, path: str | os.PathLike | None = None) -> User:
    user = User(name, role)
    with _editing(path) as users:
        _existing(users, name)["role"] = role
    return user


def set_password(name: str, password: str, *, path: str | os.PathLike | None = None) -> None:
    """Set a password (and clear any lockout)."""
    _check_password(password)
    with _editing(path) as users:
        entry = _existing(users, name)
        entry["password_hash"] = _hasher().hash(password)
        entry.pop("failures", None)
        entry.pop("locked_until", None)


def remove_user(name: str, *, path: str | os.PathLike | None = None) -> None:
    with _editing(path) as users:
        _existing(users, name)
        del users[name]


def list_users(path: str | os.PathLike | None = None) -> list[User]:
    return [User(name, e["role"]) for name, e in sorted(load_users(path).items())]


# -- identities ----------------------------------------------------------------------------------
def _lookup(users: Mapping[str, Mapping[str, Any]], identity: str) -> str | None:
    if identity in users:
        return identity
    if "@" in identity:  # e-mail addresses are matched without regard to case
        folded = identity.casefold()
        matches = [n for n in users if "@" in n and n.casefold() == folded]
        if len(matches) == 1:
            return matches[0]
    return None


def role_for(identity: str, *, path: str | os.PathLike | None = None) -> User:
    """The :class:`User` a verified identity (e-mail or OIDC subject) maps to; refused when not listed."""
    users = load_users(path)
    name = _lookup(users, str(identity or "").strip())
    if name is None:
        msg = f"{identity!r} has no role in this installation; ask an administrator to add you"
        raise PermissionDenied(msg)
    return User(name, users[name]["role"])


def oidc_identity(claims: Mapping[str, Any]) -> str:
    """The identity to look up from OIDC claims (``st.user``): a verified e-mail, else the subject."""
    email = claims.get("email")
    if email and (claims.get("email_verified") is True or settings.oidc_trust_email):
        return str(email)
    sub = claims.get("sub")
    if not sub:
        msg = "the identity provider gave neither a verified e-mail nor a subject"
        raise PermissionDenied(msg)
    return str(sub)


def oidc_user(claims: Mapping[str, Any], *, path: str | os.PathLike | None = None) -> User:
    """The role of a user signed in with ``st.login`` (pass ``st.user.to_dict()``)."""
    if not claims.get("is_logged_in", True):
        raise PermissionDenied("not signed in")
    return role_for(oidc_identity(claims), path=path)


def verify_password(name: str, password: str, *, path: str | os.PathLike | None = None,
                    now: dt.datetime | None = None) -> User:
    """Check a local account's password; return its :class:`User` or raise PermissionDenied.

    Unknown users, wrong passwords and locked accounts get the same message and take the same time (a
    hash is always checked, a dummy one for unknown users): the answer never tells whether an account
    exists. After :data:`MAX_FAILURES` wrong passwords in a row the account is locked for :data:`LOCKOUT`
    (even the right password is refused until then); a correct password resets the count.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    ph = _hasher()
    now = now or dt.datetime.now(dt.UTC)
    p = _path(path)
    ok = False
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        password = ""
    with _locked(p):
        users = load_users(p)
        key = _lookup(users, str(name or "").strip())
        entry = users.get(key) if key else None
        stored = entry.get("password_hash") if entry else None
        locked = False
        if entry and entry.get("locked_until"):
            try:
                locked = now < dt.datetime.fromisoformat(str(entry["locked_until"]))
            except ValueError:
                locked = True  # a damaged lock stays a lock
        try:
            ok = ph.verify(stored or _DUMMY_HASH, password) and stored is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if entry is None or stored is None or locked:
            # the same message as a wrong password, after the same work: a locked account is not told
            # apart from an unknown one (and guesses made while locked are not counted)
            raise PermissionDenied(_REFUSED)
        changed = False
        if ok:
            changed = bool(entry.pop("failures", None)) | bool(entry.pop("locked_until", None))
            if ph.check_needs_rehash(stored):
                entry["password_hash"] = ph.hash(password)
                changed = True
        else:
            entry["failures"] = int(entry.get("failures", 0)) + 1
            if entry["failures"] >= MAX_FAILURES:
                entry["locked_until"] = (now + LOCKOUT).isoformat()
                entry["failures"] = 0
            changed = True
        if changed:
            _save(p, users)
    if not ok:
        raise PermissionDenied(_REFUSED)
    return User(key, entry["role"])


# a hash of a random password, checked for unknown users so that they take as long as known ones
_DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$gRQXOYQoaAGf0LyhKYZ3+A$thEZpEBxHKxrk4gs1cwvnOqiLY3QAqx/bW6ZOLGtEJU"


def has_local_accounts(path: str | os.PathLike | None = None) -> bool:
    return any(e.get("password_hash") for e in load_users(path).values())


def auth_mode(*, oidc_configured: bool, store_url: str | None = None,
              path: str | os.PathLike | None = None) -> str:
    """``"oidc"``, ``"local"`` or ``"single"`` (see the module docstring).

    The app calls it with ``oidc_configured`` = whether ``st.secrets`` has an ``[auth]`` section.
    The single-user mode is chosen only when there is no users file at all: a users file that lists
    identities of a sign-in provider but no provider is configured (or that lists nobody) is refused, never
    read as "everyone is the local admin".
    """
    if oidc_configured:
        return "oidc"
    users = load_users(path)
    if any(e.get("password_hash") for e in users.values()):
        return "local"
    if users:
        msg = (f"the users file {_path(path)} lists {len(users)} identit{'y' if len(users) == 1 else 'ies'} of a "
               "sign-in provider but no provider is configured (no [auth] in .streamlit/secrets.toml) and no "
               "local account has a password: refusing to start rather than letting everyone in as the local "
               "administrator. Configure the OIDC provider (docs/deployment.md) or give an account a password "
               "with `geo-p4gn user passwd NAME --password --as ADMIN`")
        raise PermissionDenied(msg)
    if _path(path).exists():
        msg = (f"the users file {_path(path)} lists nobody: refusing the single-user mode. Add an account "
               "(`geo-p4gn user add ...`), or remove the file on a one-person laptop")
        raise PermissionDenied(msg)
    url = str(store_url or settings.store_url)
    server = url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))
    if server and not settings.allow_single_user_server:
        msg = ("no sign-in is configured (no OIDC [auth] in .streamlit/secrets.toml, no local accounts in "
               f"{_path(path)}) and the store is a PostGIS server: refusing the single-user mode. Configure "
               "a sign-in (docs/deployment.md) or set GEO_P4GN_SINGLE_USER=1")
        raise PermissionDenied(msg)
    return "single"


def cli_user(as_name: str | None = None, *, path: str | os.PathLike | None = None) -> User:
    """Who the ``geo-p4gn`` command acts as: ``--as NAME`` (or ``GEO_P4GN_USER``), looked up in the users
    file; with no users file at all, :data:`~geo_p4gn.identity.SINGLE_USER`.

    The command runs with the operator's own access to the store file or database, which is the real
    boundary on a server; the role check makes the command give the same answers as the app and puts
    the right name in the audit log.
    """
    name = as_name or settings.cli_user_name()
    if name:
        return role_for(name, path=path)
    if not load_users(path) and not _path(path).exists():
        return SINGLE_USER
    msg = (f"this installation has user accounts ({_path(path)}): say who you are with --as NAME "
           "(or GEO_P4GN_USER)")
    raise PermissionDenied(msg)


__all__ = [
    "ROLES", "add_user", "auth_mode", "cli_user", "list_users", "load_users", "oidc_identity", "oidc_user",
    "remove_user", "role_for", "set_password", "set_role", "verify_password",
]
