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
GEO_P4GN_OWN_EDIT_DAYS
    Days during which field teams may correct or delete their own records (default 7).
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
#: Days during which field teams may correct or delete their own records.
own_edit_days: int = int(os.environ.get("GEO_P4GN_OWN_EDIT_DAYS", "7"))

#: Metric CRS for distances and areas in Jakarta (UTM zone 48S).
metric_crs: str = "EPSG:32748"
#: Storage CRS.
crs: str = "EPSG:4326"
#: A point in no kelurahan polygon is given to the nearest one within this distance (metres).
gap_tolerance_m: float = 50.0
#: Longest accepted notes field (characters).
max_notes_chars: int = 2000
