"""Administrasi (administrators): the audit log, readable and exportable, and restoring deleted records.

Both go through the services (``audit_read``, ``restore``); the audit log is append-only for everyone, so
this page only reads it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_p4gn import services
from geo_p4gn._errors import P4gnError
from geo_p4gn.importers import neutralise
from geo_p4gn_app import views
from geo_p4gn_app.session import Context, current, error

#: Audit entries listed on the page (newest first); the download has all of them.
SHOWN = 500


def _csv(log: pd.DataFrame) -> bytes:
    out = log.copy()
    for col in ("entity", "entity_id", "action", "who", "at", "before", "after"):
        out[col] = out[col].map(neutralise)
    return out.to_csv(index=False).encode("utf-8-sig")


def audit_section(ctx: Context) -> None:
    st.subheader(ctx.t("audit_title"))
    entity = st.segmented_control(ctx.t("audit_entity"), ("all", "intervention", "site"), key="admin_entity",
                                  required=True, default="all", format_func=lambda e: ctx.t(f"audit_{e}"))
    try:
        log = services.audit_log(ctx.store, ctx.user, entity=None if entity == "all" else entity)
    except P4gnError as exc:
        error(ctx, exc)
        return
    st.caption(ctx.t("audit_count", n=len(log)))
    newest = log.iloc[::-1].head(SHOWN)
    st.dataframe(pd.DataFrame({
        "seq": newest["seq"], ctx.t("col_when"): newest["at"].astype(str).str[:19].str.replace("T", " "),
        ctx.t("col_who"): newest["who"], ctx.t("col_action"): newest["action"],
        ctx.t("audit_entity"): newest["entity"], ctx.t("col_code"): newest["entity_id"],
    }), hide_index=True, height=360)
    st.download_button(ctx.t("audit_download"), data=lambda: _csv(log), file_name="audit-p4gn.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="admin_audit_csv")


def restore_section(ctx: Context) -> None:
    st.subheader(ctx.t("restore_title"))
    try:
        recs = services.list_interventions(ctx.store, ctx.user, include_deleted=True)
    except P4gnError as exc:
        error(ctx, exc)
        return
    gone = recs[recs["deleted"]]
    if not len(gone):
        st.caption(ctx.t("restore_none"))
        return
    labels = {r.id: f"{views.date_text(r.date)} - {views.type_label(r.type_key, ctx.lang)} - {r.organisation} "
                    f"({r.updated_by})" for r in gone.itertuples()}
    rid = st.selectbox(ctx.t("restore_pick"), [None, *labels], key="admin_restore",
                       format_func=lambda r: ctx.t("choose") if r is None else labels[r])
    if rid is not None and st.button(ctx.t("restore_do"), key="admin_restore_go", icon=":material/restore:"):
        try:
            services.restore_intervention(ctx.store, ctx.user, rid)
        except P4gnError as exc:
            error(ctx, exc)
        else:
            st.toast(ctx.t("restored"))
            st.rerun()


def main(ctx: Context) -> None:
    st.title(ctx.t("admin_title"))
    audit_section(ctx)
    if ctx.can("restore"):
        restore_section(ctx)


main(current())
