"""Peta cakupan: filters (shared as a link), the choropleth with its legend, sites by completeness, the gap
list, the type x actor matrix of a tapped site or area, the timeline and the downloadable table.

Every number comes from :mod:`geo_p4gn.coverage` through the caches of :mod:`geo_p4gn_app.data`. The map
gets areas and sites with their aggregates, never the records. Individual points (clustered, allow-listed
fields only, see :func:`geo_p4gn_app.mapview.points_layer`) are added only when at most :data:`POINT_LIMIT`
of them are to be drawn: all the filtered records when the filters leave that few; otherwise, when the user
turns on "points when zoomed in" and zooms in to :data:`POINT_ZOOM` or more, those inside the map's view.

Zoomed-in points reach the already drawn map as ``st_folium``'s ``feature_group_to_add``: the base map
(whose script keys the component) stays the same, so it is not sent again or reset by a pan. Only in that
mode does the map report its zoom and bounds (and rerun the page on a pan); by default only clicks do.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo_p4gn import settings
from geo_p4gn.filters import Filters
from geo_p4gn.regions import code_at
from geo_p4gn.render import elements, maps
from geo_p4gn.spreadsheet import neutralise
from geo_p4gn_app import data, filter_panel, mapview, views
from geo_p4gn_app.session import Context, current
from geo_p4gn_app.text import md

#: Individual intervention points are drawn only when this many or fewer are to be drawn.
POINT_LIMIT = mapview.POINT_LIMIT
#: The zoom level from which the points inside the map's view are drawn (in the zoomed-in mode).
POINT_ZOOM = mapview.POINT_ZOOM
LEVELS = ("kelurahan", "kecamatan", "kota")


def view_controls(ctx: Context) -> tuple[str, str]:
    if st.session_state.get("view_level") not in LEVELS:
        st.session_state["view_level"] = "kelurahan"
    if st.session_state.get("view_metric") not in maps.METRICS:
        st.session_state["view_metric"] = "interventions"
    c1, c2 = st.columns(2)
    with c1:
        level = st.segmented_control(ctx.t("level"), LEVELS, key="view_level", required=True,
                                     format_func=lambda lv: ctx.t(f"level_{lv}"), persist_state="session")
    with c2:
        metric = st.selectbox(ctx.t("metric"), list(maps.METRICS), key="view_metric", persist_state="session",
                              format_func=lambda k: maps.metric_label(k, ctx.lang))
    return level, metric


def area_details(ctx: Context, table: pd.DataFrame) -> dict[str, list[list[str]]]:
    details = {}
    for r in table.itertuples(index=False):
        details[r.code] = [
            [ctx.t("popup_interventions"), str(r.interventions)],
            [ctx.t("popup_types"), f"{r.types_done}/{r.types_total}"],
            [ctx.t("popup_actors"), f"{r.actors_done}/{r.actors_total}"],
            [ctx.t("popup_sites"), f"{r.sites_reached}/{r.target_sites}" if r.target_sites else ctx.t("none")],
            [ctx.t("popup_last"), views.date_text(r.last_date) or ctx.t("none")],
        ]
    return details


def build_map(ctx: Context, level: str, metric: str, table: pd.DataFrame, site_table: pd.DataFrame,
              sites: gpd.GeoDataFrame, filters: Filters, points: gpd.GeoDataFrame | None,
              zoom_mode: bool = False):
    b = data.boundaries()
    layer = b.layer(level)
    areas = layer[layer["code"].isin(table["code"])]
    share = maps.METRICS[metric][0]
    completeness = maps.metric_values(site_table, "type_completeness")
    shown = sites[sites["id"].isin(site_table["code"])]
    bounds = maps.MAINLAND_BOUNDS
    if (filters.kota or filters.kecamatan or filters.kelurahan) and len(areas):
        x0, y0, x1, y1 = areas.total_bounds
        bounds = ((y0, x0), (y1, x1))
    outlines = [] if level == "kota" else [(ctx.t("layer_kota"), b.kota, 2.4)]
    m = maps.coverage_map(
        areas=areas, values=maps.metric_values(table, metric), metric_label=maps.metric_label(metric, ctx.lang),
        share=share, outlines=outlines, sites=views.site_markers(shown, ctx.lang, completeness, site_table),
        details=area_details(ctx, table), lang=ctx.lang, tiles=settings.tiles,
        attribution=settings.tiles_attribution, bounds=bounds, geometry_url=mapview.level_geometry_url,
        labels=mapview.labels_url(), basemap=mapview.basemap_spec(),
    )
    site_layer = next((el for el in m._children.values() if isinstance(el, maps.DataLayer)
                       and el.layer_name == maps.esc(ctx.t("map.sites"))), None)
    if site_layer is not None:
        mapview.SnapClicks(site_layer).add_to(m)
    if points is not None and len(points):
        mapview.points_layer(points, ctx.lang, name=ctx.t("layer_points", n=len(points))).add_to(m)
    if zoom_mode:  # zoomed-in points come later as a feature group: st_folium loads scripts only once
        mapview.ClusterAssets().add_to(m)
    return m


def handle_click(out: dict, sites: gpd.GeoDataFrame, level: str) -> None:
    obj = out.get("last_object_clicked")
    if obj is None or obj == st.session_state.get("cakupan_seen"):
        return
    st.session_state["cakupan_seen"] = obj
    site_id = views.site_at(obj, sites)
    if site_id:
        st.session_state["cakupan_sel"] = ("site", site_id)
        return
    row = data.boundaries().assign([float(obj["lng"])], [float(obj["lat"])]).iloc[0]
    code = row["kelurahan_code"]
    st.session_state["cakupan_sel"] = ("area", code_at(code, level)) if isinstance(code, str) else None


def _clear_selection() -> None:
    st.session_state["cakupan_sel"] = None


def matrix_section(ctx: Context, v, filters: Filters, sites: gpd.GeoDataFrame) -> None:
    sel = st.session_state.get("cakupan_sel")
    site = area = None
    what = ctx.t("selection_all")
    if sel and sel[0] == "site" and sel[1] in set(sites["id"]):
        site = sel[1]
        what = str(sites.loc[sites["id"] == site, "name"].iloc[0])
    elif sel and sel[0] == "area":
        area = sel[1]
        what = views.area_name(area)
    st.subheader(md(ctx.t("matrix_title", what=what)))
    if site or area:
        st.button(ctx.t("selection_clear"), on_click=_clear_selection, key="cakupan_clear")
    mx = data.matrix(v, ctx.user, filters, site, area)
    shown = mx.rename(index=lambda k: views.type_label(k, ctx.lang), columns=lambda k: views.actor_label(k, ctx.lang))
    shown.index.name = ctx.t("col_type")
    shown.columns.name = None
    st.dataframe(shown, column_config={c: st.column_config.NumberColumn(format="%d") for c in shown.columns})


def _labels(keys, group: str, lang: str) -> str:
    if not isinstance(keys, str) or not keys:
        return ""
    tax = data.taxonomy()
    return ", ".join(tax.label(group, k, lang) for k in keys.split(","))


def gap_section(ctx: Context, v, filters: Filters) -> None:
    st.subheader(ctx.t("gaps_title"))
    g = data.gaps(v, ctx.user, filters, views.today())
    if not len(g):
        st.caption(ctx.t("gaps_none"))
        return
    shown = pd.DataFrame({
        ctx.t("col_rank"): g["rank"],
        ctx.t("col_gap"): g["gap"].map(lambda x: ctx.t(f"gap_{x}")),
        ctx.t("col_name"): g["name"],
        ctx.t("col_level"): g["level"].map(lambda lv: ctx.t("col_site") if lv == "site" else ctx.t(f"level_{lv}")),
        ctx.t("col_kelurahan"): g["kelurahan_code"].map(views.area_name),
        ctx.t("col_ikrn"): g["ikrn"].map(lambda k: views.ikrn_label(k, ctx.lang)),
        ctx.t("col_last"): g["last_date"].map(views.date_text),
        ctx.t("col_days"): g["days_since_last"],
        ctx.t("col_types"): g["types_done"].astype(str) + "/" + g["types_total"].astype(str),
        ctx.t("col_missing_types"): g["missing_types"].map(lambda k: _labels(k, "types", ctx.lang)),
        ctx.t("col_actors"): g["actors_done"].astype(str) + "/" + g["actors_total"].astype(str),
        ctx.t("col_missing_actors"): g["missing_actors"].map(lambda k: _labels(k, "actors", ctx.lang)),
    })
    st.dataframe(shown, hide_index=True, height=min(38 + 35 * len(shown), 400))


def timeline_section(ctx: Context, v, filters: Filters) -> None:
    st.subheader(ctx.t("timeline_title"))
    by = st.segmented_control(ctx.t("timeline_by"), ("type", "actor"), key="cakupan_tl_by", required=True,
                              default="type", format_func=lambda x: ctx.t(f"by_{x}"))
    tl = data.timeline(v, ctx.user, filters, by or "type")
    if not len(tl):
        st.caption(ctx.t("no_records"))
        return
    label = views.type_label if by != "actor" else views.actor_label
    shown = tl.rename(columns=lambda k: label(k, ctx.lang))
    shown = shown.loc[:, shown.sum(axis=0) > 0]
    shown.index = shown.index.strftime("%Y-%m")  # one bar per month
    st.bar_chart(shown, stack=True, height=280, x_label="", y_label=ctx.t("col_interventions"))


def _csv(table: pd.DataFrame) -> bytes:
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out.to_csv(index=False).encode("utf-8-sig")


def table_section(ctx: Context, level: str, table: pd.DataFrame, site_table: pd.DataFrame) -> None:
    st.subheader(ctx.t("table_head"))
    which = st.segmented_control(ctx.t("level"), (level, "site"), key="cakupan_table_level",
                                 required=True, default=level,
                                 format_func=lambda x: ctx.t("col_site") if x == "site" else ctx.t(f"level_{x}"))
    t = site_table if which == "site" else table
    status = {s: ctx.t(f"status_{s}") for s in ("covered", "reached", "not_reached", "no_target")}
    shown = pd.DataFrame({
        ctx.t("col_code"): t["code"], ctx.t("col_name"): t["name"],
        ctx.t("col_status"): t["status"].map(status),
        ctx.t("col_interventions"): t["interventions"],
        ctx.t("col_types"): t["types_done"].astype(str) + "/" + t["types_total"].astype(str),
        ctx.t("col_actors"): t["actors_done"].astype(str) + "/" + t["actors_total"].astype(str),
        ctx.t("col_sites_reached"): np.where(t["target_sites"] > 0,
                                             t["sites_reached"].astype(str) + "/" + t["target_sites"].astype(str), ""),
        ctx.t("col_last"): t["last_date"].map(views.date_text),
    })
    st.dataframe(shown, hide_index=True, height=300)
    st.download_button(ctx.t("download_csv"), data=lambda: _csv(t), file_name=f"cakupan-{which}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="cakupan_csv")


def main(ctx: Context) -> None:
    st.title(ctx.t("cakupan_title"))
    v = ctx.view()
    sites = data.sites(v, ctx.user)
    filters = filter_panel.panel(ctx, sites)
    level, metric = view_controls(ctx)
    filter_panel.write_url(filters, {"level": level, "metric": metric})

    n = data.filtered_count(v, ctx.user, filters)
    today = views.today()
    tables = data.coverage_tables(v, ctx.user, filters, ("site", level), today)
    table, site_table = tables[level], tables["site"]
    caption = st.empty()
    points = area_points = box = None
    zoom_mode = False
    note = ctx.t("points_hidden", n=POINT_LIMIT)
    if 0 < n <= POINT_LIMIT:
        points = mapview.record_points(v, ctx.user, filters, POINT_LIMIT)
        note = ctx.t("points_shown", n=POINT_LIMIT)
    elif n > POINT_LIMIT:
        zoom_mode = st.toggle(ctx.t("points_zoom_toggle"), key="cakupan_zoom_points",
                              help=ctx.t("points_zoom_help", zoom=POINT_ZOOM, n=POINT_LIMIT))
    map_key = "cakupan_map_zoom" if zoom_mode else "cakupan_map"
    if zoom_mode:
        # the view the map last reported (streamlit-folium's on_change copies it here before the rerun)
        box = mapview.zoomed_box(st.session_state.get(map_key), POINT_ZOOM)
        if box is None:
            note = ctx.t("points_zoom_in", zoom=POINT_ZOOM)
        else:
            area_points = mapview.record_points(v, ctx.user, filters, POINT_LIMIT, box)
            note = (ctx.t("points_too_many_here", n=POINT_LIMIT) if area_points is None
                    else ctx.t("points_in_view", k=len(area_points)))
    caption.caption(f"{ctx.t('records_in_view', n=f'{n:,}'.replace(',', '.'))} {note} {ctx.t('map_click_hint')}")

    m = build_map(ctx, level, metric, table, site_table, sites, filters, points, zoom_mode)
    groups = None
    if area_points is not None and len(area_points):
        name = ctx.t("layer_points", n=len(area_points))
        group = elements.FeatureGroup(name=maps.esc(name), control=False)
        mapview.points_layer(area_points, ctx.lang, name=name).add_to(group)
        groups = [group]
    returned = ("last_object_clicked", "zoom", "bounds") if zoom_mode else ("last_object_clicked",)
    out = mapview.show(m, key=map_key, returned=returned, feature_groups=groups)
    handle_click(out, sites, level)
    if zoom_mode and mapview.zoomed_box(out, POINT_ZOOM) != box:
        # the map reports a view this run did not draw for (no on_change copy yet): draw for it
        st.session_state[map_key] = {k: out.get(k) for k in ("zoom", "bounds")}
        st.rerun()

    c1, c2 = st.columns(2)
    with c1:
        matrix_section(ctx, v, filters, sites)
    with c2:
        gap_section(ctx, v, filters)
    timeline_section(ctx, v, filters)
    table_section(ctx, level, table, site_table)


main(current())
