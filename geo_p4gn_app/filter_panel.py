"""The planners' filters, mirrored in the page address so that a view can be shared as a link.

The address holds exactly :meth:`geo_p4gn.filters.Filters.to_query` (plus the map's ``level`` and
``metric``), and a link is read back with :meth:`Filters.from_query`. Rules:

- when the address holds filters the session has not written itself (a shared link, a fresh tab), they
  are loaded into the widgets;
- otherwise the widgets keep the session's values (also across pages, ``persist_state="session"``) and
  the address is rewritten from them after every change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import urlencode

import streamlit as st

from geo_p4gn._errors import P4gnError
from geo_p4gn.filters import Filters, FilterValueError, resolve_filters
from geo_p4gn.regions import kota_code

from . import data, views
from .session import Context

FILTER_KEYS = tuple(f.name for f in dataclasses.fields(Filters))
VIEW_KEYS = ("level", "metric")
_W = {name: f"flt_{name}" for name in FILTER_KEYS}  # widget keys
_WRITTEN = "flt_written"
_PROBLEMS = "flt_url_problems"  # values of the last shared link that matched nothing


def _url_state() -> dict[str, str]:
    return {k: st.query_params[k] for k in (*FILTER_KEYS, *VIEW_KEYS) if k in st.query_params}


def _seed(query: dict[str, str], sites=None) -> None:
    """Load a shared link into the widgets: values by code or name (:func:`resolve_filters`); a value that
    matches nothing is dropped and named in a message (:func:`problems_message`), a bad date is ignored."""
    try:
        f = Filters.from_query({k: v for k, v in query.items() if k in FILTER_KEYS})
    except P4gnError:
        f = Filters()
    try:
        f = resolve_filters(f, areas=data.boundaries().kelurahan, sites=sites, taxonomy=data.taxonomy())
        st.session_state.pop(_PROBLEMS, None)
    except FilterValueError as exc:
        f = exc.resolved
        st.session_state[_PROBLEMS] = [(field, value) for field, value, _ in exc.problems]
    st.session_state[_W["date_from"]] = f.date_from
    st.session_state[_W["date_to"]] = f.date_to
    options = _options()
    for name in FILTER_KEYS:
        if name in ("date_from", "date_to"):
            continue
        known = set(options[name])
        st.session_state[_W[name]] = [v for v in getattr(f, name) if v in known]
    for key in VIEW_KEYS:
        if key in query:
            st.session_state[f"view_{key}"] = query[key]


def _options() -> dict[str, list[str]]:
    tax = data.taxonomy()
    areas = data.area_options()
    return {
        "types": list(tax.type_keys), "actors": list(tax.actor_keys), "ikrn": list(tax.ikrn_keys),
        "kota": [c for c, _, _ in areas["kota"]], "kecamatan": [c for c, _, _ in areas["kecamatan"]],
        "kelurahan": [c for c, _, _ in areas["kelurahan"]], "sites": list(st.session_state.get("_flt_site_ids", [])),
    }


def sync_from_url(site_ids: list[str], sites=None) -> None:
    """Before the widgets: take a shared link's filters when the address holds new ones."""
    st.session_state["_flt_site_ids"] = site_ids
    url = _url_state()
    if url and url != st.session_state.get(_WRITTEN):
        _seed(url, sites)
        st.session_state[_WRITTEN] = url


def problems_message(ctx: Context) -> str | None:
    """The message naming the shared link's values that matched nothing (None when all matched)."""
    problems = st.session_state.get(_PROBLEMS)
    if not problems:
        return None
    names = {"types": "f_types", "actors": "f_actors", "kota": "f_kota", "kecamatan": "f_kecamatan",
             "kelurahan": "f_kelurahan", "sites": "f_sites", "ikrn": "f_ikrn"}
    values = ", ".join(f"{ctx.t(names.get(field, field))} \u201c{value}\u201d" for field, value in problems)
    return ctx.t("filter_unknown", values=values)


def write_url(filters: Filters, view: dict[str, str] | None = None) -> None:
    """After the widgets: the address holds the current filters (and view), nothing else of ours."""
    wanted = filters.to_query() | (view or {})
    for k in (*FILTER_KEYS, *VIEW_KEYS):
        if k in st.query_params and k not in wanted:
            del st.query_params[k]
    for k, v in wanted.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v
    st.session_state[_WRITTEN] = dict(wanted)


def _reset() -> None:
    st.session_state.pop(_PROBLEMS, None)
    for name in FILTER_KEYS:
        st.session_state[_W[name]] = None if name.startswith("date") else []


#: The period presets of the filter panel (``preset_<key>`` in the catalogue).
PRESETS = ("month", "quarter", "year", "last_year")


def preset_period(key: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of a preset period around ``today`` (WIB).

    >>> d = dt.date(2026, 12, 2)
    >>> [tuple(x.isoformat() for x in preset_period(k, d)) for k in PRESETS]  # doctest: +NORMALIZE_WHITESPACE
    [('2026-12-01', '2026-12-31'), ('2026-10-01', '2026-12-31'), ('2026-01-01', '2026-12-31'),
     ('2025-01-01', '2025-12-31')]
    """
    if key == "month":
        first = today.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        return first, nxt - dt.timedelta(days=1)
    if key == "quarter":
        q = (today.month - 1) // 3
        first = dt.date(today.year, 3 * q + 1, 1)
        nxt = dt.date(today.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    if key == "year":
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    if key == "last_year":
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    msg = f"unknown period preset {key!r}"
    raise ValueError(msg)


def _preset(key: str) -> None:
    start, end = preset_period(key, views.today())
    st.session_state[_W["date_from"]], st.session_state[_W["date_to"]] = start, end


def copy_link_button(ctx: Context) -> None:
    """The shareable address of this view (the filters are in its query), shown with Streamlit's own copy
    button: no HTML or script of ours reaches the page (``tests/app/test_roles_and_frame.py``)."""
    base = str(st.context.url or "").split("?", 1)[0]
    # the filters as the widgets hold them now (the address itself is written after the page's widgets)
    view = {k: v for k, v in st.query_params.to_dict().items() if k in VIEW_KEYS}
    query = urlencode(view | current_filters().to_query())
    st.code(f"{base}?{query}" if query else base, language=None, wrap_lines=True)


def panel(ctx: Context, sites) -> Filters:
    """The filter widgets (in an expander that stays open while they change: it has a key, so a new label
    such as "Filter (2 aktif)" is the same expander); returns the :class:`Filters` they describe."""
    site_ids = sites["id"].tolist()
    sync_from_url(site_ids, sites)
    problem = problems_message(ctx)
    if problem:
        st.warning(problem, icon=":material/warning:")
    site_names = dict(zip(sites["id"], sites["name"]))
    tax = data.taxonomy()
    areas = data.area_options()
    names = {c: n for level in areas.values() for c, n, _ in level}
    active = sum(bool(st.session_state.get(_W[n])) for n in FILTER_KEYS)
    label = ctx.t("filters_active", n=active) if active else ctx.t("filters")
    with st.expander(label, expanded=bool(st.session_state.get("flt_open")), icon=":material/filter_list:",
                     key="flt_open", on_change="rerun"):
        with st.container(horizontal=True, gap="small"):
            st.caption(ctx.t("preset_label"))
            for key in PRESETS:
                st.button(ctx.t(f"preset_{key}"), key=f"flt_preset_{key}", on_click=_preset, args=(key,),
                          type="tertiary")
        c1, c2 = st.columns(2)
        with c1:
            st.date_input(ctx.t("f_from"), value=None, format="DD/MM/YYYY", key=_W["date_from"],
                          persist_state="session")
        with c2:
            st.date_input(ctx.t("f_to"), value=None, format="DD/MM/YYYY", key=_W["date_to"],
                          persist_state="session")
        c1, c2 = st.columns(2)
        with c1:
            st.multiselect(ctx.t("f_types"), list(tax.type_keys), key=_W["types"], placeholder=ctx.t("f_all"),
                           format_func=lambda k: views.type_label(k, ctx.lang), persist_state="session")
        with c2:
            st.multiselect(ctx.t("f_actors"), list(tax.actor_keys), key=_W["actors"], placeholder=ctx.t("f_all"),
                           format_func=lambda k: views.actor_label(k, ctx.lang), persist_state="session")
        c1, c2, c3 = st.columns(3)
        kota = st.session_state.get(_W["kota"]) or []
        kec = st.session_state.get(_W["kecamatan"]) or []
        with c1:
            st.multiselect(ctx.t("f_kota"), [c for c, _, _ in areas["kota"]], key=_W["kota"],
                           placeholder=ctx.t("f_all"), format_func=names.get, persist_state="session")
        with c2:  # kecamatan of the chosen kota first; a chosen one always stays listed
            opts = [c for c, _, p in areas["kecamatan"] if not kota or p in kota or c in kec]
            st.multiselect(ctx.t("f_kecamatan"), opts, key=_W["kecamatan"], placeholder=ctx.t("f_all"),
                           format_func=names.get, persist_state="session")
        with c3:
            chosen = st.session_state.get(_W["kelurahan"]) or []
            opts = [c for c, _, p in areas["kelurahan"]
                    if (not kota and not kec) or p in kec or kota_code(p) in kota or c in chosen]
            st.multiselect(ctx.t("f_kelurahan"), opts, key=_W["kelurahan"], placeholder=ctx.t("f_all"),
                           format_func=names.get, persist_state="session")
        c1, c2 = st.columns(2)
        with c1:
            st.multiselect(ctx.t("f_sites"), site_ids, key=_W["sites"], placeholder=ctx.t("f_all"),
                           format_func=lambda s: site_names.get(s, s), persist_state="session")
        with c2:
            st.multiselect(ctx.t("f_ikrn"), list(tax.ikrn_keys), key=_W["ikrn"], placeholder=ctx.t("f_all"),
                           format_func=lambda k: views.ikrn_label(k, ctx.lang), persist_state="session")
        st.button(ctx.t("f_reset"), on_click=_reset, key="flt_reset", icon=":material/filter_list_off:")
        st.caption(ctx.t("filter_rule"))
        st.caption(f"{ctx.t('share_link')} {ctx.t('copy_link_hint')}")
        copy_link_button(ctx)
    return current_filters()


def current_filters() -> Filters:
    """The filters the widgets (or, before they are drawn, the session) hold."""
    def day(name):
        v = st.session_state.get(_W[name])
        return v if isinstance(v, dt.date) else None

    kw = {name: tuple(sorted(set(st.session_state.get(_W[name]) or ())))
          for name in FILTER_KEYS if not name.startswith("date")}
    return Filters(date_from=day("date_from"), date_to=day("date_to"), **kw)
