"""Settings of geo_p4gn: plain typed module variables, read from the environment in one place.

Environment variables
---------------------
GEO_P4GN_DATA
    Folder holding ``boundaries/`` (manifest) and ``interventions/`` (taxonomy, seeds, default store).
    Default: the ``data/`` folder of the source checkout.
GEO_P4GN_STORE
    Where interventions are stored: a path to a GeoPackage file (default
    ``<data>/interventions/p4gn.gpkg``) or a ``postgresql://`` URL.
GEO_P4GN_BOUNDARY_MIRROR
    A folder holding the upstream kelurahan ``.sql`` files; when set, nothing is downloaded.
GEO_P4GN_CACHE
    Where downloaded and built boundary files are cached. Default ``<data>/boundaries/build``.
GEO_P4GN_TILES
    Optional background tile URL template for maps (``{z}/{x}/{y}``); empty (the default) means
    no background, which works offline.
GEO_P4GN_TILES_ATTRIBUTION
    Attribution text shown for that tile layer.
GEO_P4GN_BASEMAP
    Optional basemap from ONE local file that the app serves itself (no internet, no other server): a
    ``.pmtiles`` file (vector, drawn in the browser with protomaps-leaflet) or a ``.mbtiles`` file (raster
    PNG/JPEG/WebP tiles). Used when ``GEO_P4GN_TILES`` is empty. Default: none.
GEO_P4GN_BASEMAP_ATTRIBUTION
    Attribution text shown for that basemap (default: the MBTiles file's own ``attribution``; for a
    PMTiles file "© OpenStreetMap contributors").
GEO_P4GN_MAX_UPLOAD_MB, GEO_P4GN_MAX_ROWS
    The largest upload in megabytes (default 50; also set Streamlit's ``server.maxUploadSize`` and the reverse
    proxy's body limit to it) and the most data rows of an import (default 200 000). See
    :mod:`geo_p4gn.importers.limits`.
GEO_P4GN_TOKENS, GEO_P4GN_TOKEN_DAYS
    The capture tokens' file (default ``<data>/capture_tokens.json``) and how many days a token lasts
    (default 30). See :mod:`geo_p4gn.services.tokens`.
GEO_P4GN_OWN_EDIT_DAYS
    Days during which field teams may correct or delete their own records (default 7).
GEO_P4GN_DUPLICATE_DAYS, GEO_P4GN_DUPLICATE_SIMILARITY
    The possible-duplicate rule (:mod:`geo_p4gn.duplicates`): two records of the same type at the same site
    (or kelurahan) whose days overlap or lie at most this many days apart (default 3), by organisations whose
    names are at least this similar (0 to 1, default 0.6).
GEO_P4GN_SMTP_HOST, GEO_P4GN_SMTP_PORT
    The agency's SMTP server for mailed bulletins (``geo-p4gn report ... --mail``); no host (the
    default) means bulletins are only written as files. Port default 587.
GEO_P4GN_SMTP_SECURITY
    ``starttls`` (default: refused if the server does not offer it), ``ssl`` (SMTPS, usually port 465) or
    ``none`` (only for a relay on the same host).
GEO_P4GN_SMTP_FROM
    The sender address of bulletins.
GEO_P4GN_SMTP_USER, GEO_P4GN_SMTP_PASSWORD_FILE
    The SMTP login, if the server needs one; the password is read from that file (mode 0600) when a
    mail is sent, never from the environment itself.
GEO_P4GN_SMTP_TIMEOUT
    Seconds to wait for the server (default 30).
GEO_P4GN_USERS
    The users file (accounts and roles, :mod:`geo_p4gn.auth`). Default ``<data>/users.toml``.
GEO_P4GN_SINGLE_USER
    ``1`` allows the single-user mode with a PostGIS store.
GEO_P4GN_OIDC_TRUST_EMAIL
    ``1`` accepts the OIDC ``email`` claim even without ``email_verified`` (only for an agency-run
    provider whose e-mail addresses it issues itself).
GEO_P4GN_USER
    Who the ``geo-p4gn`` command runs as when ``--as`` is not given. Read when the command runs
    (:func:`cli_user_name`), not at import.

The upload limits ``GEO_P4GN_MAX_UPLOAD_MB`` and ``GEO_P4GN_MAX_ROWS`` are still read in
:mod:`geo_p4gn.importers.limits`.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO_DATA = Path(__file__).resolve().parent.parent / "data"

data_dir: Path = Path(os.environ.get("GEO_P4GN_DATA", _REPO_DATA))
boundary_mirror: Path | None = (
    Path(os.environ["GEO_P4GN_BOUNDARY_MIRROR"]) if os.environ.get("GEO_P4GN_BOUNDARY_MIRROR") else None
)
cache_dir: Path = Path(os.environ.get("GEO_P4GN_CACHE", data_dir / "boundaries" / "build"))
store_url: str = os.environ.get("GEO_P4GN_STORE", str(data_dir / "interventions" / "p4gn.gpkg"))
tiles: str = os.environ.get("GEO_P4GN_TILES", "")
tiles_attribution: str = os.environ.get("GEO_P4GN_TILES_ATTRIBUTION", "")
#: A local basemap file (``.pmtiles`` or ``.mbtiles``) served by the app; None without one.
basemap_path: Path | None = Path(os.environ["GEO_P4GN_BASEMAP"]) if os.environ.get("GEO_P4GN_BASEMAP") else None
basemap_attribution: str = os.environ.get("GEO_P4GN_BASEMAP_ATTRIBUTION", "")
#: Days during which field teams may correct or delete their own records.
own_edit_days: int = int(os.environ.get("GEO_P4GN_OWN_EDIT_DAYS", "7"))
#: The possible-duplicate rule: days apart at most, and the least organisation-name similarity (0..1).
duplicate_days: int = int(os.environ.get("GEO_P4GN_DUPLICATE_DAYS", "3"))
duplicate_similarity: float = float(os.environ.get("GEO_P4GN_DUPLICATE_SIMILARITY", "0.6"))
#: Largest upload (bytes) and most data rows of an import (geo_p4gn.importers.limits holds the effective values).
max_upload_bytes: int = int(float(os.environ.get("GEO_P4GN_MAX_UPLOAD_MB", "50")) * 1_000_000)
max_rows: int = int(os.environ.get("GEO_P4GN_MAX_ROWS", "200000"))
#: The capture tokens' file and their lifetime in days (geo_p4gn.services.tokens).
capture_tokens_path: Path = Path(os.environ.get("GEO_P4GN_TOKENS", data_dir / "capture_tokens.json"))
capture_token_days: int = int(os.environ.get("GEO_P4GN_TOKEN_DAYS", "30"))
#: The users file.
users_path: Path = Path(os.environ.get("GEO_P4GN_USERS", data_dir / "users.toml"))
#: Allow the single-user mode with a PostGIS store.
allow_single_user_server: bool = os.environ.get("GEO_P4GN_SINGLE_USER", "") == "1"
#: Trust an OIDC ``email`` claim without ``email_verified``.
oidc_trust_email: bool = os.environ.get("GEO_P4GN_OIDC_TRUST_EMAIL", "") == "1"

#: The SMTP server of mailed bulletins (empty: no mail) and how to reach it.
smtp_host: str = os.environ.get("GEO_P4GN_SMTP_HOST", "")
smtp_port: int = int(os.environ.get("GEO_P4GN_SMTP_PORT", "587"))
smtp_security: str = os.environ.get("GEO_P4GN_SMTP_SECURITY", "starttls")
smtp_from: str = os.environ.get("GEO_P4GN_SMTP_FROM", "")
smtp_user: str = os.environ.get("GEO_P4GN_SMTP_USER", "")
smtp_password_file: Path | None = (
    Path(os.environ["GEO_P4GN_SMTP_PASSWORD_FILE"]) if os.environ.get("GEO_P4GN_SMTP_PASSWORD_FILE") else None
)
smtp_timeout: float = float(os.environ.get("GEO_P4GN_SMTP_TIMEOUT", "30"))


def smtp_password() -> str:
    """The SMTP password, read from :data:`smtp_password_file` now (empty without one)."""
    if smtp_password_file is None:
        return ""
    return smtp_password_file.read_text(encoding="utf-8").strip()


def cli_user_name() -> str | None:
    """``GEO_P4GN_USER``, read now (the CLI's default ``--as``), or None when unset or empty."""
    return os.environ.get("GEO_P4GN_USER") or None


#: Metric CRS for distances and areas in Jakarta (UTM zone 48S).
metric_crs: str = "EPSG:32748"
#: Storage CRS.
crs: str = "EPSG:4326"
#: A point in no kelurahan polygon is given to the nearest one within this distance (metres).
gap_tolerance_m: float = 50.0
#: Longest accepted notes field (characters).
max_notes_chars: int = 2000
