"""geo_p4gn's own HTTP routes, served by the app's Streamlit server (``st.App`` in ``app.py``).

A layer above the services, beside the CLI: routes import only the services, identity, auth and the
domain. ``/capture/`` and ``/api/capture/`` are the offline capture page and its API
(:mod:`~geo_p4gn.http.capture`); ``/openrosa/`` is the OpenRosa server for ODK Collect and KoboCollect
(:mod:`~geo_p4gn.http.openrosa`); capture tokens are :mod:`geo_p4gn.services.tokens`; the form is
:mod:`geo_p4gn.xform`.
"""

from __future__ import annotations


def routes(store_url: str | None = None, *, users_path=None, tokens_path=None, taxonomy_path=None) -> list:
    """The Starlette routes, sharing one :class:`~geo_p4gn.http.server.Server` (the store opened on first use).

    The arguments default to the settings (``GEO_P4GN_STORE``, ``GEO_P4GN_USERS``, ``GEO_P4GN_TOKENS``)."""
    from . import capture, openrosa  # the routes' modules load when the app mounts them, not on import
    from .server import Server  # likewise

    server = Server(store_url, users_path=users_path, tokens_path=tokens_path, taxonomy_path=taxonomy_path)
    return [*capture.routes(server), *openrosa.routes(server)]


__all__ = ["routes"]
