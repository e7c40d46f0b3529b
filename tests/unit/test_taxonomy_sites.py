"""Taxonomy as data; the seed sites and starter interventions."""

from __future__ import annotations

import pytest

from geo_p4gn import P4gnError
from geo_p4gn.taxonomy import load_taxonomy


def test_the_2024_taxonomy(taxonomy):
    assert taxonomy.type_keys == ("pemetaan", "diskusi_tokoh", "fgd_peneliti", "seni_budaya",
                                  "kelurahan_bersinar", "deklarasi", "tim_terpadu")
    assert taxonomy.actor_keys == ("pemerintah", "swasta", "akademisi", "komunitas", "media")
    assert taxonomy.ikrn_keys == ("bahaya", "waspada", "siaga", "aman")
    assert taxonomy.label("types", "deklarasi", "en") == "Community anti-drug declaration"
    assert taxonomy.label("types", "gone_type") == "gone_type"


def test_a_new_year_can_add_types(tmp_path):
    text = (load_taxonomy.__globals__["settings"].data_dir / "interventions" / "taxonomy.toml").read_text()
    extra = '\n[[types]]\nkey = "tes_urine"\nid = "Tes urine"\nen = "Urine test"\n'
    path = tmp_path / "t.toml"
    path.write_text(text + extra)
    tax = load_taxonomy(path)
    assert len(tax.type_keys) == 8 and tax.resolve_type("Urine test") == "tes_urine"
    path.write_text(text + extra + extra)
    with pytest.raises(P4gnError, match="repeated"):
        load_taxonomy(path)


