"""Administrasi (administrators): the audit log, readable and exportable, restoring deleted records, and
the taxonomy (types, actors, IKRN categories).

All of it goes through the services (``audit_read``, ``restore``, ``manage_taxonomy``); the audit log is
append-only for everyone, so this page only reads it.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from geo_p4gn import services
from geo_p4gn._errors import P4gnError
from geo_p4gn.spreadsheet import neutralise
from geo_p4gn.taxonomy import GROUPS, load_taxonomy, taxonomy_path
from geo_p4gn_app import data, views
from geo_p4gn_app.session import Context, act, current, error, show_flash

#: Audit entries listed on the page (newest first); the download has all of them.
SHOWN = 500


def _csv(log: pd.DataFrame) -> bytes:
    out = log.copy()
    for col in ("entity", "entity_id", "action", "who", "at", "before", "after"):
        out[col] = out[col].map(neutralise)
    return out.to_csv(index=False).encode("utf-8-sig")


def audit_section(ctx: Context) -> None:
    st.subheader(ctx.t("audit_title"))
    entity = st.segmented_control(ctx.t("audit_entity"), ("all", "intervention", "site", "taxonomy"),
                                  key="admin_entity",
                                  required=True, default="all", format_func=lambda e: ctx.t(f"audit_{e}"))
    which = None if entity == "all" else entity
    try:  # the listing shows no before/after: new records' entries are read without their content
        log = services.audit_log(ctx.store, ctx.user, entity=which, contents=False)
    except P4gnError as exc:
        error(ctx, exc)
        return
    st.caption(ctx.t("audit_count", n=len(log)))
    newest = log.iloc[::-1].head(SHOWN)
    st.dataframe(pd.DataFrame({
        "seq": newest["seq"], ctx.t("col_when"): newest["at"].map(views.datetime_text),
        ctx.t("col_who"): newest["who"], ctx.t("col_action"): newest["action"],
        ctx.t("audit_entity"): newest["entity"], ctx.t("col_code"): newest["entity_id"],
    }), hide_index=True, height=360)
    st.download_button(ctx.t("audit_download"), file_name="audit-p4gn.csv",
                       data=lambda: _csv(services.audit_log(ctx.store, ctx.user, entity=which)),
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="admin_audit_csv")


def restore_section(ctx: Context) -> None:
    st.subheader(ctx.t("restore_title"))
    show_flash()
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
        act(ctx, lambda: services.restore_intervention(ctx.store, ctx.user, rid), ctx.t("restored"))


#: The taxonomy form's widgets, emptied when another entry is picked or after a save.
_TAX_FIELDS = ("admin_tax_key", "admin_tax_id", "admin_tax_en", "admin_tax_active")


def _reset_taxonomy_form() -> None:
    for key in _TAX_FIELDS:
        st.session_state.pop(key, None)


def _taxonomy_saved(message: str) -> None:
    data.taxonomy.clear()  # every page reads the new file; the store got it from the service
    _reset_taxonomy_form()
    st.toast(message)
    st.rerun()


def taxonomy_section(ctx: Context) -> None:
    """The taxonomy as a table per group, a form to add an entry or change one's labels, and the whole file
    to download or replace. Only the services change it (``manage_taxonomy``)."""
    st.subheader(ctx.t("tax_title"))
    st.caption(ctx.t("tax_help"))
    path = taxonomy_path()
    try:
        text = path.read_text(encoding="utf-8")
        tax = load_taxonomy(path)
    except (OSError, P4gnError) as exc:
        error(ctx, exc)
        return
    if tax != data.taxonomy():  # changed by another process (the CLI): show and use the file as it is
        data.taxonomy.clear()
    st.caption(ctx.t("tax_file", path=path.name, year=tax.year if tax.year is not None else "-"))
    group = st.segmented_control(ctx.t("tax_group"), GROUPS, key="admin_tax_group", required=True, default="types",
                                 format_func=lambda g: ctx.t(f"tax_group_{g}"), on_change=_reset_taxonomy_form)
    terms = getattr(tax, group)
    yes, no = ctx.t("tax_yes"), ctx.t("tax_no")
    st.dataframe(pd.DataFrame({
        ctx.t("tax_key"): [x.key for x in terms], ctx.t("tax_label_id"): [x.id for x in terms],
        ctx.t("tax_label_en"): [x.en for x in terms], ctx.t("tax_active"): [yes if x.active else no for x in terms],
    }), hide_index=True, key="admin_tax_table")
    labels = {x.key: f"{x.key} - {x.label(ctx.lang)}" for x in terms}
    pick = st.selectbox(ctx.t("tax_term"), [None, *labels], key=f"admin_tax_pick_{group}",
                        format_func=lambda k: ctx.t("tax_new") if k is None else labels[k],
                        on_change=_reset_taxonomy_form)
    term = None if pick is None else tax.term(group, pick)
    with st.form("admin_tax_form"):
        key = st.text_input(ctx.t("tax_key"), value="" if term is None else term.key, max_chars=63,
                            disabled=term is not None, help=ctx.t("tax_key_help"), key="admin_tax_key")
        label_id = st.text_input(ctx.t("tax_label_id"), value="" if term is None else term.id, max_chars=200,
                                 key="admin_tax_id")
        label_en = st.text_input(ctx.t("tax_label_en"), value="" if term is None else term.en, max_chars=200,
                                 key="admin_tax_en")
        active = st.checkbox(ctx.t("tax_active"), value=True if term is None else term.active, key="admin_tax_active")
        save = st.form_submit_button(ctx.t("tax_save"), type="primary")
    if save:
        try:
            if term is None:
                rank = len(terms) + 1 if group == "ikrn" else None  # a new IKRN category comes after the others
                done = services.add_taxonomy_term(ctx.store, ctx.user, group, key.strip(), label_id, label_en,
                                                  active=active, rank=rank, path=path)
                message = ctx.t("tax_added", term=done.key)
            else:
                done = services.edit_taxonomy_labels(ctx.store, ctx.user, group, term.key, id_label=label_id,
                                                     en_label=label_en, active=active, path=path)
                message = ctx.t("tax_updated", term=done.key)
        except P4gnError as exc:
            error(ctx, exc)
        else:
            _taxonomy_saved(message)
    st.download_button(ctx.t("tax_download"), data=text.encode("utf-8"), file_name=path.name,
                       mime="application/toml", on_click="ignore", icon=":material/download:",
                       key="admin_tax_download")
    with st.expander(ctx.t("tax_replace")):
        # keyed on the file's content: a change made meanwhile (here or elsewhere) is never replaced by stale text
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        new_text = st.text_area(ctx.t("tax_replace_text"), value=text, height=300, key=f"admin_tax_text_{digest}")
        if st.button(ctx.t("tax_replace_do"), key="admin_tax_replace", icon=":material/upload:"):
            try:
                services.replace_taxonomy(ctx.store, ctx.user, new_text, path=path)
            except P4gnError as exc:
                error(ctx, exc)
            else:
                _taxonomy_saved(ctx.t("tax_replaced"))


def main(ctx: Context) -> None:
    st.title(ctx.t("admin_title"))
    audit_section(ctx)
    if ctx.can("restore"):
        restore_section(ctx)
    if ctx.can("manage_taxonomy"):
        taxonomy_section(ctx)


main(current())
