"""The site registry: drug-prone places (kampung, rusun, gang) that interventions target.

A site has an id, a name, aliases (Kampung Boncos = Kampung Kiapang), a kelurahan code, a geometry
(a point or a polygon), whether that location is approximate, an IKRN category when known, and its
sources. The seed (``<data>/sites/seed_sites.json``) holds the publicly reported sites; as no source
gives a kampung's own coordinates, each seeded site sits at its kelurahan's representative point and is
marked approximate until someone sets its real place.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import shapely

from . import settings
from ._errors import ValidationError
from .records import is_blank

#: Columns of the site layer, in order (``geometry`` last).
SITE_FIELDS = (
    "id", "name", "aliases", "kelurahan_code", "approximate", "ikrn", "sources", "geometry",
)
_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")


def seed_path() -> Path:
    return settings.data_dir / "sites" / "seed_sites.json"


def validate_site(raw: dict, *, taxonomy, boundaries, row: str = "site") -> dict:
    """Check a site dict and return it normalised, with ``kelurahan_code`` assigned from the geometry."""
    site_id = str(raw.get("id") or "").strip()
    if not _ID.fullmatch(site_id):
        msg = f"{row}: id: {site_id!r} must be 2-63 lower-case letters, digits or '-'"
        raise ValidationError(msg)
    name = " ".join(str(raw.get("name") or "").split())
    if not name or len(name) > 200:
        msg = f"{row}: name: required, at most 200 characters"
        raise ValidationError(msg)
    aliases = raw.get("aliases")
    aliases = [] if aliases is None or (not isinstance(aliases, list | tuple) and is_blank(aliases)) else aliases
    aliases = [" ".join(str(a).split()) for a in aliases if str(a).strip()]
    ikrn = None if is_blank(raw.get("ikrn")) else raw["ikrn"]
    if ikrn is not None:
        ikrn = taxonomy.resolve_ikrn(ikrn)
    geom = raw["geometry"]
    if geom.geom_type not in ("Point", "Polygon", "MultiPolygon") or not geom.is_valid:
        msg = f"{row}: geometry: must be a valid point or polygon"
        raise ValidationError(msg)
    kel = boundaries.locate(geom, f"{row}: geometry")
    return {
        "id": site_id, "name": name, "aliases": aliases, "kelurahan_code": kel,
        "approximate": bool(raw.get("approximate", False)), "ikrn": ikrn,
        "sources": [str(s) for s in raw.get("sources") or []], "geometry": geom,
    }


def seed_sites(boundaries, taxonomy, path: str | Path | None = None) -> gpd.GeoDataFrame:
    """The seed sites as a frame, each at its kelurahan's representative point, approximate."""
    doc = json.loads(Path(path or seed_path()).read_text(encoding="utf-8"))
    kel = boundaries.kelurahan.set_index("code")
    rows = []
    for i, s in enumerate(doc["sites"], 1):
        code = s["kelurahan_code"]
        if code not in kel.index:
            msg = f"seed site {i} ({s.get('id')}): kelurahan_code {code!r} is not a DKI kelurahan"
            raise ValidationError(msg)
        if kel.loc[code, "name"] != s.get("kelurahan_name", kel.loc[code, "name"]):
            msg = f"seed site {i}: kelurahan {code} is {kel.loc[code, 'name']!r}, not {s['kelurahan_name']!r}"
            raise ValidationError(msg)
        point = shapely.point_on_surface(kel.loc[code, "geometry"])
        site = validate_site(
            s | {"geometry": point, "approximate": True}, taxonomy=taxonomy, boundaries=boundaries,
            row=f"seed site {i}",
        )
        if site["kelurahan_code"] != code:  # a representative point always lies in its own polygon
            msg = f"seed site {i}: placed in {site['kelurahan_code']}, expected {code}"
            raise ValidationError(msg)
        rows.append(site)
    return gpd.GeoDataFrame(rows, columns=list(SITE_FIELDS), geometry="geometry", crs=settings.crs)
