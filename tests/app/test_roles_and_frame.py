"""The app frame: sign-in and roles, the single-user label, languages, offline settings, escaping."""

from __future__ import annotations

import re
import string
import tomllib

import pytest

from geo_p4gn import auth
from geo_p4gn.importers import limits
from geo_p4gn_app.i18n import STRINGS, t
from geo_p4gn_app.text import md
from tests.app.conftest import ROOT, open_app, texts

PASSWORD = "kata-sandi-panjang-1"
PAGES = ("catat", "cakupan", "unggah", "situs", "ekspor", "admin")


def sign_in(at, name, password=PASSWORD):
    at.text_input[0].set_value(name)
    at.text_input[1].set_value(password)
    next(b for b in at.button if b.label == "Masuk").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def pages_of(at) -> set[str]:
    shown = set()
    for page in PAGES:
        try:
            at.switch_page(f"app_pages/{page}.py")
        except ValueError:
            continue
        shown.add(page)
    return shown


@pytest.fixture
def accounts(app_env, users_path):
    for name, role in (("ani", "petugas"), ("rina", "perencana"), ("budi", "pimpinan")):
        auth.add_user(name, role, password=PASSWORD, path=users_path)
    return users_path


def test_single_user_mode_is_clearly_labelled(app_env):
    at = open_app()
    assert any("Mode pengguna tunggal" in w.value for w in at.sidebar.warning)
    assert at.title[0].value == "Catat intervensi"


@pytest.mark.parametrize(("name", "pages"), [
    ("ani", {"catat", "situs"}),
    ("rina", {"cakupan", "situs", "ekspor"}),
    ("budi", {"cakupan", "unggah", "situs", "ekspor"}),
])
def test_roles_decide_the_pages(accounts, name, pages):
    at = open_app()
    assert at.title[0].value == "Masuk ke aplikasi"
    sign_in(at, name)
    assert pages_of(at) == pages
    assert not any("Mode pengguna tunggal" in w.value for w in at.sidebar.warning)
    assert any(name in c.value for c in at.sidebar.caption)


def test_a_wrong_password_is_refused(accounts):
    at = open_app()
    sign_in(at, "ani", "salah-salah-salah")
    assert any("Gagal masuk" in e.value for e in at.error)
    assert at.title[0].value == "Masuk ke aplikasi"


def test_field_teams_see_the_registry_read_only_and_planners_cannot_publish(accounts, fake_map):
    at = open_app()
    sign_in(at, "ani")
    at.switch_page("app_pages/situs.py").run()
    assert "Hanya pimpinan dan administrator" in texts(at)
    assert not any(b.label == "Simpan situs" for b in at.button)
    planner = open_app()
    sign_in(planner, "rina")
    planner.switch_page("app_pages/ekspor.py").run()
    assert planner.checkbox(key="ekspor_public").disabled


def test_english_is_one_switch_away(app_env, fake_map):
    at = open_app()
    at.sidebar.segmented_control(key="lang").set_value("en")
    at.run()
    assert at.title[0].value == "Record an intervention"
    assert any("Single-user mode" in w.value for w in at.sidebar.warning)


def test_both_languages_have_every_string_with_the_same_placeholders():
    def fields(s):
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    assert set(STRINGS["id"]) == set(STRINGS["en"])
    for key in STRINGS["id"]:
        assert STRINGS["id"][key].strip() and STRINGS["en"][key].strip(), key
        assert fields(STRINGS["id"][key]) == fields(STRINGS["en"][key]), key
    assert t("save") == "Simpan" and t("save", "en") == "Save"


def test_markdown_escaping_keeps_every_character_inert():
    payload = "[klik](javascript:alert(1)) **b** $x$ :red[y] <img src=x> `c` \\"
    escaped = md(payload)
    assert re.sub(r"\\(.)", r"\1", escaped) == payload
    assert not re.search(r"(?<!\\)[\[\]()*$:<>`]", escaped)


def test_nothing_user_entered_goes_through_unsafe_html():
    sources = [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py"), *(ROOT / "geo_p4gn_app").glob("*.py")]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html=" not in text, path
        assert "st.html(" not in text and "components.html(" not in text, path


def test_streamlit_settings_are_offline_and_bounded():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableStaticServing"] is True
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["headless"] is True
    assert config["server"]["maxUploadSize"] == limits.max_upload_bytes // 1_000_000
    assert config["browser"]["gatherUsageStats"] is False


def test_admins_read_the_audit_log_and_restore_deleted_records(app_env, store):
    from geo_p4gn import services

    rec, _ = services.record_intervention(store, services.SINGLE_USER, {
        "date": "2024-08-17", "type": "deklarasi", "actor": "komunitas", "organisation": "RW 01",
        "lon": 106.8456, "lat": -6.2088})
    services.delete_intervention(store, services.SINGLE_USER, rec.id)
    at = open_app("admin")
    log = next(d.value for d in at.dataframe if "seq" in d.value.columns)
    assert log["Tindakan"].tolist()[:2] == ["delete", "create"]
    assert any(b.key == "admin_audit_csv" for b in at.download_button)
    at.selectbox(key="admin_restore").set_value(rec.id)
    at.run()
    at.button(key="admin_restore_go").click()
    at.run()
    assert not at.exception
    assert not store.get(rec.id).deleted


def test_own_entries_are_not_shared_between_people_of_the_same_role(app_env, users_path, store, fake_map):
    from geo_p4gn import services

    for name in ("adi", "ida"):
        auth.add_user(name, "admin", password=PASSWORD, path=users_path)
    services.record_intervention(store, services.User("adi", "admin"), {
        "date": "2024-08-17", "type": "deklarasi", "actor": "komunitas", "organisation": "RW 02",
        "lon": 106.8456, "lat": -6.2088})
    seen = {}
    for name in ("adi", "ida"):
        at = open_app()
        sign_in(at, name)
        seen[name] = any(s.label.startswith("Perbaiki atau hapus") for s in at.selectbox)
    assert seen == {"adi": True, "ida": False}
