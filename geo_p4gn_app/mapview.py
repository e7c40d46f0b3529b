"""Showing folium maps in the app with ``st_folium``, fully offline.

Offline: Streamlit serves ``./static`` at ``/app/static`` (``server.enableStaticServing``);
``python -m geo_p4gn.assets --install static`` (run by ``make run``, and by :func:`ensure_static` when the
folder is missing) copies Leaflet, its plugins, jQuery and d3 there from the XStatic packages.
:func:`geo_p4gn.assets.use_local_assets` points every element's ``default_js``/``default_css`` at those
copies. ``st_folium`` also hard-codes two d3 CDN URLs whenever the map holds a branca ``ColorMap``; the maps
of :mod:`geo_p4gn.maps` draw their legend themselves and hold none, and :func:`check_offline` refuses a
map that would load anything from another host (the d3 case included) before it reaches the browser.

``streamlit_folium.st_folium`` is looked up on the module at call time, so tests can patch it
(``unittest.mock.patch("streamlit_folium.st_folium", ...)``) to drive clicks.
"""

from __future__ import annotations

from pathlib import Path

import branca.colormap
import folium
import streamlit as st
import streamlit_folium
from branca.element import MacroElement
from folium.template import Template

from geo_p4gn import assets, maps, settings

#: The folder Streamlit serves at /app/static (next to app.py).
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
LOCAL_PREFIX = "/app/static/vendor"
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
    bad = [u for u in links(m) if not u.startswith(LOCAL_PREFIX + "/")]
    if bad:
        msg = f"the map would load {sorted(set(bad))} from outside {LOCAL_PREFIX}"
        raise assets.AssetError(msg)


def prepare(m) -> folium.Map:
    """Point the map's assets at the local copies and check that nothing else would load."""
    ensure_static()
    maps.add_support(m)  # the map's own browser helpers, before every layer that uses them
    for name, el in list(m._children.items()):  # the layer control lists the layers: it must come last
        if isinstance(el, folium.LayerControl):
            m._children.move_to_end(name)
    assets.use_local_assets(m, LOCAL_PREFIX)
    check_offline(m)
    return m


def show(m, *, key: str, returned: tuple[str, ...] = (), feature_groups=None, height: int = MAP_HEIGHT) -> dict:
    """Draw ``m`` with st_folium and return what the browser sent back (``returned`` keys only).

    Only the keys in ``returned`` make the app rerun, never a pan or a zoom. Layers that change with every
    click (the point being placed) go in ``feature_groups``: the base map is then not sent again.
    """
    prepare(m)
    out = streamlit_folium.st_folium(
        m, key=key, height=height, use_container_width=True, returned_objects=list(returned),
        feature_group_to_add=feature_groups,
    )
    return out or {}


def base_map(**kw) -> folium.Map:
    """:func:`geo_p4gn.maps.base_map` with the configured background tiles (none by default)."""
    return maps.base_map(tiles=settings.tiles, attribution=settings.tiles_attribution, **kw)


class LocateButton(MacroElement):
    """A "my location" button: the browser's position, where it allows it, becomes a map click.

    ``st_folium`` reports map clicks (``last_clicked``); firing one at the found position places the point
    exactly as a tap would. Labels are set with ``textContent``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (map, label, failed) {
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
                        map.locate({setView: true, maxZoom: 17, enableHighAccuracy: true});
                    });
                    return div;
                };
                control.addTo(map);
                map.on('locationfound', function (e) { map.fire('click', {latlng: e.latlng}); });
                map.on('locationerror', function () {
                    var d = document.querySelector('.gp-locate');
                    if (d) { d.title = failed; d.style.color = '#b00'; }
                });
            })({{ this._parent.get_name() }}, {{ this.label_js }}, {{ this.failed_js }});
        {% endmacro %}
        """
    )

    def __init__(self, label: str, failed: str):
        super().__init__()
        self._name = "LocateButton"
        self.label_js = maps.to_js(str(label))
        self.failed_js = maps.to_js(str(failed))


class SnapClicks(MacroElement):
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
def area_features(level: str) -> dict:
    """The areas of ``level`` as a FeatureCollection with ``code`` and the name as tooltip (``_t``).

    Read-only: :class:`geo_p4gn.maps.DataLayer` only serialises it.
    """
    import geopandas as gpd

    from . import data

    layer = data.boundaries().layer(level)
    frame = gpd.GeoDataFrame({"code": layer["code"], "_t": layer["name"]}, geometry=layer.geometry, crs=layer.crs)
    return maps.feature_collection(frame, ["code", "_t"])


@st.cache_resource(show_spinner=False)
def outline_features(level: str) -> dict:
    """The outlines of the areas of ``level`` (lines, no properties)."""
    import geopandas as gpd

    from . import data

    layer = data.boundaries().layer(level)
    return maps.feature_collection(gpd.GeoDataFrame(geometry=layer.geometry.boundary, crs=layer.crs))


def outline_layer(level: str, name: str, weight: float = 2.0) -> maps.DataLayer:
    style = {"color": "#333333", "weight": weight, "fill": False, "opacity": 0.9}
    return maps.DataLayer(outline_features(level), name, style=style, interactive=False)
