"""Catat intervensi: place the point (tap the map, choose a site, or "my location"), fill a short form, save.

The record's id is made when the form opens and kept in the session and the page address (``?catat=``),
so a double tap, a rerun or a reload stores one record (the store treats the same id with the same
content as unchanged). The kelurahan is shown as soon as a point is placed; a point outside Jakarta or in
the sea is refused there, before submitting. The user's own recent entries are on the map and in a list
where they can be corrected or deleted (the services decide what is allowed).
"""

from __future__ import annotations

import uuid

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from geo_p4gn import services, settings
from geo_p4gn._errors import ConflictError, NotFoundError, P4gnError
from geo_p4gn.records import new_id
from geo_p4gn.regions import kecamatan_code, kota_code
from geo_p4gn.render import elements, maps
from geo_p4gn_app import data, mapview, pointslot, views
from geo_p4gn_app.session import Context, act, current, error, show_flash
from geo_p4gn_app.text import md

OWN_COLOR = "#7570b3"


# -- state ----------------------------------------------------------------------------------------------
def _is_uuid(value) -> bool:
    try:
        return str(uuid.UUID(str(value))) == str(value)
    except ValueError:
        return False


def form_id() -> str:
    """The id of the record being written: made once when the form opens, kept across reruns/reloads."""
    fid = st.session_state.get("catat_id")
    if not fid:
        q = st.query_params.get("catat")
        fid = q if _is_uuid(q) else new_id()
        st.session_state["catat_id"] = fid
    if st.query_params.get("catat") != fid:
        st.query_params["catat"] = fid
    return fid


def new_form() -> None:
    """Start a new record: a new id, no point, no site."""
    st.session_state["catat_id"] = new_id()
    st.session_state.pop("catat_point", None)
    st.session_state["catat_site"] = None
    st.query_params["catat"] = st.session_state["catat_id"]


def locate(lon: float, lat: float) -> dict:
    """Where the point falls: kelurahan code and status (inside/overlap/gap, or why it is refused)."""
    row = data.boundaries().assign([lon], [lat]).iloc[0]
    gap = row["gap_m"]
    return {"lon": float(lon), "lat": float(lat), "kelurahan_code": row["kelurahan_code"],
            "status": row["status"], "gap_m": None if pd.isna(gap) else float(gap)}


def _site_point(sites: gpd.GeoDataFrame, site_id: str) -> tuple[float, float] | None:
    row = sites[sites["id"] == site_id]
    if not len(row):
        return None
    p = shapely.point_on_surface(row.geometry.iloc[0])
    return p.x, p.y


def _on_site_change(sites: gpd.GeoDataFrame) -> None:
    site_id = st.session_state.get("catat_site")
    if site_id:
        xy = _site_point(sites, site_id)
        if xy:
            st.session_state["catat_point"] = locate(*xy)


def handle_clicks(out: dict, sites: gpd.GeoDataFrame) -> None:
    """A new tap places the point; a tap on a site marker also chooses that site.

    No rerun: the point reaches the map after this (:func:`geo_p4gn_app.pointslot.sync`), in the same run."""
    obj, click = out.get("last_object_clicked"), out.get("last_clicked")
    seen_obj, seen_click = st.session_state.get("catat_seen", (None, None))
    new_obj = obj is not None and obj != seen_obj
    new_click = click is not None and click != seen_click
    if not (new_obj or new_click):
        return
    st.session_state["catat_seen"] = (obj, click)
    site_id = views.site_at(obj, sites) if new_obj else None
    if site_id:
        st.session_state["catat_site"] = site_id
        xy = _site_point(sites, site_id)
        st.session_state["catat_point"] = locate(*xy)
    elif new_click:
        st.session_state["catat_point"] = locate(float(click["lng"]), float(click["lat"]))


# -- the map --------------------------------------------------------------------------------------------
def build_map(ctx: Context, sites: gpd.GeoDataFrame, own: pd.DataFrame) -> folium.Map:
    m = mapview.base_map()
    kel_style = {"color": "#777777", "weight": 0.7, "fillColor": "#ffffff", "fillOpacity": 0.35}
    mapview.area_layer("kelurahan", ctx.t("layer_kelurahan"), kel_style).add_to(m)
    mapview.outline_layer("kota", ctx.t("layer_kota")).add_to(m)
    markers = views.site_markers(sites, ctx.lang) if len(sites) else None
    if markers is not None:
        layer = maps.site_layer(markers, name=ctx.t("map.sites"))
        layer.add_to(m)
        mapview.SnapClicks(layer).add_to(m)
    if len(own):
        frame = gpd.GeoDataFrame(
            {"_t": [f"{views.type_label(r.type_key, ctx.lang)} - {views.date_text(r.date)} - {r.organisation}"
                    for r in own.itertuples()]},
            geometry=gpd.points_from_xy(own["lon"], own["lat"]), crs=settings.crs)
        style = {"radius": 6, "color": "#ffffff", "weight": 1.5, "fillColor": OWN_COLOR, "fillOpacity": 0.95}
        maps.DataLayer(maps.feature_collection(frame, ["_t"]), ctx.t("layer_my_entries", n=len(own)),
                       style=style, sticky=False).add_to(m)
    mapview.place_labels(markers).add_to(m)
    pointslot.PointSlot().add_to(m)  # the placed point comes apart from the map (pointslot.sync)
    mapview.LocateButton(ctx.t("locate_me"), ctx.t("locate_failed"), ctx.t("locate_refused")).add_to(m)
    elements.LayerSwitch(collapsed=True).add_to(m)
    return m


def show_point(ctx: Context, point: dict | None) -> bool:
    """Say where the point is, or why it cannot be recorded; True when it can."""
    if not point:
        st.info(ctx.t("point_none"))
        return False
    coords = f"{ctx.t('coords')}: {point['lat']:.6f}, {point['lon']:.6f}"
    if point["status"] == "swapped":
        st.error(ctx.t("point_swapped"))
        st.caption(coords)
        return False
    if point["status"] not in ("inside", "overlap", "gap"):
        st.error(ctx.t("point_outside"))
        st.caption(coords)
        return False
    code = point["kelurahan_code"]
    text = ctx.t("point_in", kelurahan=views.area_name(code), kecamatan=views.area_name(kecamatan_code(code)),
                 kota=views.area_name(kota_code(code)))
    if point["status"] == "gap" and point["gap_m"] is not None:
        text += " " + ctx.t("point_gap", m=f"{point['gap_m']:.0f}")
    st.success(md(text), icon=":material/location_on:")
    st.caption(coords)
    return True


# -- the form -------------------------------------------------------------------------------------------
def _required_missing(ctx: Context, values: dict) -> list[str]:
    names = {"type": "f_type", "actor": "f_actor", "organisation": "f_org", "date": "f_date"}
    return [ctx.t(label) for key, label in names.items() if not values.get(key)]


def entry_form(ctx: Context, fid: str, point: dict | None, point_ok: bool) -> None:
    tax = data.taxonomy()
    types = [x.key for x in tax.types if x.active]
    actors = [x.key for x in tax.actors if x.active]
    orgs = data.organisations(ctx.view(), ctx.user)
    today = views.today()
    org_key = f"catat_org_{fid}"
    if orgs:  # a name used before fills the box below; what is typed there is what is stored
        st.selectbox(ctx.t("f_org_pick"), orgs, index=None, placeholder=ctx.t("choose"), key=f"catat_org_pick_{fid}",
                     help=ctx.t("f_org_pick_help"), on_change=_pick_org, args=(fid,))
    with st.form(f"catat_form_{fid}", border=True, enter_to_submit=False):
        date = st.date_input(ctx.t("f_date"), value=today, max_value=today, format="DD/MM/YYYY",
                             key=f"catat_date_{fid}")
        type_key = st.selectbox(ctx.t("f_type"), types, index=None, placeholder=ctx.t("choose"),
                                format_func=lambda k: views.type_label(k, ctx.lang), key=f"catat_type_{fid}")
        actor_key = st.selectbox(ctx.t("f_actor"), actors, index=None, placeholder=ctx.t("choose"),
                                 format_func=lambda k: views.actor_label(k, ctx.lang), key=f"catat_actor_{fid}")
        org = st.text_input(ctx.t("f_org"), max_chars=200, help=ctx.t("f_org_help"), key=org_key).strip()
        participants = st.number_input(ctx.t("f_participants"), min_value=0, max_value=1_000_000, step=1,
                                       value=None, key=f"catat_participants_{fid}")
        notes = st.text_area(ctx.t("f_notes"), max_chars=settings.max_notes_chars, help=ctx.t("f_notes_help"),
                             key=f"catat_notes_{fid}", height=80)
        submitted = st.form_submit_button(ctx.t("save"), type="primary", width="stretch")
    if not submitted:
        return
    raw = {"id": fid, "date": date, "type": type_key, "actor": actor_key, "organisation": org,
           "participants": participants, "notes": notes or "", "site_id": st.session_state.get("catat_site")}
    missing = _required_missing(ctx, raw)
    if not point_ok:
        st.error(ctx.t("need_point") if not point else ctx.t("point_outside"))
        return
    if missing:
        st.error(ctx.t("need_fields", fields=", ".join(missing)))
        return
    raw.update(lon=point["lon"], lat=point["lat"])
    try:
        services.record_intervention(ctx.store, ctx.user, raw)
    except ConflictError:
        st.error(ctx.t("conflict_id"))
        st.button(ctx.t("new_entry"), on_click=new_form, key="catat_conflict_new")
        return
    except P4gnError as exc:
        error(ctx, exc)
        return
    st.rerun()


def _pick_org(fid: str) -> None:
    picked = st.session_state.get(f"catat_org_pick_{fid}")
    if picked:
        st.session_state[f"catat_org_{fid}"] = picked


def saved_panel(ctx: Context, rec) -> None:
    """The record this form already stored (after saving, a double submit or a reload)."""
    st.success(md(ctx.t("saved_in", kelurahan=views.area_name(rec.kelurahan_code))), icon=":material/check_circle:")
    st.dataframe(pd.DataFrame([{
        ctx.t("col_date"): views.date_text(rec.date), ctx.t("col_type"): views.type_label(rec.type_key, ctx.lang),
        ctx.t("col_actor"): views.actor_label(rec.actor_key, ctx.lang), ctx.t("col_org"): rec.organisation,
        ctx.t("col_kelurahan"): views.area_name(rec.kelurahan_code), ctx.t("col_participants"): rec.participants,
    }]), hide_index=True)
    st.caption(f"{ctx.t('saved_id')}: {rec.id}")
    st.button(ctx.t("new_entry"), on_click=new_form, type="primary", key="catat_new", icon=":material/add:")


# -- own recent entries ------------------------------------------------------------------------------------
def recent_entries(ctx: Context, own: pd.DataFrame, point: dict | None, point_ok: bool) -> None:
    days = settings.own_edit_days
    st.subheader(ctx.t("my_recent", days=days))
    show_flash()
    if not len(own):
        st.caption(ctx.t("my_recent_none", days=days))
        return
    # one line per entry, which wraps on a phone (a table there showed only date, type and actor, so two
    # entries looked the same): what, where, who, and when it was saved (WIB)
    labels = {r.id: entry_label(ctx, r) for r in own.itertuples()}
    with st.container(height=min(40 + 58 * len(own), 300), border=True):
        for r in own.itertuples():
            st.markdown(f"**{md(views.date_text(r.date))} · {md(views.area_name(r.kelurahan_code))}** · "
                        f"{md(r.organisation)}  \n{md(views.type_label(r.type_key, ctx.lang))} · "
                        f"{md(views.actor_label(r.actor_key, ctx.lang))} · "
                        f"{md(ctx.t('entry_saved_at', when=views.datetime_text(r.created_at)))}")
    if st.session_state.get("catat_edit") not in (None, *labels):
        st.session_state["catat_edit"] = None
    rid = st.selectbox(ctx.t("my_recent_help"), [None, *labels], key="catat_edit",
                       format_func=lambda r: ctx.t("choose") if r is None else labels[r])
    if rid is not None:
        edit_entry(ctx, own[own["id"] == rid].iloc[0], point, point_ok)


def edit_entry(ctx: Context, row: pd.Series, point: dict | None, point_ok: bool) -> None:
    tax = data.taxonomy()
    rid = row["id"]
    st.markdown(f"**{ctx.t('edit_title')}**")
    with st.form(f"catat_edit_{rid}_{row['version']}", enter_to_submit=False):
        date = st.date_input(ctx.t("f_date"), value=pd.Timestamp(row["date"]).date(), format="DD/MM/YYYY")
        type_keys = list(tax.type_keys)
        type_key = st.selectbox(ctx.t("f_type"), type_keys, index=_index(type_keys, row["type_key"]),
                                format_func=lambda k: views.type_label(k, ctx.lang))
        actor_keys = list(tax.actor_keys)
        actor_key = st.selectbox(ctx.t("f_actor"), actor_keys, index=_index(actor_keys, row["actor_key"]),
                                 format_func=lambda k: views.actor_label(k, ctx.lang))
        org = st.text_input(ctx.t("f_org"), value=str(row["organisation"]), max_chars=200)
        participants = st.number_input(ctx.t("f_participants"), min_value=0, max_value=1_000_000, step=1,
                                       value=None if pd.isna(row["participants"]) else int(row["participants"]))
        notes = st.text_area(ctx.t("f_notes"), value="" if pd.isna(row["notes"]) else str(row["notes"]),
                             max_chars=settings.max_notes_chars, height=80)
        move = st.checkbox(ctx.t("edit_move"), value=False, disabled=not point_ok)
        save = st.form_submit_button(ctx.t("edit_save"), type="primary")
    if save:
        changes = {"date": date, "type": type_key, "actor": actor_key, "organisation": org,
                   "participants": participants, "notes": notes or ""}
        if move and point_ok:
            changes.update(lon=point["lon"], lat=point["lat"])
        act(ctx, lambda: services.edit_intervention(ctx.store, ctx.user, rid, changes,
                                                    expected_version=int(row["version"])), ctx.t("edit_saved"))
    confirm = st.checkbox(ctx.t("delete_confirm"), key=f"catat_del_ok_{rid}")
    if st.button(ctx.t("delete"), disabled=not confirm, key=f"catat_del_{rid}", icon=":material/delete:"):
        act(ctx, lambda: _delete(ctx, rid), ctx.t("deleted"))


def entry_label(ctx: Context, r) -> str:
    """An own entry as the edit picker shows it: date, kelurahan, organisation, type (two entries differ)."""
    return " · ".join(p for p in (views.date_text(r.date), views.area_name(r.kelurahan_code), str(r.organisation),
                                  views.type_label(r.type_key, ctx.lang)) if p)


def _delete(ctx: Context, rid: str) -> None:
    """Delete an own entry; when it is the one this form saved, the form starts a new record (its id is
    taken: saving it again would be refused as another record's number)."""
    services.delete_intervention(ctx.store, ctx.user, rid)
    if st.session_state.get("catat_id") == rid:
        new_form()


def _index(options: list[str], value) -> int | None:
    return options.index(value) if value in options else None


# -- the page -------------------------------------------------------------------------------------------
def main(ctx: Context) -> None:
    st.title(ctx.t("catat_title"))
    v = ctx.view()
    sites = data.sites(v, ctx.user)
    own = data.own_recent(v, ctx.user, settings.own_edit_days)
    fid = form_id()

    st.caption(ctx.t("map_hint_catat"))
    # the same map on every run (the browser keeps it); the point travels apart, after the tap is read
    out = mapview.show(build_map(ctx, sites, own), key="catat_map", returned=("last_clicked", "last_object_clicked"))
    handle_clicks(out, sites)
    point = st.session_state.get("catat_point")
    pointslot.sync(point)
    point_ok = show_point(ctx, point)

    try:
        saved = services.get_intervention(ctx.store, ctx.user, fid)
    except NotFoundError:
        saved = None
    if saved is not None:
        saved_panel(ctx, saved)
    else:
        if not len(sites):
            st.caption(ctx.t("no_sites"))
        site_ids = [None, *sites["id"].tolist()]
        names = dict(zip(sites["id"], sites["name"]))
        if st.session_state.get("catat_site") not in site_ids:
            st.session_state["catat_site"] = None
        st.selectbox(ctx.t("site_choice"), site_ids, key="catat_site",
                     format_func=lambda s: ctx.t("site_none") if s is None else
                     f"{names.get(s, s)} ({views.area_name(sites.loc[sites['id'] == s, 'kelurahan_code'].iloc[0])})",
                     on_change=_on_site_change, args=(sites,))
        entry_form(ctx, fid, point, point_ok)
    recent_entries(ctx, own, point, point_ok)


main(current())
