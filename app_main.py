"""geo_p4gn: the Streamlit pages, run by ``app.py`` (``st.App``) with ``make run`` or ``streamlit run app.py``.

This script resolves the language, the signed-in user and the store, then shows the pages the user's
role has (the services refuse the rest anyway). The pages live in ``app_pages/``; the UI helpers in
``geo_p4gn_app/``; all logic in the ``geo_p4gn`` core.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo_p4gn_app import session
from geo_p4gn_app.i18n import t

# a local image: emoji and :material/...: favicons are fetched from CDNs by the browser
ICON = Path(__file__).resolve().parent / "geo_p4gn_app" / "icon.png"
st.set_page_config(page_title="P4GN DKI Jakarta", page_icon=str(ICON), layout="wide",
                   initial_sidebar_state="auto")

ctx = session.resolve()
if ctx is None:
    st.stop()

PAGES = (
    # (file, url path, title key, icon, action the role needs)
    ("app_pages/catat.py", "catat", "page_catat", ":material/add_location_alt:", "record"),
    ("app_pages/cakupan.py", "cakupan", "page_cakupan", ":material/map:", "read"),
    ("app_pages/unggah.py", "unggah", "page_unggah", ":material/upload_file:", "import"),
    ("app_pages/situs.py", "situs", "page_situs", ":material/location_city:", "read_sites"),
    ("app_pages/ekspor.py", "ekspor", "page_ekspor", ":material/download:", "export"),
    ("app_pages/duplikat.py", "duplikat", "review.page", ":material/content_copy:", "review_duplicates"),
    ("app_pages/ikrn.py", "ikrn", "ikrn.page", ":material/history:", "read"),
    ("app_pages/admin.py", "admin", "page_admin", ":material/admin_panel_settings:", "audit_read"),
    ("app_pages/lapangan.py", "lapangan", "page_lapangan", ":material/phonelink_setup:", "record"),
)
# titles of pages whose text lives in the page itself (while the catalogue moves into geo_p4gn.i18n)
OWN_TITLES = {"page_lapangan": {"id": "Perangkat lapangan", "en": "Field devices"}}
allowed = [p for p in PAGES if ctx.can(p[4])]
if not allowed:
    st.error(t("no_pages", ctx.lang))
    st.stop()
# whoever records lands on the form; planners and managers on the coverage map. The landing page at "/" is
# a hidden one that switches to it: Streamlit serves its default page only at "/", so a default page of its
# own would answer its own address (a bookmarked /catat) with "Page not found".
pages = [st.Page(path, url_path=url, title=OWN_TITLES[title][ctx.lang] if title in OWN_TITLES else t(title, ctx.lang),
                 icon=icon)
         for path, url, title, icon, _ in allowed]


def _landing() -> None:
    st.switch_page(pages[0], query_params=st.query_params.to_dict())


st.navigation([st.Page(_landing, title=pages[0].title, url_path="mulai", default=True, visibility="hidden"),
               *pages]).run()
