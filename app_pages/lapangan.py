"""Perangkat lapangan (field devices): the offline capture page, ODK Collect / KoboCollect, the XLSForm.

Everyone who records gets a link to the offline capture page holding a new capture token (in the link's
fragment, which browsers never send to a server) and ODK Collect's settings QR for themselves. An
administrator shows the QR of any field team member (with a new token as the password, for accounts
that sign in with OIDC), lists the tokens and revokes them. The XLSForm download is the form ODK Collect
gets, for agencies that run their own KoboToolbox or ODK Central.

The page's text is in the catalogue, under ``lapangan.*`` (:mod:`geo_p4gn.i18n`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from geo_p4gn import services, xform
from geo_p4gn._errors import P4gnError
from geo_p4gn.i18n import t
from geo_p4gn.services import tokens
from geo_p4gn_app import views
from geo_p4gn_app.collect import collect_settings, qr_png
from geo_p4gn_app.session import current, error
from geo_p4gn_app.text import md


def _t(key: str, lang: str, **kw) -> str:
    return t(f"lapangan.{key}", lang, **kw)


def _base_url() -> str:
    parts = urlsplit(str(st.context.url or ""))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


ctx = current()
lang = ctx.lang
st.title(_t("title", lang))
base = _base_url()
is_admin = ctx.can("manage_users")

st.subheader(_t("capture", lang))
st.caption(_t("capture_help", lang))
if st.button(_t("make_link", lang, d=tokens.token_days), key="lap_link"):
    try:
        secret, _ = tokens.issue(ctx.user, label="app link")
    except P4gnError as exc:
        error(ctx, exc)
    else:
        st.link_button(_t("open", lang), f"{base}/capture/#token={secret}", type="primary")
        st.caption(_t("link_note", lang))

st.subheader(_t("odk", lang))
server_url = f"{base}/openrosa"
st.write(md(_t("odk_help", lang, url=server_url)))
names = [ctx.user.name]
if is_admin:
    try:
        names = [u.name for u in services.list_users(ctx.user) if services.can(u, "record")] or names
    except P4gnError as exc:
        error(ctx, exc)
who = st.selectbox(_t("for_user", lang), names, key="lap_user") if len(names) > 1 else names[0]
# without a password (OIDC), or on plain http (Collect then answers Digest only, which takes a token)
with_token = st.checkbox(_t("with_token", lang), value=ctx.mode != "local" or server_url.startswith("http://"),
                         key="lap_with_token")
if st.button(_t("show_qr", lang), key="lap_qr"):
    try:
        secret = tokens.issue(ctx.user, who, label="ODK Collect")[0] if with_token else None
    except P4gnError as exc:
        error(ctx, exc)
    else:
        st.image(qr_png(collect_settings(server_url, who, secret)), width=320)
        if secret:
            st.caption(_t("qr_note", lang))

try:
    store = ctx.store
    form = xform.build_form(store.taxonomy, services.list_sites(store, ctx.user), store.boundaries)
except P4gnError as exc:
    error(ctx, exc)
else:
    st.download_button(_t("xlsform", lang), data=lambda: xform.xlsform_bytes(form.sheets), on_click="ignore",
                       file_name=f"{form.form_id}-{form.version}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

st.subheader(_t("tokens", lang))
active = tokens.list_tokens(ctx.user)
if not active:
    st.caption(_t("none", lang))
else:
    st.dataframe(pd.DataFrame({
        _t("col_token", lang): [i.token_id for i in active], _t("col_user", lang): [i.user for i in active],
        _t("col_issued", lang): [views.datetime_text(i.issued_at) for i in active],
        _t("col_expires", lang): [views.datetime_text(i.expires_at) for i in active],
        _t("col_by", lang): [i.issued_by for i in active], _t("col_label", lang): [i.label for i in active],
    }), hide_index=True, width="stretch")
    pick = st.selectbox(_t("revoke", lang), [i.token_id for i in active], key="lap_revoke_id",
                        format_func=lambda tid: next(f"{i.user} · {i.label} · {i.expires_at[:10]} · {tid}"
                                                     for i in active if i.token_id == tid))
    col1, col2 = st.columns(2)
    target = next(i.user for i in active if i.token_id == pick)
    if col1.button(_t("revoke", lang), key="lap_revoke"):
        st.toast(_t("revoked", lang, n=tokens.revoke(ctx.user, token_id=pick)))
        st.rerun()
    if col2.button(_t("revoke_user", lang), key="lap_revoke_user"):
        try:
            st.toast(_t("revoked", lang, n=tokens.revoke(ctx.user, user=target)))
        except P4gnError as exc:
            error(ctx, exc)
        else:
            st.rerun()
