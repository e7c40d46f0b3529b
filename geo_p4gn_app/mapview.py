"""Showing folium maps in the app with ``st_folium``, fully offline.

Offline: Streamlit serves ``./static`` at ``/app/static`` (``server.enableStaticServing``);
``python -m geo_p4gn.render.assets --install static`` (run by ``make run``, and by :func:`ensure_static` when the
folder is missing) copies Leaflet, its plugins, jQuery and d3 there from the XStatic packages.
:func:`geo_p4gn.render.assets.use_local_assets` points every element's ``default_js``/``default_css`` at those
copies. ``st_folium`` also hard-codes two d3 CDN URLs whenever the map holds a branca ``ColorMap``; the maps
of :mod:`geo_p4gn.render.maps` draw their legend themselves and hold none, and :func:`check_offline` refuses a
map that would load anything from another host (the d3 case included) before it reaches the browser.

``streamlit_folium.st_folium`` is looked up on the module at call time, so tests can patch it
(``unittest.mock.patch("streamlit_folium.st_folium", ...)``) to drive clicks.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
import streamlit_folium
from folium.elements import JSCSSMixin
from folium.template import Template

from geo_p4gn import regions, settings
from geo_p4gn._files import atomic_write
from geo_p4gn.boundaries import LEVELS
from geo_p4gn.render import assets, basemap, geotiles, maps
from geo_p4gn.render.elements import SafeElement, static_text

#: The folder Streamlit serves at /app/static (next to app.py).
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = "/app/static"
LOCAL_PREFIX = f"{STATIC_URL}/vendor"
#: The app's own generated files (hashed names: shapes, place names, the map helpers).
GEO_PREFIX = f"{STATIC_URL}/geo"
#: Height of every map in the app, in CSS pixels (fits a 390 x 844 phone with the form below).
MAP_HEIGHT = 430


@st.cache_resource(show_spinner=False)
def ensure_static() -> Path:
    """Install the map assets under ``static/vendor`` once, when ``make run`` has not done it."""
    if not (STATIC_DIR / "vendor" / "ASSETS.json").is_file():
        assets.install_static(STATIC_DIR)
    return STATIC_DIR


def _walk(element):
    stack = [element]
    while stack:
        el = stack.pop()
        yield el
        stack.extend(getattr(el, "_children", {}).values())


def links(m) -> list[str]:
    """Every JS/CSS URL ``st_folium`` would give the browser for this map (as it collects them)."""
    out = []
    for el in _walk(m):
        if isinstance(el, branca.colormap.ColorMap):  # st_folium adds d3 from two CDNs for these
            out += ["https://d3js.org/d3.v4.min.js", "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js"]
        out += [url for _, url in getattr(el, "default_js", None) or []]
        out += [url for _, url in getattr(el, "default_css", None) or []]
    return out


def check_offline(m) -> None:
    """Refuse a map that would make the browser load a script or style from another host."""
    bad = [u for u in links(m) if not u.startswith((LOCAL_PREFIX + "/", GEO_PREFIX + "/"))]
    if bad:
        msg = f"the map would load {sorted(set(bad))} from outside {LOCAL_PREFIX} and {GEO_PREFIX}"
        raise assets.AssetError(msg)


@st.cache_resource(show_spinner=False)
def support_urls() -> tuple[str, str]:
    """The addresses of the map helpers (``geo_p4gn/render/static/support.js`` and ``support.css``) as files
    served by this app (``static/geo/support-<hash>.js`` / ``.css``).

    Inline, they were 16 KB of every new session's map message (about 0.4 s on a 400 kbps link, issue 12);
    as files under a name holding their hash the browser keeps them (:mod:`geo_p4gn.http.caching`).
    """
    out = []
    folder = ensure_static() / "geo"
    for ext in ("js", "css"):
        body = static_text(f"support.{ext}").encode()
        name = f"support-{hashlib.sha256(body).hexdigest()[:16]}.{ext}"
        target = folder / name
        if not target.is_file() or target.read_bytes() != body:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(target, body, mode=0o644)
        out.append(f"{GEO_PREFIX}/{name}")
    return out[0], out[1]


class LinkedSupport(JSCSSMixin, maps.Support):
    """:class:`geo_p4gn.render.maps.Support` for the app: the helpers loaded from :func:`support_urls` (``st_folium``
    gives every element's ``default_js``/``default_css`` to the browser as links, which it caches) instead of
    carried in the map's script (which ``st_folium`` builds from each element's ``script`` macro: here none)."""

    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")

    def __init__(self):
        super().__init__()
        self.css = self.js = ""
        self.set_links()

    def set_links(self) -> None:
        js, css = support_urls()
        self.default_js = [("geo_p4gn_support_js", js)]
        self.default_css = [("geo_p4gn_support_css", css)]


def _link_support(m) -> None:
    """Put a :class:`LinkedSupport` where the map's :class:`geo_p4gn.render.maps.Support` is (after
    :func:`geo_p4gn.render.assets.use_local_assets`, which drops links it does not know)."""
    children = list(m._children.items())
    if not any(type(el) is maps.Support for _, el in children):
        return
    m._children.clear()
    for name, el in children:
        if type(el) is maps.Support:
            el = LinkedSupport()
            el._parent = m
            name = el.get_name()
        m._children[name] = el


def prepare(m) -> folium.Map:
    """Point the map's assets at the local copies and check that nothing else would load."""
    ensure_static()
    maps.add_support(m)  # the map's own browser helpers, before every layer that uses them
    for name, el in list(m._children.items()):  # the layer control lists the layers: it must come last
        if isinstance(el, folium.LayerControl):
            m._children.move_to_end(name)
    linked = [el for el in m._children.values() if isinstance(el, LinkedSupport)]
    for el in linked:  # prepared before: its own links are not library links (use_local_assets would refuse them)
        el.default_js = el.default_css = []
    assets.use_local_assets(m, LOCAL_PREFIX)
    for el in linked:
        el.set_links()
    _link_support(m)
    check_offline(m)
    return m


def show(m, *, key: str, returned: tuple[str, ...] = (), feature_groups=None, height: int = MAP_HEIGHT) -> dict:
    """Draw ``m`` with st_folium and return what the browser sent back (``returned`` keys only).

    Only the keys in ``returned`` make the app rerun, never a pan or a zoom. Layers that change with every
    click (the point being placed) go in ``feature_groups``: the base map is then not sent again.
    """
    prepare(m)
    for group in feature_groups or ():  # st_folium adds these to the map after ``prepare``: check them too
        assets.use_local_assets(group, LOCAL_PREFIX)
        check_offline(group)
    out = streamlit_folium.st_folium(
        m, key=key, height=height, use_container_width=True, returned_objects=list(returned),
        feature_group_to_add=feature_groups,
    )
    return out or {}


def basemap_spec() -> dict | None:
    """The local basemap file's layer (:func:`geo_p4gn.render.basemap.layer_spec`) when no tile URL is set."""
    return None if settings.tiles else basemap.layer_spec()


def base_map(**kw) -> folium.Map:
    """:func:`geo_p4gn.render.maps.base_map` with the configured background: the tile URL, else the local
    basemap file, else none (a plain background)."""
    return maps.base_map(tiles=settings.tiles, attribution=settings.tiles_attribution, basemap=basemap_spec(), **kw)


class LocateButton(SafeElement):
    """A "my location" button: the browser's position, where it allows it, becomes a map click.

    ``st_folium`` reports map clicks (``last_clicked``); firing one at the found position places the point
    exactly as a tap would. When the browser refuses (permission denied, GPS off, no fix), ``refused`` is
    shown on the map itself (a phone shows no hover title). Labels are set with ``textContent``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (map, label, failed, refused) {
                var notice = L.control({position: 'bottomleft'});
                notice.onAdd = function () {
                    var d = L.DomUtil.create('div', 'gp-notice gp-locate-refused leaflet-control');
                    d.setAttribute('role', 'alert');
                    d.textContent = refused;
                    L.DomEvent.disableClickPropagation(d);
                    L.DomEvent.on(d, 'click', function () { notice.remove(); });
                    return d;
                };
                var control = L.control({position: 'topleft'});
                control.onAdd = function () {
                    var div = L.DomUtil.create('div', 'leaflet-bar leaflet-control');
                    var a = L.DomUtil.create('a', 'gp-locate', div);
                    a.href = '#';
                    a.setAttribute('role', 'button');
                    a.title = label;
                    a.setAttribute('aria-label', label);
                    a.textContent = '\\u25CE';
                    a.style.fontSize = '18px';
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.on(a, 'click', function (e) {
                        L.DomEvent.preventDefault(e);
                        notice.remove();
                        map.locate({setView: true, maxZoom: 17, enableHighAccuracy: true, timeout: 20000});
                    });
                    return div;
                };
                control.addTo(map);
                map.on('locationfound', function (e) { notice.remove(); map.fire('click', {latlng: e.latlng}); });
                map.on('locationerror', function () {
                    var d = document.querySelector('.gp-locate');
                    if (d) { d.title = failed; d.style.color = '#b00'; }
                    notice.addTo(map);
                });
            })({{ this._parent.get_name() }}, {{ this.label_js }}, {{ this.failed_js }}, {{ this.refused_js }});
        {% endmacro %}
        """
    )

    def __init__(self, label: str, failed: str, refused: str | None = None):
        super().__init__()
        self._name = "LocateButton"
        self.label_js = maps.to_js(str(label))
        self.failed_js = maps.to_js(str(failed))
        self.refused_js = maps.to_js(str(refused or failed))


class SnapClicks(SafeElement):
    """Report a click on a point feature of ``layer`` at the feature's own position.

    ``st_folium`` reports ``last_object_clicked`` at the mouse position; this handler (registered before
    st_folium's own) moves the event to the marker's coordinates, so the app knows exactly which site was
    tapped at any zoom.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this.layer.get_name() }}.eachLayer(function (l) {
                if (l.getLatLng) { l.on('click', function (e) { e.latlng = l.getLatLng(); }); }
            });
        {% endmacro %}
        """
    )

    def __init__(self, layer):
        super().__init__()
        self._name = "SnapClicks"
        self.layer = layer


# -- cached boundary layers (the same for everyone; built once per process) ------------------------------
@st.cache_resource(show_spinner=False)
def geometry_url(level: str) -> str:
    """The address of the areas of ``level`` as a GeoJSON file served by this app (``static/geo/``).

    Every rerun re-sends a page's map to the browser (Streamlit 1.67 has no cache for repeated messages);
    with the 267 kelurahan inline that was about 500 KB a tap on the Catat page. The shapes are public
    (the upstream boundary files) and the same for everyone, so they are written once per build of the
    boundaries, under a name holding their hash (a changed file is a new address, never a stale cache),
    and the browser fetches them once. Written to a temporary name and renamed: never half a file.

    When that file is larger than :data:`geo_p4gn.render.geotiles.TILE_ABOVE` (a whole country's polygons),
    a folder of the same name next to it holds the same shapes simplified per zoom and cut into tiles
    (:mod:`geo_p4gn.render.geotiles`) and the address is that folder's (``.../kelurahan-<hash>/``): the page
    then fetches only the tiles in view for its zoom, so the shapes stay small on every screen. The name's hash is that of the codes and the shapes (their
    WKB): a start hashes them, it does not write them again.
    """
    from . import data

    layer = data.boundaries().layer(level)
    digest = hashlib.sha256(geotiles.VERSION.encode())
    digest.update("\n".join(layer["code"].astype(str)).encode())
    digest.update(b"".join(shapely.to_wkb(layer.geometry.to_numpy())))
    name = f"{level}-{digest.hexdigest()[:16]}.json"
    folder = ensure_static() / "geo"
    target = folder / name
    if not target.is_file():
        body = json.dumps(maps.feature_collection(gpd.GeoDataFrame({"code": layer["code"]}, geometry=layer.geometry,
                                                                   crs=layer.crs), ["code"]),
                          separators=(",", ":")).encode()
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(target, body, mode=0o644)
    if target.stat().st_size <= geotiles.TILE_ABOVE:
        return f"{STATIC_URL}/geo/{name}"
    tiles = folder / name.removesuffix(".json")
    if not (tiles / geotiles.INDEX).is_file():  # the index is written last: a folder with one is complete
        geotiles.write_tiles(layer[["code", "geometry"]], tiles, _write_tile)
    return f"{STATIC_URL}/geo/{tiles.name}/"


def _write_tile(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, body, mode=0o644)


@st.cache_resource(show_spinner=False)
def labels_url() -> str:
    """The address of the place names of kota, kecamatan and kelurahan (:func:`geo_p4gn.render.maps.label_rows`)
    as a JSON file served by this app (``static/geo/labels-<hash>.json``), fetched once by the browser like
    the shapes of :func:`geometry_url`."""
    from . import data

    b = data.boundaries()
    rows = maps.label_rows({level: b.layer(level) for level in ("kota", "kecamatan", "kelurahan")})
    body = json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode()
    name = f"labels-{hashlib.sha256(body).hexdigest()[:16]}.json"
    folder = ensure_static() / "geo"
    target = folder / name
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(target, body, mode=0o644)
    return f"{STATIC_URL}/geo/{name}"


def place_labels(sites: gpd.GeoDataFrame | None = None) -> maps.PlaceLabels:
    """The place names of a map of the app: the areas' from :func:`labels_url`, the sites' (a frame of
    :func:`geo_p4gn_app.views.site_markers`) carried in the page."""
    return maps.PlaceLabels(maps.label_rows({}, maps.site_names(sites)), url=labels_url())


def level_geometry_url(areas) -> str | None:
    """:func:`geometry_url` of the level ``areas`` belong to (all of one level), for
    :func:`geo_p4gn.render.maps.coverage_map`; None (embed them) when that cannot be told."""
    if "code" not in areas or not len(areas):
        return None
    levels = set(regions.levels_of(areas["code"]))
    return geometry_url(levels.pop()) if len(levels) == 1 and levels <= set(LEVELS) else None


@st.cache_resource(show_spinner=False)
def _area_properties(level: str) -> dict:
    """Every area of ``level`` with its code and its name as tooltip (``_t``), no geometry."""
    from . import data

    layer = data.boundaries().layer(level)
    return maps.bare_features(pd.DataFrame({"code": layer["code"], "_t": layer["name"]}), ["code", "_t"])


@st.cache_resource(show_spinner=False)
def properties_url(level: str) -> str:
    """The address of :func:`_area_properties` by code (the areas' names) as a JSON file served by this app
    (``static/geo/<level>names-<hash>.json``): the 267 kelurahan names were 16 KB of every map message."""
    props = {str(f["properties"]["code"]): f["properties"] for f in _area_properties(level)["features"]}
    body = json.dumps(props, separators=(",", ":"), ensure_ascii=False).encode()
    name = f"{level}names-{hashlib.sha256(body).hexdigest()[:16]}.json"
    folder = ensure_static() / "geo"
    target = folder / name
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(target, body, mode=0o644)
    return f"{GEO_PREFIX}/{name}"


def area_layer(level: str, name: str, style: dict) -> maps.DataLayer:
    """The areas of ``level``, named in their tooltips, their shapes (:func:`geometry_url`) and names
    (:func:`properties_url`) fetched by the browser."""
    return maps.DataLayer(_area_properties(level), name, style=style, geometry_url=geometry_url(level),
                          props_url=properties_url(level))


def outline_layer(level: str, name: str, weight: float = 2.0) -> maps.DataLayer:
    """The outlines of the areas of ``level`` (not filled), their shapes fetched from :func:`geometry_url`."""
    from . import data

    return maps.outline_layer(data.boundaries().layer(level), name=name, weight=weight,
                              geometry_url=geometry_url(level))


# -- individual intervention points, clustered -------------------------------------------------------------
#: Individual intervention points reach the browser only when at most this many are to be drawn: all the
#: filtered records, or those inside the zoomed-in map view. The payload stays bounded at any record count.
POINT_LIMIT = 300
#: The zoom level from which the points inside the map's view are sent (about 2 x 1 km on a phone).
POINT_ZOOM = 15
#: The only record fields a point carries to the browser (its tooltip). Never notes, record ids, site ids
#: or who recorded the record: those columns are not even selected.
POINT_FIELDS = ("date", "type_key", "actor_key", "organisation", "participants")


class ClusterAssets(JSCSSMixin, SafeElement):
    """Leaflet.markercluster's script and styles, with no layer.

    ``st_folium`` loads scripts only when the map is first drawn, so a map that may later receive a
    clustered layer through ``feature_group_to_add`` must carry them from the start.
    """

    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")
    default_js = tuple(folium.plugins.MarkerCluster.default_js)
    default_css = tuple(folium.plugins.MarkerCluster.default_css)

    def __init__(self):
        super().__init__()
        self._name = "ClusterAssets"


class PointsLayer(JSCSSMixin, maps.DataLayer):
    """A :class:`geo_p4gn.render.maps.DataLayer` of points drawn as circle markers grouped by Leaflet.markercluster.

    Same allow-listed properties and the same safe tooltips (``_t``, built with textContent) as its parent;
    the markercluster assets are rewritten to the local copies by :func:`prepare` like any other plugin's.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.markerClusterGroup({{ this.cluster_js }});
            {{ this.get_name() }}.addLayer(L.geoJSON({{ this.data_js }}, {
                pointToLayer: function (f, latlng) {
                    return L.circleMarker(latlng,
                        Object.assign({}, {{ this.style_js }}, (f.properties && f.properties._s) || {}));
                },
                onEachFeature: function (f, layer) { geoP4gn.bind(f, layer, {{ this.sticky_js }}); }
            }));
        {% endmacro %}
        """
    )
    default_js = tuple(folium.plugins.MarkerCluster.default_js)
    default_css = tuple(folium.plugins.MarkerCluster.default_css)

    def __init__(self, data: dict, name: str, *, style=None, show: bool = True):
        super().__init__(data, name, style=style, sticky=False, show=show)
        self._name = "PointsLayer"
        self.cluster_js = maps.to_js({"showCoverageOnHover": False, "maxClusterRadius": 45,
                                      "spiderfyOnMaxZoom": True, "chunkedLoading": True})


def _finite(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def zoomed_box(state: dict | None, min_zoom: float = POINT_ZOOM) -> tuple[float, float, float, float] | None:
    """The map view ``st_folium`` reported (``zoom``, ``bounds``) as ``(west, south, east, north)``, when
    zoomed in to ``min_zoom`` or more; None otherwise or when the report is missing or malformed.

    The box is rounded outwards to 4 decimals (about 11 m), so small jitters share a cache entry.

    Examples
    --------
    >>> zoomed_box({"zoom": 16, "bounds": {"_southWest": {"lat": -6.21, "lng": 106.8},
    ...                                      "_northEast": {"lat": -6.2, "lng": 106.81}}})
    (106.8, -6.21, 106.81, -6.2)
    >>> zoomed_box({"zoom": 12, "bounds": {}}) is None
    True
    """
    if not isinstance(state, dict):
        return None
    zoom = _finite(state.get("zoom"))
    bounds = state.get("bounds")
    if zoom is None or zoom < min_zoom or not isinstance(bounds, dict):
        return None
    sw, ne = bounds.get("_southWest"), bounds.get("_northEast")
    if not isinstance(sw, dict) or not isinstance(ne, dict):
        return None
    south, west, north, east = (_finite(sw.get("lat")), _finite(sw.get("lng")),
                                _finite(ne.get("lat")), _finite(ne.get("lng")))
    if None in (south, west, north, east) or not (-90 <= south < north <= 90) or not west < east:
        return None
    return (math.floor(west * 1e4) / 1e4, math.floor(south * 1e4) / 1e4,
            math.ceil(east * 1e4) / 1e4, math.ceil(north * 1e4) / 1e4)


def select_points(records: gpd.GeoDataFrame, mask=None, *, limit: int = POINT_LIMIT,
                  box: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame | None:
    """The records of ``mask`` (inside ``box`` when given) as points with :data:`POINT_FIELDS` only, or
    None when there are more than ``limit`` of them. A polygon record is drawn at a point inside it."""
    sub = records if mask is None else records.loc[np.asarray(mask, dtype=bool)]
    if box is None and len(sub) > limit:
        return None
    points = shapely.point_on_surface(sub.geometry.to_numpy()) if len(sub) else np.array([], dtype=object)
    if box is not None and len(sub):
        west, south, east, north = box
        x, y = shapely.get_x(points), shapely.get_y(points)
        inside = (x >= west) & (x <= east) & (y >= south) & (y <= north)
        sub, points = sub.loc[inside], points[inside]
        if len(sub) > limit:
            return None
    frame = pd.DataFrame({c: sub[c].to_numpy() if c in sub.columns else None for c in POINT_FIELDS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, crs=records.crs).to_numpy(), crs=records.crs)


@st.cache_data(show_spinner=False, max_entries=16)
def record_points(v, _user, filters, limit: int = POINT_LIMIT,
                  box: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame | None:
    """:func:`select_points` of the filtered records ``_user`` may see, read through the services
    (:func:`geo_p4gn_app.data.records`: a field team gets only their own), cached on the view ``v``
    (store version and the user's cache scope), the filters, the limit and the box."""
    from . import data

    recs = data.coverage_records(v, _user)  # confirmed duplicates are not drawn twice
    if not len(recs):
        return select_points(recs, limit=limit, box=box)
    mask = filters.record_mask(recs, data.window_sites(v, _user, filters) if filters.ikrn else None)
    return select_points(recs, mask.to_numpy(), limit=limit, box=box)


def point_tooltip(row, lang: str) -> str:
    """One point's tooltip, plain text of allow-listed fields: date, type, actor, organisation, participants."""
    from . import views
    from .i18n import t

    parts = [views.date_text(row["date"]), views.type_label(row["type_key"], lang),
             views.actor_label(row["actor_key"], lang)]
    org = row["organisation"]
    parts.append("" if org is None or (isinstance(org, float) and math.isnan(org)) else str(org).strip())
    n = row["participants"]
    if n is not None and not pd.isna(n):
        parts.append(t("points_participants", lang, n=int(n)))
    return " · ".join(p for p in parts if p)


def points_layer(points: gpd.GeoDataFrame, lang: str, *, name: str, show: bool = True) -> PointsLayer:
    """The clustered layer of ``points`` (from :func:`select_points`), coloured by intervention type.

    Each point carries only its tooltip ``_t`` (:func:`point_tooltip`) and its colour ``_s``.
    """
    from . import data

    keys = list(data.taxonomy().type_keys)
    colors = [maps.TYPE_COLORS[keys.index(k) % len(maps.TYPE_COLORS)] if k in keys else "#666666"
              for k in points["type_key"]]
    frame = gpd.GeoDataFrame({
        "_t": [point_tooltip(row, lang) for row in points[list(POINT_FIELDS)].to_dict("records")],
        "_s": [{"fillColor": c} for c in colors],
    }, geometry=points.geometry.to_numpy(), crs=points.crs)
    style = {"radius": 6, "color": "#ffffff", "weight": 1, "fillOpacity": 0.9}
    return PointsLayer(maps.feature_collection(frame, ["_t", "_s"]), name, style=style, show=show)
