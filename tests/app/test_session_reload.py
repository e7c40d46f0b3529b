"""A role change made while someone is signed in applies at their next rerun, not at their next sign-in.

An administrator demotes or removes a user (``geo-p4gn user set-role`` / ``remove``, or another app
process) while that user's browser session stays open. The next interaction (a rerun) must already use
the users file as it is now.
"""

from __future__ import annotations

import pytest

from geo_p4gn import auth
from tests.app.conftest import open_app, texts

PASSWORD = "kata-sandi-panjang-1"
PAGES = ("catat", "cakupan", "unggah", "situs", "ekspor", "admin")


def sign_in(at, name):
    at.text_input[0].set_value(name)
    at.text_input[1].set_value(PASSWORD)
    next(b for b in at.button if b.label == "Masuk").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def pages_of(at) -> set[str]:
    """The pages the last run registered (switching to any other raises)."""
    shown = set()
    for page in PAGES:
        try:
            at.switch_page(f"app_pages/{page}.py")
        except ValueError:
            continue
        shown.add(page)
    return shown


def reaches_no_page(at) -> bool:
    """Asking for each page by its URL shows no page: only the sign-in form or a refusal."""
    for page in PAGES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, [e.message for e in at.exception]
        if [t.value for t in at.title] not in ([], ["Masuk ke aplikasi"]) or len(at.dataframe):
            return False
    return True


@pytest.fixture
def accounts(app_env, users_path):
    auth.add_user("root", "admin", password=PASSWORD, path=users_path)
    auth.add_user("budi", "pimpinan", password=PASSWORD, path=users_path)
    return users_path


def test_a_demoted_user_loses_the_rights_at_the_next_rerun(accounts, fake_map):
    at = open_app()
    sign_in(at, "budi")
    assert pages_of(at) == {"cakupan", "unggah", "situs", "ekspor"}
    at.switch_page("app_pages/ekspor.py").run()
    assert not at.checkbox(key="ekspor_public").disabled  # a manager may publish

    auth.set_role("budi", "perencana", path=accounts)  # meanwhile, an administrator demotes budi
    at.run()  # budi's next click
    assert not at.exception, [e.message for e in at.exception]
    assert at.checkbox(key="ekspor_public").disabled  # a planner may not
    assert any("budi" in c.value and "perencana" in c.value for c in at.sidebar.caption)
    assert pages_of(at) == {"cakupan", "situs", "ekspor"}  # Unggah data is gone


def test_a_demoted_admin_loses_the_admin_page_at_the_next_rerun(accounts):
    at = open_app()
    sign_in(at, "root")
    at.switch_page("app_pages/admin.py").run()
    assert any("seq" in d.value.columns for d in at.dataframe)  # the audit log is shown
    auth.add_user("root2", "admin", path=accounts)
    auth.set_role("root", "petugas", path=accounts)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not any("seq" in d.value.columns for d in at.dataframe)
    assert pages_of(at) == {"catat", "situs"}


def test_a_removed_user_is_signed_out_at_the_next_rerun(accounts, fake_map):
    at = open_app()
    sign_in(at, "budi")
    at.switch_page("app_pages/cakupan.py").run()
    assert at.title[0].value == "Peta cakupan"

    auth.remove_user("budi", path=accounts)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Masuk ke aplikasi"  # the sign-in form, nothing else
    assert "belum punya peran" in texts(at)
    assert not any("budi" in c.value for c in at.sidebar.caption)
    assert reaches_no_page(at)
    # adding the name back does not bring the old session back: a new sign-in is needed
    auth.add_user("budi", "admin", password=PASSWORD, path=accounts)
    at.run()
    assert at.title[0].value == "Masuk ke aplikasi"
    assert reaches_no_page(at)


def test_provider_identities_without_a_provider_do_not_open_the_single_user_mode(app_env, users_path):
    auth.add_user("ani@bnn.go.id", "petugas", path=users_path)  # an OIDC identity, no password
    at = open_app()
    shown = texts(at).replace("\\", "")  # the message is shown markdown-escaped
    assert "lists 1 identity of a sign-in provider but no provider is configured" in shown
    assert not any("Mode pengguna tunggal" in w.value for w in at.sidebar.warning)
    assert reaches_no_page(at)
