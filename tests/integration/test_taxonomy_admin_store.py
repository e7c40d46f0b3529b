"""Taxonomy changes on both store backends: the audit entry (``Store.log_event``) and the new taxonomy used
for the next record, on a GeoPackage and on a real PostGIS."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from geo_p4gn import ValidationError, services
from geo_p4gn.services import User
from geo_p4gn.taxonomy import taxonomy_path

ADMIN = User("admin1@example.org", "admin")
RECORD = {"date": "2024-08-17", "actor": "komunitas", "organisation": "RW 03", "lon": 106.758576, "lat": -6.152569}


def test_taxonomy_changes_on_each_backend(store, tmp_path):
    path = tmp_path / "taxonomy.toml"
    shutil.copyfile(taxonomy_path(), path)
    services.record_intervention(store, ADMIN, dict(RECORD, id=str(uuid.UUID(int=1)), type="deklarasi"))
    version = store.data_version()
    services.add_taxonomy_term(store, ADMIN, "types", "tes_urine", "Tes urine", "Urine test", path=path)
    assert store.data_version() != version
    rec, outcome = services.record_intervention(store, ADMIN, dict(RECORD, id=str(uuid.UUID(int=2)),
                                                                   type="tes_urine"))
    assert (outcome, rec.type_key) == ("created", "tes_urine")
    with pytest.raises(ValidationError, match="types key 'deklarasi' is used by 1 stored record"):
        services.replace_taxonomy(store, ADMIN, path.read_text(encoding="utf-8").replace(
            'key = "deklarasi"', 'key = "deklarasi_warga"'), path=path)
    log = store.audit_log(entity="taxonomy")
    assert list(zip(log["entity_id"], log["action"], log["who"], strict=True)) == [
        ("types.tes_urine", "create", ADMIN.name)]
    assert log["before"].iloc[0] is None
    assert json.loads(log["after"].iloc[0])["en"] == "Urine test"
    assert store.check_integrity() == []
