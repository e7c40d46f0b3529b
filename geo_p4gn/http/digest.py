"""HTTP Digest authentication (RFC 7616: MD5, ``qop="auth"``) for ODK Collect over plain HTTP.

ODK Collect sends Basic credentials only over HTTPS; on a plain-HTTP address (a field office's LAN, or
``make run`` on a laptop) it answers a Digest challenge only. The server offers both challenges on every
401, Digest first. A Digest answer is checked against the HA1 kept with each capture token
(:func:`geo_p4gn.services.tokens.verify_digest`). Account passwords are never kept in a form Digest could use
(an MD5 of a password is too weak to store), so over plain HTTP the password in Collect is a capture token:
the QR code of the Perangkat lapangan page carries one.

Nonces are stateless: the time they were made, a random part and an HMAC of both under a key made when the
process starts,
valid for :data:`NONCE_SECONDS`; an older one gets a new challenge with ``stale=true``, which Collect answers
without asking the user again (so does a nonce from before a restart, refused as unknown). Each nonce's
count (``nc``) must grow: an answer seen before is refused (a replay). The ``uri`` of the answer must be the
path asked for.

Written here rather than taken from a library: the Python Digest implementations are clients
(``requests``, ``httpx``, ``urllib``) or belong to a web framework this project does not use; the parsing
of the header is the standard library's (``urllib.request.parse_http_list`` / ``parse_keqv_list``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.request import parse_http_list, parse_keqv_list

from .._errors import PermissionDenied
from ..identity import User
from ..services.tokens import REALM

#: How long a nonce is accepted (seconds); after that the answer gets a new challenge with ``stale=true``.
NONCE_SECONDS = 600
_SEEN_MAX = 10_000  # nonces whose last count is remembered (the oldest are forgotten first)
_FIELDS = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class StaleNonce(PermissionDenied):
    """A Digest answer to an expired nonce: challenge again with ``stale=true``."""


class DigestAuth:
    """Digest challenges and answers for one server process."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._key = secrets.token_bytes(32)
        self._clock = clock
        self._seen: dict[str, int] = {}  # nonce -> the last count accepted
        self._lock = threading.Lock()

    def _mac(self, stamp: str) -> str:
        return hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]

    def challenge(self, *, stale: bool = False) -> str:
        """A ``WWW-Authenticate`` value with a new nonce (its time, a random part, their HMAC)."""
        stamp = f"{int(self._clock())}.{secrets.token_hex(8)}"
        value = f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{stamp}.{self._mac(stamp)}"'
        return value + (", stale=true" if stale else "")

    def user(self, header: str, method: str, path: str,
             verify: Callable[[str, Callable[[str], bool]], User]) -> User:
        """The user of an ``Authorization: Digest ...`` header for a ``method`` request of ``path``.

        ``verify(username, answers)`` finds the user whose HA1 ``answers`` accepts
        (:func:`geo_p4gn.services.tokens.verify_digest`). PermissionDenied (:class:`StaleNonce` for an
        expired nonce) when the answer is not right."""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "digest":
            raise PermissionDenied("not Digest credentials")
        try:
            f = parse_keqv_list(parse_http_list(value))
        except ValueError:
            raise PermissionDenied("the Authorization header is not valid Digest credentials") from None
        if any(not f.get(k) for k in _FIELDS):
            raise PermissionDenied("the Digest answer lacks " + ", ".join(k for k in _FIELDS if not f.get(k)))
        if f["realm"] != REALM or f["qop"] != "auth" or f.get("algorithm", "MD5").upper() != "MD5":
            raise PermissionDenied(f'answer the challenge of realm "{REALM}" with qop=auth and MD5')
        nonce = f["nonce"]
        stamp, _, mac = nonce.rpartition(".")
        made = stamp.partition(".")[0]
        if not made.isdigit() or not hmac.compare_digest(mac, self._mac(stamp)):
            raise StaleNonce("unknown nonce (the server may have restarted): answer the new challenge")
        if self._clock() - int(made) > NONCE_SECONDS:
            raise StaleNonce("the nonce has expired: answer the new challenge")
        if urlsplit(f["uri"]).path != path:
            raise PermissionDenied("the Digest answer is for another address")
        try:
            count = int(f["nc"], 16)
        except ValueError:
            raise PermissionDenied("the Digest answer's nc is not a hexadecimal count") from None
        with self._lock:
            if count <= self._seen.get(nonce, 0):
                raise PermissionDenied("this Digest answer was used before (a replay): refused")
        ha2 = _md5(f"{method}:{f['uri']}")
        given = f["response"].lower()

        def answers(ha1: str) -> bool:
            return hmac.compare_digest(_md5(f"{ha1}:{nonce}:{f['nc']}:{f['cnonce']}:auth:{ha2}"), given)

        user = verify(f["username"], answers)
        with self._lock:
            if count <= self._seen.get(nonce, 0):  # the same answer twice at once: only one gets in
                raise PermissionDenied("this Digest answer was used before (a replay): refused")
            self._seen[nonce] = count
            while len(self._seen) > _SEEN_MAX:
                del self._seen[next(iter(self._seen))]
        return user


__all__ = ["NONCE_SECONDS", "DigestAuth", "StaleNonce"]
