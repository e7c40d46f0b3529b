"""Administrasi > Taksonomi: the taxonomy as a table, adding a term and changing labels through the services,
errors shown, and every page seeing the new taxonomy at once.

The app's data folder is a temporary one holding a copy of the taxonomy file (boundaries and sites are
linked from the repository), so the repository's ``data/interventions/taxonomy.toml`` is never changed.
"""

from __future__ import annotations

import hashlib
import shutil

import pytest

from geo_p4gn import services, settings
from geo_p4gn.taxonomy import load_taxonomy
from geo_p4gn_app import data
from tests.app.conftest import ROOT, open_app, texts

REPO_FILE = ROOT / "data" / "interventions" / "taxonomy.toml"


@pytest.fixture
def tax_path(app_env, tmp_path, monkeypatch):
    folder = tmp_path / "data"
    (folder / "interventions").mkdir(parents=True)
    for name in ("boundaries", "sites"):
        (folder / name).symlink_to(ROOT / "data" / name, target_is_directory=True)
    path = folder / "interventions" / "taxonomy.toml"
    shutil.copyfile(REPO_FILE, path)
    sha = hashlib.sha256(REPO_FILE.read_bytes()).hexdigest()
    monkeypatch.setattr(settings, "data_dir", folder)
    data.taxonomy.clear()  # the app's cached taxonomy: read from the copy
    yield path
    data.taxonomy.clear()  # later tests read the repository's file again
    assert hashlib.sha256(REPO_FILE.read_bytes()).hexdigest() == sha


def taxonomy_table(at):
    return next(d.value for d in at.dataframe if "Kunci" in d.value.columns or "Key" in d.value.columns)


def save(at):
    next(b for b in at.button if b.label in ("Simpan taksonomi", "Save the taxonomy")).click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_admins_add_a_type_and_every_page_offers_it(tax_path, store):
    at = open_app("admin")
    assert "Taksonomi" in [s.value for s in at.subheader]
    table = taxonomy_table(at)
    assert table["Kunci"].tolist()[:2] == ["pemetaan", "diskusi_tokoh"] and len(table) == 7
    assert table.columns.tolist() == ["Kunci", "Label (Bahasa Indonesia)", "Label (English)", "Ditawarkan di formulir"]

    at.text_input(key="admin_tax_key").input("tes_urine")
    at.text_input(key="admin_tax_id").input("Tes urine")
    at.text_input(key="admin_tax_en").input("Urine test")
    save(at)
    assert not at.error, [e.value for e in at.error]
    tax = load_taxonomy(tax_path)
    assert len(tax.types) == 8 and tax.term("types", "tes_urine").en == "Urine test"
    table = taxonomy_table(at)
    assert len(table) == 8 and table["Kunci"].iloc[-1] == "tes_urine"
    assert at.text_input(key="admin_tax_key").value == ""  # the form is empty again
    log = store.audit_log(entity="taxonomy")
    assert list(zip(log["entity_id"], log["action"], log["who"], strict=True)) == [
        ("types.tes_urine", "create", services.SINGLE_USER.name)]

    # the recording form offers the new type at once (the app's caches hold the new taxonomy)
    at.switch_page("app_pages/catat.py").run()
    fid = at.session_state["catat_id"]
    assert "Tes urine" in at.selectbox(key=f"catat_type_{fid}").options
    assert len(at.selectbox(key=f"catat_type_{fid}").options) == 8


def test_labels_change_and_errors_are_shown(tax_path, store):
    at = open_app("admin")
    # a key that exists already: refused, with the core's reason, and nothing changes
    at.text_input(key="admin_tax_key").input("deklarasi")
    at.text_input(key="admin_tax_id").input("Deklarasi")
    at.text_input(key="admin_tax_en").input("Declaration")
    save(at)
    assert any("Tidak dapat diproses" in e.value and "already exists" in e.value for e in at.error)
    assert tax_path.read_bytes() == REPO_FILE.read_bytes()
    # change the labels of a used key, and stop offering it
    at.selectbox(key="admin_tax_pick_types").set_value("deklarasi").run()
    assert at.text_input(key="admin_tax_key").value == "deklarasi"
    assert at.text_input(key="admin_tax_key").disabled
    assert at.text_input(key="admin_tax_id").value == "Deklarasi masyarakat anti narkoba"
    at.text_input(key="admin_tax_en").input("Residents' anti-drug declaration")
    at.checkbox(key="admin_tax_active").uncheck()
    save(at)
    assert not at.error, [e.value for e in at.error]
    term = load_taxonomy(tax_path).term("types", "deklarasi")
    assert (term.id, term.en, term.active) == ("Deklarasi masyarakat anti narkoba",
                                               "Residents' anti-drug declaration", False)
    assert taxonomy_table(at).set_index("Kunci").loc["deklarasi", "Ditawarkan di formulir"] == "tidak"
    # an empty label is refused
    at.selectbox(key="admin_tax_pick_types").set_value("deklarasi").run()
    at.text_input(key="admin_tax_id").input("  ")
    save(at)
    assert any("may not be empty" in e.value for e in at.error)
    assert load_taxonomy(tax_path).term("types", "deklarasi").id == "Deklarasi masyarakat anti narkoba"


def test_replacing_the_file_refuses_to_drop_a_used_key(tax_path, store):
    at = open_app("admin")
    text = tax_path.read_text(encoding="utf-8")
    at.text_area[0].input(text.replace('key = "deklarasi"', 'key = "deklarasi_warga"'))
    at.button(key="admin_tax_replace").click()
    at.run()
    assert any("types key \\'deklarasi\\' is used by" in e.value for e in at.error)  # escaped Markdown
    assert tax_path.read_text(encoding="utf-8") == text
    at.text_area[0].input(text.replace("year = 2024", "year = 2025"))
    at.button(key="admin_tax_replace").click()
    at.run()
    assert not at.exception and not at.error
    assert load_taxonomy(tax_path).year == 2025
    assert "(tahun 2025)" in texts(at)
    assert store.audit_log(entity="taxonomy")["action"].tolist() == ["replace"]


def test_the_section_in_english(tax_path):
    at = open_app("admin")
    at.sidebar.segmented_control(key="lang").set_value("en").run()
    assert "Taxonomy" in [s.value for s in at.subheader]
    assert taxonomy_table(at).columns.tolist() == ["Key", "Label (Bahasa Indonesia)", "Label (English)",
                                                   "Offered in forms"]
