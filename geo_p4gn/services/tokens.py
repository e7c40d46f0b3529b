"""Capture tokens: a per-user secret for the offline capture page and ODK Collect, revocable and expiring.

A token is issued to a signed-in user (the app's "Perangkat lapangan" page, or the capture page's own
sign-in with a local account) and stands for that user on requests that cannot carry a Streamlit session:
the capture page's sends (``Authorization: Bearer ...``) and ODK Collect's Basic or Digest auth (the token
as the password; Collect uses Digest over plain HTTP, see :mod:`geo_p4gn.http.digest`). Only a SHA-256 of
each token is kept, and for Digest its HA1 (``MD5(user:realm:token)``, safe for a 256-bit random secret),
in a JSON file beside the users file (mode 0600, replaced atomically under a lock). The role is never
stored with a token: it is looked up in the users file on every request (:func:`geo_p4gn.auth.role_for`),
so a demoted or removed user's tokens follow at once.

Settings: ``GEO_P4GN_TOKENS`` (the token file) and ``GEO_P4GN_TOKEN_DAYS`` (a token's lifetime), read in
:mod:`geo_p4gn.settings`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from .. import auth, settings
from .._errors import P4gnError, PermissionDenied, ValidationError
from .._files import atomic_write
from ..identity import SINGLE_USER, User, allowed_actions, authorize

#: The token file.
tokens_path: Path = settings.capture_tokens_path
#: Days a token lasts.
token_days: int = settings.capture_token_days
#: Every token starts with this, so that a token is told apart from a password.
PREFIX = "gp4_"
#: The realm of the OpenRosa HTTP authentication: part of each token's Digest HA1, so it never changes.
REALM = "geo_p4gn"
_REFUSED = "unknown, expired or revoked capture token: sign in again to get a new one"


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """What is known about an issued token (never the token itself)."""

    token_id: str  # the first 12 hex digits of its hash: enough to name it in a list and revoke it
    user: str
    issued_at: str
    expires_at: str
    issued_by: str
    label: str


def _path(path) -> Path:
    return Path(path) if path is not None else tokens_path


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def digest_ha1(user: str, secret: str) -> str:
    """HTTP Digest's HA1 (RFC 7616, MD5): what the server needs to check a Digest answer made with ``secret``."""
    return hashlib.md5(f"{user}:{REALM}:{secret}".encode(), usedforsecurity=False).hexdigest()


def _load(p: Path) -> dict[str, dict]:
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        msg = f"token file {p}: cannot be read ({exc})"
        raise P4gnError(msg) from exc
    return doc.get("tokens", {}) if isinstance(doc, dict) else {}


@contextlib.contextmanager
def _editing(p: Path) -> Iterator[dict[str, dict]]:
    with auth._locked(p):  # the same POSIX lock as the users file, on the token file's own lock file
        tokens = _load(p)
        yield tokens
        atomic_write(p, json.dumps({"tokens": tokens}, indent=1, sort_keys=True), mode=0o600)


def _info(digest: str, entry: dict) -> TokenInfo:
    return TokenInfo(digest[:12], entry["user"], entry["issued_at"], entry["expires_at"],
                     entry.get("issued_by", entry["user"]), entry.get("label", ""))


def issue(caller: User, for_name: str | None = None, *, label: str = "", days: int | None = None,
          path=None, now: dt.datetime | None = None) -> tuple[str, TokenInfo]:
    """A new token for ``for_name`` (default: the caller). Anyone who may record gets one for themselves;
    a token for someone else needs ``manage_users`` (an administrator setting up a field team's phone).
    Returns the token (shown once, never stored) and its :class:`TokenInfo`."""
    name = for_name or caller.name
    if name != caller.name:
        authorize(caller, "manage_users")
        target = auth.role_for(name)
    else:
        target = caller
    authorize(target, "record")
    days = token_days if days is None else int(days)
    if not 1 <= days <= 366:
        msg = f"a token lasts 1 to 366 days, not {days}"
        raise ValidationError(msg)
    label = " ".join(str(label or "").split())[:80]
    now = now or dt.datetime.now(dt.UTC)
    token = PREFIX + secrets.token_urlsafe(32)
    entry = {"user": target.name, "issued_at": now.isoformat(timespec="seconds"),
             "expires_at": (now + dt.timedelta(days=days)).isoformat(timespec="seconds"),
             "issued_by": caller.name, "label": label, "ha1": digest_ha1(target.name, token)}
    digest = _hash(token)
    p = _path(path)
    with _editing(p) as tokens:
        # expired entries are dropped whenever the file is written
        for d in [d for d, e in tokens.items() if e.get("expires_at", "") < entry["issued_at"]]:
            del tokens[d]
        tokens[digest] = entry
    return token, _info(digest, entry)


def _single_mode(path_users=None) -> bool:
    p = auth._path(path_users)
    return not p.exists()


def verify(token: str, *, path=None, users_path=None, now: dt.datetime | None = None) -> User:
    """The user a token stands for, with the role the users file gives them now; PermissionDenied otherwise."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 200:
        raise PermissionDenied(_REFUSED)
    digest = _hash(token)
    entry = None
    for d, e in _load(_path(path)).items():  # compare every digest in constant time
        if hmac.compare_digest(d, digest):
            entry = e
    return _user_of(entry, now, users_path)


def verify_digest(user: str, answers: Callable[[str], bool], *, path=None, users_path=None,
                  now: dt.datetime | None = None) -> User:
    """The user of an HTTP Digest answer: ``answers(ha1)`` says whether the client's answer was made from that
    HA1, and it is asked for every token issued to ``user`` (the name exactly as the token was issued for).
    Tokens issued before Digest was supported have no HA1: they still work as a Basic password."""
    entry = None
    for e in _load(_path(path)).values():
        ha1 = e.get("ha1")
        if isinstance(ha1, str) and str(e.get("user", "")) == user and answers(ha1):
            entry = e
    return _user_of(entry, now, users_path)


def _user_of(entry: dict | None, now: dt.datetime | None, users_path) -> User:
    """The user a token's entry stands for now; PermissionDenied when there is none or it has expired."""
    now = now or dt.datetime.now(dt.UTC)
    if entry is None or str(entry.get("expires_at", "")) <= now.isoformat(timespec="seconds"):
        raise PermissionDenied(_REFUSED)
    name = str(entry.get("user", ""))
    if name == SINGLE_USER.name and _single_mode(users_path):
        return SINGLE_USER
    try:
        return auth.role_for(name, path=users_path)
    except PermissionDenied:
        raise PermissionDenied(_REFUSED) from None


def list_tokens(caller: User, *, path=None, now: dt.datetime | None = None) -> list[TokenInfo]:
    """Tokens that have not expired: all of them for an administrator, one's own otherwise."""
    now_s = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    everyone = "manage_users" in auth_actions(caller)
    return sorted((_info(d, e) for d, e in _load(_path(path)).items()
                   if e.get("expires_at", "") > now_s and (everyone or e.get("user") == caller.name)),
                  key=lambda i: (i.user, i.issued_at))


def auth_actions(user: User) -> frozenset[str]:

    return allowed_actions(user)


def revoke(caller: User, *, token_id: str | None = None, user: str | None = None, path=None) -> int:
    """Revoke one token (by its ``token_id``) or every token of ``user``; returns how many went.

    Administrators revoke anyone's; everyone may revoke their own."""
    if not token_id and not user:
        raise ValidationError("say which token (token_id) or whose tokens (user) to revoke")
    if user and user != caller.name:
        authorize(caller, "manage_users")
    p = _path(path)
    with _editing(p) as tokens:
        hits = [d for d, e in tokens.items()
                if (not token_id or d.startswith(str(token_id))) and (not user or e.get("user") == user)]
        for d in hits:
            if tokens[d].get("user") != caller.name:
                authorize(caller, "manage_users")
        for d in hits:
            del tokens[d]
    return len(hits)


__all__ = ["PREFIX", "TokenInfo", "issue", "list_tokens", "revoke", "verify"]
