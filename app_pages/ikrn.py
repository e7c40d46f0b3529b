"""Riwayat IKRN (planners and up): the grades imported per kelurahan and year, and the before/after table.

Read through :func:`geo_p4gn.services.ikrn_history` and :func:`~geo_p4gn.services.ikrn_before_after`. A year
with no grade for a kelurahan is shown as missing (not surveyed), never as Aman.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_p4gn import services
from geo_p4gn._errors import P4gnError
from geo_p4gn.filters import Filters
from geo_p4gn_app import data, views
from geo_p4gn_app.session import Context, current, error


def main(ctx: Context) -> None:
    st.title(ctx.t("ikrn.title"))
    st.caption(ctx.t("ikrn.help"))
    try:
        grades = services.ikrn_grades(ctx.store, ctx.user)
    except P4gnError as exc:
        error(ctx, exc)
        return
    if not len(grades):
        st.info(ctx.t("ikrn.none"))
        return
    names = data.kelurahan_names()
    codes = sorted(set(grades["kelurahan_code"]), key=lambda c: names.get(c, c))
    pick = st.selectbox(ctx.t("ikrn.kelurahan"), [None, *codes], key="ikrn_kel",
                        format_func=lambda c: ctx.t("ikrn.all") if c is None else f"{names.get(c, c)} ({c})")
    hist = services.ikrn_history(ctx.store, ctx.user, pick)
    wide = hist.pivot_table(index=["kelurahan_code", "name"], columns="year", values="category", aggfunc="first")
    wide = wide.map(lambda k: views.ikrn_label(k, ctx.lang) if isinstance(k, str) else "-")  # "-": not surveyed
    wide.columns = [str(c) for c in wide.columns]  # years as column names
    wide.index = wide.index.set_names([ctx.t("col_code"), ctx.t("col_kelurahan")])
    st.dataframe(wide.reset_index(), hide_index=True)

    st.subheader(ctx.t("ikrn.before_after"))
    st.caption(ctx.t("ikrn.before_after_help"))
    years = sorted(set(grades["year"]))
    year = st.selectbox(ctx.t("ikrn.year"), years[:-1] or years, index=max(0, len(years) - 2), key="ikrn_year")
    table = services.ikrn_before_after(ctx.store, ctx.user, int(year))
    basis = services.ikrn_basis(ctx.store, ctx.user, Filters(date_from=pd.Timestamp(int(year), 1, 1).date(),
                                                             date_to=pd.Timestamp(int(year), 12, 31).date()))
    st.caption(ctx.t("ikrn.basis_grades", year=basis["year"], n=basis["graded"]) if basis["source"] == "grades"
               else ctx.t("ikrn.basis_no_grades", year=basis["year"]))
    if not len(table):
        st.info(ctx.t("ikrn.before_after_none", year=int(year), next=int(year) + 1))
        return
    shown = table.copy()
    for col in ("grade_before", "grade_after"):
        shown[col] = shown[col].map(lambda k: views.ikrn_label(k, ctx.lang))
    shown["change"] = shown["change"].map(lambda c: ctx.t(f"ikrn.{c}"))
    for col, label in (("types", views.type_label), ("actors", views.actor_label)):
        shown[col] = shown[col].map(lambda keys, label=label: ", ".join(label(k, ctx.lang) for k in keys.split(",")
                                                                          if k))
    st.dataframe(shown.rename(columns={
        "kelurahan_code": ctx.t("col_code"), "name": ctx.t("col_kelurahan"),
        "grade_before": ctx.t("ikrn.col_grade", year=int(year)), "grade_after": ctx.t("ikrn.col_grade", year=int(year) + 1),
        "change": ctx.t("ikrn.col_change"), "interventions": ctx.t("col_interventions"),
        "types_done": ctx.t("ikrn.col_types_done"), "types": ctx.t("col_types"),
        "actors_done": ctx.t("ikrn.col_actors_done"), "actors": ctx.t("col_actors"),
        "organisations": ctx.t("ikrn.col_orgs")}), hide_index=True)


main(current())
