"""Seed a new store with the publicly reported sites and the cited 2024 starter interventions.

Seeding is idempotent: site ids are fixed and starter record ids are derived from their content
(UUID 5), so running it again changes nothing.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

from . import settings
from ._errors import NotFoundError
from .records import validate_record
from .sites import seed_sites

_NAMESPACE = uuid.UUID("5b0e7a52-4f0c-4d57-9b6a-2f1d0c6e8a31")
SEED_USER = "seed"


def starter_path() -> Path:
    return settings.data_dir / "interventions" / "starter_2024.csv"


def seed_store(store, *, starter: bool = True, user: str = SEED_USER) -> dict[str, int]:
    """Add the seed sites (and the starter interventions) to ``store`` as ``user`` (the name the audit log
    and the records carry); return what was created.

    No permission is checked here: commands and pages call :func:`geo_p4gn.services.seed_store`, which
    checks the role first and passes the user's name. Tests and benches seed a fresh store directly."""
    sites = seed_sites(store.boundaries, store.taxonomy)
    created_sites = 0
    for row in sites.to_dict("records"):
        try:
            store.get_site(row["id"])
        except NotFoundError:
            store.upsert_site(row, user=user)
            created_sites += 1
    created = 0
    if starter:
        geoms = dict(zip(sites["id"], sites.geometry, strict=True))
        recs = []
        with open(starter_path(), encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh), 2):
                key = "|".join(row[k] for k in sorted(row))
                raw = dict(row, id=str(uuid.uuid5(_NAMESPACE, key)), geometry=geoms[row["site_id"]])
                recs.append(validate_record(raw, taxonomy=store.taxonomy, row=f"{starter_path().name} line {i}"))
        created = store.add_many(recs, user=user).created
    return {"sites": created_sites, "interventions": created}
