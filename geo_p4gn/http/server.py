"""What the HTTP routes share: the store (opened once per process), the form, the kelurahan shapes, sign-in.

One :class:`Server` is made by :func:`geo_p4gn.http.routes` and held by the route functions (no
module-level state). Everything blocking (the store, argon2, pyxform) runs in Starlette's thread pool.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from pathlib import Path

import shapely

from .. import auth, services, settings, xform
from .._errors import P4gnError, PermissionDenied
from ..boundaries import load_boundaries
from ..identity import SINGLE_USER, User
from ..services import tokens
from ..store import open_store
from ..taxonomy import load_taxonomy, taxonomy_path
from .digest import DigestAuth


class Server:
    def __init__(self, store_url: str | None = None, *, users_path=None, tokens_path=None,
                 taxonomy_path=None) -> None:
        self._store_url = store_url
        self.users_path = users_path
        self.tokens_path = tokens_path
        self._taxonomy_path = taxonomy_path
        self._lock = threading.Lock()
        self._store = None
        self._tax_stamp: tuple | None = None
        self._forms: dict[str, xform.Form] = {}
        self._geo: tuple[str, bytes] | None = None
        self.digest_auth = DigestAuth()

    # -- the store ---------------------------------------------------------------------------------
    @property
    def store_url(self) -> str:
        return str(self._store_url or settings.store_url)

    def store(self):
        """The store, opened once; its taxonomy read again when the file changes (as the app does)."""

        path = Path(self._taxonomy_path) if self._taxonomy_path else taxonomy_path()
        try:
            st_ = path.stat()
            stamp = (st_.st_ino, st_.st_mtime_ns, st_.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if self._store is None:

                self._store = open_store(self.store_url, boundaries=load_boundaries(),
                                         taxonomy=load_taxonomy(path))
                self._tax_stamp = stamp
            elif stamp != self._tax_stamp:
                self._store.taxonomy = load_taxonomy(path)
                self._tax_stamp = stamp
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None and hasattr(self._store, "close"):
                self._store.close()
            self._store = None

    # -- the form ----------------------------------------------------------------------------------
    def sites(self):
        return self.store().list_sites()

    def form(self) -> xform.Form:
        store = self.store()
        sites = store.list_sites()
        version = xform.form_version(store.taxonomy, sites, store.boundaries)
        with self._lock:
            cached = self._forms.get(version)
        if cached is None:
            cached = xform.build_form(store.taxonomy, sites, store.boundaries)
            with self._lock:
                if len(self._forms) > 4:
                    self._forms.clear()
                self._forms[version] = cached
        return cached

    def kelurahan_points(self) -> dict:
        return xform.kelurahan_points(self.store().boundaries)

    # -- the kelurahan shapes for the capture page -------------------------------------------------------
    def kelurahan_geojson(self) -> tuple[str, bytes]:
        """The 267 kelurahan as GeoJSON (code, names of kelurahan, kecamatan and kota) and its hash."""
        with self._lock:
            if self._geo is not None:
                return self._geo
        kel = self.store().boundaries.kelurahan.sort_values("code")
        feats = []
        for row in kel.itertuples():
            geom = shapely.set_precision(row.geometry, 1e-5)
            feats.append({"type": "Feature", "properties": {
                "code": row.code, "name": row.name, "kecamatan": row.kecamatan_name, "kota": row.kota_name},
                "geometry": json.loads(shapely.to_geojson(geom))})
        body = json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":"),
                          ensure_ascii=False).encode()
        geo = (hashlib.sha256(body).hexdigest()[:16], body)
        with self._lock:
            self._geo = geo
        return geo

    # -- who is asking ------------------------------------------------------------------------------------
    def mode(self) -> str:
        return auth.auth_mode(oidc_configured=_oidc_configured(), store_url=self.store_url,
                              path=self.users_path)

    def bearer(self, header: str | None) -> User:
        """The user of an ``Authorization: Bearer <token>`` header (the capture page)."""
        scheme, _, value = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise PermissionDenied("no capture token: sign in on this page first")
        return tokens.verify(value.strip(), path=self.tokens_path, users_path=self.users_path)

    def basic(self, header: str | None) -> User:
        """The user of an ``Authorization: Basic`` header (ODK Collect): the account's password, or a capture
        token issued to that account."""
        scheme, _, value = (header or "").partition(" ")
        if scheme.lower() != "basic":
            raise PermissionDenied("sign in with the user name and password of a geo_p4gn account")
        try:
            name, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise PermissionDenied("the Authorization header is not valid Basic credentials") from None
        if not sep:
            raise PermissionDenied("the Authorization header is not valid Basic credentials")
        if password.startswith(tokens.PREFIX):
            user = tokens.verify(password, path=self.tokens_path, users_path=self.users_path)
            if user.name.casefold() != name.strip().casefold():
                raise PermissionDenied("unknown user or wrong password")
            return user
        if self.mode() != "local":
            raise PermissionDenied("this installation has no local passwords: use a capture token as the password")
        return auth.verify_password(name, password, path=self.users_path)

    def digest(self, header: str, method: str, path: str) -> User:
        """The user of an ``Authorization: Digest`` header (ODK Collect over plain HTTP): a capture token
        issued to that account (:mod:`geo_p4gn.http.digest`)."""
        def verify(name, answers):
            return tokens.verify_digest(name, answers, path=self.tokens_path, users_path=self.users_path)

        return self.digest_auth.user(header, method, path, verify)

    def sign_in(self, name: str, password: str) -> User:
        """The capture page's own sign-in: a local account's password (the single-user mode needs none)."""
        mode = self.mode()
        if mode == "single":
            return SINGLE_USER
        if mode != "local":
            raise PermissionDenied("sign in through the app (Perangkat lapangan page) to get a capture link")
        return auth.verify_password(name, password, path=self.users_path)

    def can(self, user: User, action: str) -> bool:
        return services.can(user, action)


def _oidc_configured() -> bool:
    for folder in (Path.cwd() / ".streamlit", Path.home() / ".streamlit"):
        p = folder / "secrets.toml"
        try:
            import tomllib

            if "auth" in tomllib.loads(p.read_text(encoding="utf-8")):
                return True
        except (OSError, ValueError):
            continue
    return False


__all__ = ["P4gnError", "Server"]
