"""Situs: the site registry. Managers add and edit sites (name, aliases, IKRN category, sources) and set
the real place by tapping the map: one tap for a point, or the outline's corners one by one for a polygon
(no drawing plugin is needed). Setting a real place clears the "approximate" mark. Every change goes
through :func:`geo_p4gn.services.upsert_site`, which checks the role and writes the audit log; the
history is shown below the form.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from geo_p4gn import services, settings
from geo_p4gn._errors import P4gnError
from geo_p4gn.render import elements, maps
from geo_p4gn_app import data, mapview, views
from geo_p4gn_app.session import Context, current, error

NEW = "__new__"
DRAFT = "situs_draft"  # list of (lon, lat) placed on the map for the site being edited


def _selected() -> str:
    return st.session_state.get("situs_sel") or NEW


def _reset_draft() -> None:
    st.session_state[DRAFT] = []


def _undo() -> None:
    st.session_state[DRAFT] = st.session_state.get(DRAFT, [])[:-1]


def registry_table(ctx: Context, sites: gpd.GeoDataFrame) -> None:
    shown = pd.DataFrame({
        ctx.t("col_code"): sites["id"], ctx.t("col_name"): sites["name"],
        ctx.t("col_aliases"): sites["aliases"].map(lambda a: ", ".join(a) if isinstance(a, list | tuple) else ""),
        ctx.t("col_kelurahan"): sites["kelurahan_code"].map(views.area_name),
        ctx.t("col_ikrn"): sites["ikrn"].map(lambda k: views.ikrn_label(k, ctx.lang)),
        ctx.t("col_approximate"): sites["approximate"].astype(bool),
    })
    st.dataframe(shown, hide_index=True, height=min(38 + 35 * len(shown), 300))


def draft_geometry(mode: str) -> shapely.Geometry | None:
    pts = st.session_state.get(DRAFT, [])
    if mode == "point" and pts:
        return shapely.Point(pts[-1])
    if mode == "polygon" and len(pts) >= 3:
        return shapely.Polygon(pts)
    return None


def build_map(ctx: Context, sites: gpd.GeoDataFrame, current_site: dict | None) -> folium.Map:
    m = mapview.base_map()
    kel_style = {"color": "#777777", "weight": 0.7, "fillColor": "#ffffff", "fillOpacity": 0.35}
    mapview.area_layer("kelurahan", ctx.t("layer_kelurahan"), kel_style).add_to(m)
    mapview.outline_layer("kota", ctx.t("layer_kota")).add_to(m)
    markers = views.site_markers(sites, ctx.lang) if len(sites) else None
    if markers is not None:
        maps.site_layer(markers, name=ctx.t("map.sites")).add_to(m)
    if current_site is not None and current_site["geometry"].geom_type != "Point":
        frame = gpd.GeoDataFrame({"_t": [current_site["name"]]}, geometry=[current_site["geometry"]],
                                 crs=settings.crs)
        style = {"color": "#253494", "weight": 2, "fillColor": "#253494", "fillOpacity": 0.2}
        maps.DataLayer(maps.feature_collection(frame, ["_t"]), str(current_site["name"]), style=style).add_to(m)
    mapview.place_labels(markers).add_to(m)
    elements.LayerSwitch(collapsed=True).add_to(m)
    return m


def draft_group(mode: str) -> folium.FeatureGroup:
    """The point or outline being placed (no text: nothing user-entered reaches the map here)."""
    fg = elements.FeatureGroup(name="gp-draft", control=False)
    pts = [(lat, lon) for lon, lat in st.session_state.get(DRAFT, [])]
    if mode == "polygon" and len(pts) >= 2:
        shape = elements.Polygon if len(pts) >= 3 else elements.PolyLine
        shape(pts, color="#d95f02", weight=3, fill=len(pts) >= 3, fill_opacity=0.2).add_to(fg)
    for lat, lon in pts if mode == "polygon" else pts[-1:]:
        elements.CircleMarker([lat, lon], radius=6, color="#000000", weight=2, fill=True, fill_color="#d95f02",
                            fill_opacity=1.0).add_to(fg)
    return fg


def handle_click(out: dict, mode: str) -> None:
    click = out.get("last_clicked")
    if click is None or click == st.session_state.get("situs_seen"):
        return
    st.session_state["situs_seen"] = click
    if mode not in ("point", "polygon"):
        return
    pt = (round(float(click["lng"]), 7), round(float(click["lat"]), 7))
    pts = st.session_state.get(DRAFT, [])
    st.session_state[DRAFT] = [pt] if mode == "point" else [*pts, pt]
    st.rerun()


def _lines(text: str) -> list[str]:
    return [x.strip() for x in (text or "").splitlines() if x.strip()]


def history(ctx: Context, site_id: str) -> None:
    try:
        log = services.site_history(ctx.store, ctx.user, site_id)
    except P4gnError:
        return
    if not len(log):
        return
    st.subheader(ctx.t("site_history"))
    st.dataframe(pd.DataFrame({
        ctx.t("col_when"): log["at"].astype(str).str[:19].str.replace("T", " "),
        ctx.t("col_who"): log["who"], ctx.t("col_action"): log["action"],
    }).iloc[::-1], hide_index=True)


def editor(ctx: Context, sites: gpd.GeoDataFrame) -> None:
    tax = data.taxonomy()
    names = dict(zip(sites["id"], sites["name"]))
    options = [NEW, *sites["id"].tolist()]
    if st.session_state.get("situs_sel") not in options:
        st.session_state["situs_sel"] = NEW
    sel = st.selectbox(ctx.t("site_select"), options, key="situs_sel", on_change=_reset_draft,
                       format_func=lambda s: ctx.t("site_new") if s == NEW else f"{names.get(s, s)} ({s})")
    rows = sites[sites["id"] == sel] if sel != NEW else sites.iloc[:0]
    site = rows.iloc[0].to_dict() if len(rows) else None
    modes = ("keep", "point", "polygon") if site is not None else ("point", "polygon")
    mode = st.segmented_control(ctx.t("site_geom_mode"), modes, key=f"situs_mode_{sel}", required=True,
                                default=modes[0], format_func=lambda x: ctx.t(f"geom_{x}"), on_change=_reset_draft)
    if site is not None:
        kind = ctx.t("kind_point") if site["geometry"].geom_type == "Point" else ctx.t("kind_polygon")
        approx = ctx.t("approx_suffix") if site["approximate"] else ""
        st.caption(ctx.t("geom_current", kind=kind, approx=approx) + f" - {views.area_name(site['kelurahan_code'])}")
    if mode in ("point", "polygon"):
        st.caption(ctx.t(f"geom_{mode}_hint"))
    out = mapview.show(build_map(ctx, sites, site), key="situs_map", returned=("last_clicked",),
                       feature_groups=[draft_group(mode)])
    handle_click(out, mode)
    if mode == "polygon":
        n = len(st.session_state.get(DRAFT, []))
        c1, c2, c3 = st.columns(3)
        c1.caption(ctx.t("geom_vertices", n=n))
        c2.button(ctx.t("geom_undo"), on_click=_undo, disabled=n == 0, key="situs_undo")
        c3.button(ctx.t("geom_clear"), on_click=_reset_draft, disabled=n == 0, key="situs_clear")
    draft = draft_geometry(mode)
    if mode in ("point", "polygon") and draft is None:
        st.caption(ctx.t("geom_none"))

    with st.form(f"situs_form_{sel}"):
        site_id = st.text_input(ctx.t("site_id"), value="" if site is None else site["id"], max_chars=63,
                                disabled=site is not None)
        name = st.text_input(ctx.t("site_name"), value="" if site is None else site["name"], max_chars=200)
        aliases = st.text_area(ctx.t("site_aliases"), height=80,
                               value="" if site is None else "\n".join(site["aliases"] or []))
        ikrn_opts = [None, *tax.ikrn_keys]
        ikrn = st.selectbox(ctx.t("site_ikrn"), ikrn_opts,
                            index=ikrn_opts.index(site["ikrn"]) if site is not None and site["ikrn"] in ikrn_opts
                            else 0, format_func=lambda k: views.ikrn_label(k, ctx.lang))
        sources = st.text_area(ctx.t("site_sources"), height=80,
                               value="" if site is None else "\n".join(site["sources"] or []))
        save = st.form_submit_button(ctx.t("site_save"), type="primary")
    if save:
        if draft is not None:
            geometry, approximate = draft, False  # a real place was set: no longer approximate
        elif site is not None and mode == "keep":
            geometry, approximate = site["geometry"], bool(site["approximate"])
        else:
            st.error(ctx.t("geom_none"))
            return
        raw = {"id": site_id.strip() if site is None else site["id"], "name": name, "aliases": _lines(aliases),
               "ikrn": ikrn, "sources": _lines(sources), "geometry": geometry, "approximate": approximate}
        try:
            outcome = services.upsert_site(ctx.store, ctx.user, raw)
        except P4gnError as exc:
            error(ctx, exc)
        else:
            _reset_draft()
            st.session_state["situs_flash"] = outcome
            st.session_state["situs_sel_next"] = raw["id"]
            st.rerun()
    if site is not None:
        history(ctx, site["id"])


def main(ctx: Context) -> None:
    st.title(ctx.t("situs_title"))
    st.caption(ctx.t("situs_intro"))
    if "situs_sel_next" in st.session_state:
        st.session_state["situs_sel"] = st.session_state.pop("situs_sel_next")
    flash = st.session_state.pop("situs_flash", None)
    if flash:
        st.success(ctx.t("site_saved", outcome=ctx.t(f"outcome_{flash}")))
    sites = data.sites(ctx.view(), ctx.user)
    if len(sites):
        registry_table(ctx, sites)
    else:
        st.info(ctx.t("no_sites"))
    if not ctx.can("manage_sites"):
        st.info(ctx.t("site_readonly"))
        return
    editor(ctx, sites)


main(current())
