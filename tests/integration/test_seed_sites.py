"""The seed sites on the real boundaries, and seeding a GeoPackage store.

Moved from tests/unit/test_taxonomy_sites.py (they need the real boundaries and a store); the taxonomy
tests stay there.
"""

from __future__ import annotations

from geo_p4gn.seed import seed_store
from geo_p4gn.sites import seed_sites
from geo_p4gn.store import open_store


def test_seed_sites(boundaries, taxonomy):
    sites = seed_sites(boundaries, taxonomy).set_index("id")
    assert len(sites) == 6
    assert sites.loc["kampung-ambon", "kelurahan_code"] == "31.73.01.1004"
    assert sites.loc["kampung-bahari", "kelurahan_code"] == "31.72.02.1001"
    assert sites.loc["kampung-boncos", "aliases"] == ["Kampung Kiapang", "Gang Kiapang"]
    assert sites["approximate"].all()
    assert sites.loc["kampung-boncos", "ikrn"] == "bahaya"
    assert all(s for s in sites["sources"])
    kel = boundaries.kelurahan.set_index("code").geometry
    assert all(kel[c].contains(g) for c, g in zip(sites["kelurahan_code"], sites.geometry, strict=True))


def test_seed_store_is_idempotent(tmp_path, boundaries, taxonomy):
    with open_store(tmp_path / "s.gpkg", boundaries=boundaries, taxonomy=taxonomy) as store:
        assert seed_store(store) == {"sites": 6, "interventions": 6}
        assert seed_store(store) == {"sites": 0, "interventions": 0}
        frame = store.list()
        assert sorted(frame["type_key"]) == ["deklarasi", "deklarasi", "fgd_peneliti", "fgd_peneliti",
                                              "kelurahan_bersinar", "seni_budaya"]
        assert frame.groupby("site_id").size().to_dict() == {"kampung-ambon": 3, "kampung-bahari": 1,
                                                             "kampung-boncos": 2}
        assert frame["notes"].str.contains("Source: ").all() and frame["notes"].str.contains("https://").all()
        assert frame["participants"].isna().all()
