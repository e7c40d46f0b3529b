"""Tinjau duplikat (managers and admins): the possible duplicates across reporters, with a decision per pair.

The pairs come from :func:`geo_p4gn.services.review_list` (the rule of :mod:`geo_p4gn.duplicates`, with the
decision stored on each); the buttons call :func:`~geo_p4gn.services.mark_duplicate`,
:func:`~geo_p4gn.services.keep_both` and :func:`~geo_p4gn.services.unmark_duplicate`, which check
``review_duplicates`` and write the audit log. A confirmed duplicate counts in no coverage figure.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo_p4gn import services
from geo_p4gn._errors import P4gnError
from geo_p4gn.filters import Filters
from geo_p4gn_app import views
from geo_p4gn_app.session import Context, act, current, error, show_flash

#: Pairs shown at once (not reviewed first).
SHOWN = 50


def _pair(ctx: Context, i: int, p) -> None:
    with st.container(border=True):
        st.markdown(ctx.t("review.pair", place=p.place, type=views.type_label(p.type_key, ctx.lang),
                          days=int(p.days_apart), similarity=f"{float(p.similarity):.2f}"))
        st.text(ctx.t("review.record", label="A", date=views.date_text(p.date_a), organisation=p.organisation_a,
                      id=p.record_a))
        st.text(ctx.t("review.record", label="B", date=views.date_text(p.date_b), organisation=p.organisation_b,
                      id=p.record_b))
        if p.decision == "duplicate":
            st.caption(ctx.t("review.is_duplicate", record="A" if p.duplicate_id == p.record_a else "B"))
        else:
            st.caption(ctx.t("review.distinct" if p.decision == "distinct" else "review.pending"))
        a, b, keep, undo = st.columns(4)
        if a.button(ctx.t("review.mark_a"), key=f"dup_a_{i}", disabled=p.duplicate_id == p.record_a):
            act(ctx, lambda: services.mark_duplicate(ctx.store, ctx.user, p.record_a, p.record_b),
                ctx.t("review.marked"))
        if b.button(ctx.t("review.mark_b"), key=f"dup_b_{i}", disabled=p.duplicate_id == p.record_b):
            act(ctx, lambda: services.mark_duplicate(ctx.store, ctx.user, p.record_b, p.record_a),
                ctx.t("review.marked"))
        if keep.button(ctx.t("review.keep"), key=f"dup_keep_{i}", disabled=p.decision == "distinct"):
            act(ctx, lambda: services.keep_both(ctx.store, ctx.user, p.record_a, p.record_b), ctx.t("review.kept"))
        if undo.button(ctx.t("review.unmark"), key=f"dup_undo_{i}", disabled=p.decision == "pending"):
            act(ctx, lambda: services.unmark_duplicate(ctx.store, ctx.user, p.record_a, p.record_b),
                ctx.t("review.unmarked"))


def main(ctx: Context) -> None:
    st.title(ctx.t("review.title"))
    st.caption(ctx.t("review.help"))
    show_flash()
    today = views.today()
    period = st.date_input(ctx.t("review.period"), value=(today - dt.timedelta(days=365), today),
                           format="DD/MM/YYYY", key="dup_period")
    start, end = (tuple(period) + (None, None))[:2] if isinstance(period, tuple | list) else (period, None)
    try:
        pairs = services.review_list(ctx.store, ctx.user, Filters(date_from=start, date_to=end))
        decisions = services.duplicate_decisions(ctx.store, ctx.user)
    except P4gnError as exc:
        error(ctx, exc)
        return
    if not len(pairs):
        st.info(ctx.t("review.none"))
    else:
        pending = int((pairs["decision"] == "pending").sum())
        st.caption(ctx.t("review.count", n=len(pairs), pending=pending))
        order = pairs.assign(_done=pairs["decision"] != "pending").sort_values("_done", kind="stable")
        for i, p in enumerate(order.head(SHOWN).itertuples(index=False)):
            _pair(ctx, i, p)
    if len(decisions):
        st.subheader(ctx.t("review.decisions"))
        st.dataframe(pd.DataFrame({
            ctx.t("review.col_record"): decisions["record_id"], ctx.t("review.col_other"): decisions["other_id"],
            ctx.t("review.col_decision"): decisions["decision"].map(
                lambda d: ctx.t("review.dup_of") if d == "duplicate" else ctx.t("review.distinct")),
            ctx.t("review.col_by"): decisions["decided_by"],
            ctx.t("review.col_at"): decisions["decided_at"].map(views.datetime_text),
        }), hide_index=True)


main(current())
