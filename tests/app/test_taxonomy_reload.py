"""The app follows the taxonomy file: a change made elsewhere (the CLI, another app process) reaches the
cached taxonomy and the cached store without a restart."""

from __future__ import annotations

import shutil

from geo_p4gn import services, settings
from geo_p4gn.services import User
from geo_p4gn.store import open_store
from geo_p4gn.taxonomy import taxonomy_path
from geo_p4gn_app import data
from tests.integration.test_store_contract import make

ADMIN = User("admin1@example.org", "admin")


def test_a_taxonomy_changed_elsewhere_reaches_the_app(tmp_path, monkeypatch, boundaries):
    source = taxonomy_path()
    (tmp_path / "interventions").mkdir()
    shutil.copy(source, tmp_path / "interventions" / "taxonomy.toml")
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    data.taxonomy.clear()
    url = str(tmp_path / "store.gpkg")
    monkeypatch.setattr(data, "boundaries", lambda: boundaries)
    app_store = data.store(url)
    before = data.taxonomy()
    assert "tes_urine" not in before.type_keys
    assert data.taxonomy() is before  # unchanged file: the cached object

    with open_store(url, boundaries=boundaries) as other:  # e.g. `geo-p4gn taxonomy add` in another process
        services.add_taxonomy_term(other, ADMIN, "types", "tes_urine", "Tes urine", "Urine test")

    assert "tes_urine" in data.taxonomy().type_keys
    again = data.store(url)
    assert again is app_store and "tes_urine" in again.taxonomy.type_keys
    rec = make(again.taxonomy, type="tes_urine")
    assert again.add(rec, user="petugas1") == "created"  # the store accepts the new type
    data.taxonomy.clear()
    data._store.clear()
