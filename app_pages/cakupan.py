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

import datetime as dt
import textwrap

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
        labels=mapview.labels_url(), basemap=mapview.basemap_spec(), metric=metric,
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
    shown = shown.astype("int64")
    shown.index.name = ctx.t("col_type")
    shown.columns.name = None
    # a static table: every actor's column and number shows at 1280 px and at 390 px (the labels wrap),
    # where a scrolled grid showed one actor of five on a desktop's half column and none on a phone
    with st.container(key="cakupan_matrix"):
        # its column widths and wrapping: the app's style sheet (geo_p4gn_app/page.py, CSS)
        st.table(shown)


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
        ctx.t("col_name"): g["name"],
        ctx.t("col_gap"): g["gap"].map(lambda x: ctx.t(f"gap_{x}")),
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
    config = {ctx.t("col_rank"): st.column_config.NumberColumn(width=40, pinned=True),
              ctx.t("col_name"): st.column_config.TextColumn(width="medium", pinned=True)}
    with st.container(key="cakupan_gaps"):
        st.dataframe(shown, hide_index=True, height=min(38 + 35 * len(shown), 400), column_config=config)


def timeline_section(ctx: Context, v, filters: Filters) -> None:
    st.subheader(ctx.t("timeline_title"))
    by = st.segmented_control(ctx.t("timeline_by"), ("type", "actor"), key="cakupan_tl_by", required=True,
                              default="type", format_func=lambda x: ctx.t(f"by_{x}"))
    tl = data.timeline(v, ctx.user, filters, by or "type")
    if not len(tl):
        st.caption(ctx.t("no_records"))
        return
    label = views.type_label if by != "actor" else views.actor_label
    tl = tl.loc[:, tl.sum(axis=0) > 0]
    keys = list(data.taxonomy().actor_keys if by == "actor" else data.taxonomy().type_keys)
    colors = [maps.TYPE_COLORS[keys.index(k) % len(maps.TYPE_COLORS)] if k in keys else "#666666" for k in tl.columns]
    shown = tl.rename(columns=lambda k: label(k, ctx.lang))
    shown.index = shown.index.strftime("%Y-%m")  # one bar per month
    st.altair_chart(timeline_chart(shown, colors, ctx.t("timeline_month"), ctx.t("col_interventions"),
                                   ctx.t(f"by_{by or 'type'}")), key="cakupan_timeline")


def timeline_chart(shown: pd.DataFrame, colors: list[str], month: str, count: str, series: str):
    """Stacked bars per month with the legend under the chart, one label a line, never cut short (the
    default legend at the right cut the type names and, on a phone, took the chart's width)."""
    import altair as alt

    # long names wrap onto a second line (a phone is 390 px wide): the data carries the line breaks and the
    # legend's constant expression splits on them; no name ever becomes part of an expression
    shown = shown.rename(columns=lambda name: "\n".join(textwrap.wrap(str(name), 34)) or str(name))
    long = shown.rename_axis("month").reset_index().melt("month", var_name="series", value_name="n")
    order = list(shown.columns)
    legend = alt.Legend(orient="bottom", direction="vertical", columns=1, labelLimit=0, title=None,
                        symbolType="square", labelExpr="split(datum.label, '\\n')")
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("month:N", title=month, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("sum(n):Q", title=count),
        color=alt.Color("series:N", sort=order, legend=legend,
                        scale=alt.Scale(domain=order, range=colors)),
        tooltip=[alt.Tooltip("month:N", title=month), alt.Tooltip("series:N", title=series),
                 alt.Tooltip("n:Q", title=count)],
    ).properties(height=220, autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


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


def _change_details(ctx: Context, t: pd.DataFrame) -> dict[str, list[list[str]]]:
    out = {}
    for r in t.itertuples(index=False):
        out[r.code] = [
            [ctx.t("compare_interventions"), f"{r.interventions_a} \u2192 {r.interventions_b}"],
            [ctx.t("compare_types_gained"), _labels(r.types_gained, "types", ctx.lang) or "-"],
            [ctx.t("compare_types_lost"), _labels(r.types_lost, "types", ctx.lang) or "-"],
            [ctx.t("compare_actors_gained"), _labels(r.actors_gained, "actors", ctx.lang) or "-"],
            [ctx.t("compare_actors_lost"), _labels(r.actors_lost, "actors", ctx.lang) or "-"],
        ]
    return out


def compare_section(ctx: Context, v, level: str, filters: Filters, sites: gpd.GeoDataFrame) -> None:
    """Two periods compared (the core's :func:`geo_p4gn.compare.compare_periods`): a change map with a legend
    of its own, the counts, and the areas and sites whose coverage changed. Off until asked for: a second
    map costs every rerun."""
    st.subheader(ctx.t("compare_title"))
    if not st.toggle(ctx.t("compare_toggle"), key="cakupan_compare"):
        st.caption(ctx.t("compare_hint"))
        return
    year = views.today().year
    years = list(range(year, year - 8, -1))
    c1, c2 = st.columns(2)
    with c1:
        ya = st.selectbox(ctx.t("compare_a"), years, index=1, key="cakupan_cmp_a")
    with c2:
        yb = st.selectbox(ctx.t("compare_b"), years, index=0, key="cakupan_cmp_b")
    pa = (dt.date(ya, 1, 1), dt.date(ya, 12, 31))
    pb = (dt.date(yb, 1, 1), dt.date(yb, 12, 31))
    t = data.compare(v, ctx.user, filters, pa, pb, level)
    ts = data.compare(v, ctx.user, filters, pa, pb, "site")
    b = data.boundaries()
    layer = b.layer(level)
    areas = layer[layer["code"].isin(t["code"])]
    target = ts[ts["target"]]
    pts = sites[sites["id"].isin(target["code"])]
    pts = pts.assign(label=pts["name"].astype(str),
                     change=pts["id"].map(dict(zip(target["code"], target["change"]))).fillna("neither"))
    title = ctx.t("compare_map_title", a=ya, b=yb)
    m = maps.change_map(areas=areas, table=t, title=title, details=_change_details(ctx, t), sites=pts,
                        outlines=[] if level == "kota" else [(ctx.t("layer_kota"), b.kota, 2.4)], lang=ctx.lang,
                        tiles=settings.tiles, attribution=settings.tiles_attribution,
                        geometry_url=mapview.level_geometry_url, labels=mapview.labels_url(),
                        basemap=mapview.basemap_spec())
    mapview.show(m, key="cakupan_change_map")
    kinds = list(maps.CHANGE_COLORS)
    counts = pd.DataFrame({
        ctx.t(f"level_{level}"): [int((t["change"] == k).sum()) for k in kinds],
        ctx.t("compare_target_sites"): [int((target["change"] == k).sum()) for k in kinds],
    }, index=[ctx.t(f"map.change_{k}") for k in kinds])
    st.table(counts)
    changed = pd.concat([t, target])
    changed = changed[(changed["change"] != "neither") | (changed["types_gained"] != "")
                      | (changed["types_lost"] != "")]
    if not len(changed):
        st.caption(ctx.t("compare_none"))
        return
    shown = pd.DataFrame({
        ctx.t("col_name"): changed["name"],
        ctx.t("col_level"): changed["level"].map(lambda lv: ctx.t("col_site") if lv == "site" else ctx.t(f"level_{lv}")),
        ctx.t("compare_change"): changed["change"].map(lambda k: ctx.t(f"map.change_{k}")),
        ctx.t("compare_interventions"): changed["interventions_a"].astype(str) + " \u2192 "
        + changed["interventions_b"].astype(str),
        ctx.t("compare_types_gained"): changed["types_gained"].map(lambda k: _labels(k, "types", ctx.lang)),
        ctx.t("compare_types_lost"): changed["types_lost"].map(lambda k: _labels(k, "types", ctx.lang)),
        ctx.t("compare_actors_gained"): changed["actors_gained"].map(lambda k: _labels(k, "actors", ctx.lang)),
        ctx.t("compare_actors_lost"): changed["actors_lost"].map(lambda k: _labels(k, "actors", ctx.lang)),
    })
    st.dataframe(shown, hide_index=True, height=min(38 + 35 * len(shown), 400),
                 column_config={ctx.t("col_name"): st.column_config.TextColumn(pinned=True)})


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
    caption_text = f"{ctx.t('records_in_view', n=f'{n:,}'.replace(',', '.'))} {note} {ctx.t('map_click_hint')}"

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
    st.caption(caption_text)  # under the map: on a phone the map is then within the first screen

    matrix_section(ctx, v, filters, sites)
    gap_section(ctx, v, filters)
    timeline_section(ctx, v, filters)
    table_section(ctx, level, table, site_table)
    compare_section(ctx, v, level, filters, sites)


main(current())
