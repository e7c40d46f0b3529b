"""Folium maps of P4GN coverage, shared by the Streamlit app and the shareable HTML export.

The map has a choropleth of one metric per area with a legend, kecamatan / kota outlines, site markers
coloured by completeness, and one toggle per intervention type. It computes no metric: the caller
passes the values (from :mod:`geo_p4gn.coverage`), and this module draws them.

Safe by construction
--------------------
folium's ``Popup``, ``Tooltip``, ``GeoJsonTooltip`` and ``GeoJsonPopup`` put text into ``innerHTML`` or
JavaScript template literals, and ``GeoJson`` embeds every column of a frame (see stack-facts). None of
them is used here. Instead:

- :func:`feature_collection` keeps ONLY the properties it is given by name; anything else in the
  frame never reaches the page. Geometry is simplified and rounded to about 1 m (5 decimals).
- Data reaches JavaScript only as JSON through :func:`to_js` (``<``, ``>``, ``&``, ``'``, U+2028/9
  as ``\\uXXXX``, so ``</script>`` cannot end the script), and tooltips, popups and the legend are built
  in the browser with ``textContent``: no string is ever parsed as HTML or as a template.
- Text that lands in HTML (layer names, which Leaflet's layer control sets as ``innerHTML``; page text
  of the export) goes through :func:`esc`: ``html.escape`` and then backslash, backtick and ``$`` as
  entities, so it stays inert even if a later change moves it into a JS template literal.
- Colours are checked against ``#rgb``/``#rrggbb`` in Python and again in the browser.

Examples
--------
>>> esc('<img src=x onerror="${alert(1)}">')
'&lt;img src=x onerror=&quot;&#36;{alert(1)}&quot;&gt;'
>>> to_js("</script>")
'"\\\\u003c/script\\\\u003e"'
"""

from __future__ import annotations

import html
import json
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from folium.map import Layer
from folium.template import Template

from .. import i18n, regions, settings
from .._errors import P4gnError
from .._json import day_default, plain
from .elements import LayerSwitch, Map, Raw, SafeElement, TileLayer, static_text

#: Coordinates are written with this many decimals (1e-5 degree is about 1.1 m in Jakarta).
PRECISION = 5
#: Highest zoom of every map (a MarkerCluster or a tile-less map needs one).
MAX_ZOOM = 19
#: The map's text size in px (support.css's ``.leaflet-container``): the scale bar and the attribution.
MAP_FONT_PX = 13
#: Initial view: mainland DKI Jakarta (Kepulauan Seribu stays on the map, one zoom-out away).
MAINLAND_BOUNDS = ((-6.38, 106.68), (-6.08, 106.98))

# Sequential classes for counts and shares (ColorBrewer YlGnBu, 6 classes without its palest yellow, so that
# the lowest class, a count of 1 or 2, is a clear green-blue and never reads as the grey of "none / no data").
SEQUENTIAL = ("#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
NONE_COLOR = "#f0f0f0"
#: The clusters of single intervention points: a neutral dark grey, the colour of no legend item.
CLUSTER_COLOR = "#4d4d4d"
# Site completeness, from nothing (red) to every type (green) (ColorBrewer RdYlGn).
COMPLETENESS = ((0.0, "#d7191c"), (1 / 3, "#fdae61"), (2 / 3, "#ffffbf"), (1.0 - 1e-9, "#a6d96a"),
                (1.0, "#1a9641"))
# Intervention types, by their position in the taxonomy (ColorBrewer Dark2, then Set1).
TYPE_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
               "#e41a1c", "#377eb8", "#4daf4a", "#984ea3")

_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")

#: Choropleth metrics, all read from a coverage table (:func:`geo_p4gn.coverage.coverage_table`):
#: key -> (is a 0..1 share, Bahasa Indonesia label, English label); the labels are ``metric.<key>`` in
#: the catalogue (:mod:`geo_p4gn.i18n`).
METRICS = {
    "interventions": (False, *i18n.CATALOGUE["metric.interventions"]),
    "type_completeness": (True, *i18n.CATALOGUE["metric.type_completeness"]),
    "actor_completeness": (True, *i18n.CATALOGUE["metric.actor_completeness"]),
    "sites_reached": (True, *i18n.CATALOGUE["metric.sites_reached"]),
}


def metric_values(table: pd.DataFrame, metric: str) -> pd.Series:
    """A metric of a coverage table, indexed by ``code`` (shares as 0..1; NaN where undefined)."""
    if metric not in METRICS:
        msg = f"metric must be one of {', '.join(METRICS)}, not {metric!r}"
        raise P4gnError(msg)
    t = table.set_index("code")
    if metric == "interventions":
        out = t["interventions"].astype("float64")
    elif metric == "type_completeness":
        out = t["types_done"] / t["types_total"].where(t["types_total"] > 0)
    elif metric == "actor_completeness":
        out = t["actors_done"] / t["actors_total"].where(t["actors_total"] > 0)
    else:
        out = t["pct_sites_reached"].astype("float64") / 100.0
    return out.astype("float64")


def metric_label(metric: str, lang: str = "id") -> str:
    """The label of a key of :data:`METRICS` in ``lang`` (``KeyError`` for any other key)."""
    return i18n.t(f"metric.{metric}", lang)


# -- escaping -----------------------------------------------------------------------------------------
_TEMPLATE_CHARS = str.maketrans({"\\": "&#92;", "`": "&#96;", "$": "&#36;"})


def esc(value) -> str:
    """Text for HTML content or a quoted attribute: ``html.escape`` (quotes included), then ``\\``,
    backtick and ``$`` as entities (inert even inside a JS template literal)."""
    return html.escape("" if value is None else str(value), quote=True).translate(_TEMPLATE_CHARS)


_JS_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
                            "`": "\\u0060", "$": "\\u0024", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def to_js(value) -> str:
    """A JSON literal that is safe inside a ``<script>`` element and in JavaScript code.

    ``<``, ``>``, ``&``, ``'``, backtick, ``$`` and U+2028/9 are written as ``\\uXXXX`` escapes: the
    literal cannot end the script, and holds nothing a template literal would interpret. NaN and
    infinities are written as ``null``.
    """
    try:  # the fast path: plain data (geometry coordinates are plain floats)
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=day_default)
    except ValueError:  # a NaN somewhere: walk the value once
        text = json.dumps(plain(value, days=True), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JS_UNSAFE)


def check_color(color: str) -> str:
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        msg = f"colour {color!r} is not #rgb or #rrggbb"
        raise P4gnError(msg)
    return color


# -- geometry -----------------------------------------------------------------------------------------
def simplify(geoms, precision: int = PRECISION) -> np.ndarray:
    """Geometry as sent to a browser: simplified and snapped to a 10^-precision degree grid.

    At 5 decimals the grid is about 1.1 m; vertices that move less than that are dropped first.
    """
    grid = 10.0 ** -precision
    values = np.asarray(geoms.values if hasattr(geoms, "values") else geoms, dtype=object)
    return shapely.set_precision(shapely.simplify(values, grid, preserve_topology=True), grid)


def feature_collection(
    frame: gpd.GeoDataFrame, properties: Sequence[str] = (), *, precision: int = PRECISION
) -> dict:
    """A GeoJSON FeatureCollection with ONLY the named columns as properties (the allow-list).

    Geometry is in EPSG:4326, simplified and rounded (:func:`simplify`); empty geometries are skipped.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> f = gpd.GeoDataFrame({"code": ["a"], "secret": ["x"]},
    ...                      geometry=[shapely.Point(106.8123456, -6.2)], crs="EPSG:4326")
    >>> feature_collection(f, ["code"])["features"][0]
    {'type': 'Feature', 'properties': {'code': 'a'}, 'geometry': {'type': 'Point', 'coordinates': [106.81235, -6.2]}}
    """
    if frame.crs is not None and not frame.crs.equals(settings.crs):
        frame = frame.to_crs(settings.crs)
    missing = [c for c in properties if c not in frame.columns]
    if missing:
        msg = f"feature_collection: columns {missing} are not in the frame"
        raise P4gnError(msg)
    geoms = simplify(frame.geometry, precision)
    props = frame[list(properties)].to_dict("records") if properties else [{}] * len(frame)
    features = []
    for geom, prop in zip(geoms, props):
        if geom is None or shapely.is_empty(geom):
            continue
        features.append({"type": "Feature", "properties": plain(prop, days=True),
                         "geometry": json.loads(shapely.to_geojson(geom))})
    return {"type": "FeatureCollection", "features": features}


# -- map elements -------------------------------------------------------------------------------------
class Support(SafeElement):
    """The browser helpers (``window.geoP4gn``) and styles every element of this module needs.

    The script is part of the map's own script, not of the page header: ``st_folium`` copies the header
    with ``innerHTML``, which never runs scripts. :func:`base_map` adds it; see :func:`add_support`.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "GeoP4gnSupport"
        self.css, self.js = static_text("support.css"), static_text("support.js")

    def render(self, **kwargs):
        super().render(**kwargs)
        # the map's own set-up (a tap outside every feature closes the open tooltips), once the map exists
        if isinstance(self._parent, folium.Map):
            self.get_root().script.add_child(
                Raw(f"geoP4gn.setup({self._parent.get_name()});"), name=self.get_name() + "_setup")


def add_support(m) -> folium.Map:
    """Give a map the :class:`Support` element, first among its children (once)."""
    if not any(isinstance(el, Support) for el in m._children.values()):
        m.add_child(Support(), index=0)
    return m


class DataLayer(Layer, SafeElement):
    """A GeoJSON layer drawn from allow-listed properties, with safe tooltips and popups.

    Feature properties with a meaning here: ``_s`` per-feature Leaflet style (e.g. ``fillColor``,
    ``radius``), ``_t`` tooltip text, ``_p`` popup sections ``[{"t": title, "r": [[label, value], ...]}]``.
    Points are drawn as circle markers. Everything else in the properties is carried as data (for the app).
    The map needs the :class:`Support` element (:func:`base_map` adds it; else :func:`add_support`).

    Parameters
    ----------
    data : a FeatureCollection from :func:`feature_collection`
    name : the layer's name in the layer control (escaped here: Leaflet sets it as HTML)
    style : Leaflet path options shared by every feature
    sticky : tooltips follow the mouse (polygons) or sit on the feature (points)
    geometry_url : the shapes (by ``code``) are fetched from this same-server path, not carried in the page
    props_url : with ``geometry_url``, a same-server path holding ``data``'s properties by ``code`` (a JSON
        object): fetched too, so the page carries neither (the app: :func:`geo_p4gn_app.mapview.area_layer`)
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.geoJSON({{ this.data_js }}, {
                style: function (f) {
                    return Object.assign({}, {{ this.style_js }}, (f.properties && f.properties._s) || {});
                },
                pointToLayer: function (f, latlng) {
                    return L.circleMarker(latlng,
                        Object.assign({}, {{ this.style_js }}, (f.properties && f.properties._s) || {}));
                },
                onEachFeature: function (f, layer) { geoP4gn.bind(f, layer, {{ this.sticky_js }}); },
                interactive: {{ this.interactive_js }}
            });
            {%- if this.geometry_url_js %}
            geoP4gn.fill({{ this.get_name() }}, {{ this.geometry_url_js }}, {{ this.props_js }});
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, name: str, *, style: Mapping | None = None, sticky: bool = True,
                 interactive: bool = True, overlay: bool = True, control: bool = True, show: bool = True,
                 geometry_url: str | None = None, props_url: str | None = None):
        super().__init__(name=esc(name), overlay=overlay, control=control, show=show)
        self._name = "DataLayer"
        for feature in data.get("features", []):
            s = (feature.get("properties") or {}).get("_s") or {}
            for key in ("color", "fillColor"):
                if key in s:
                    check_color(s[key])
        for key in ("color", "fillColor"):
            if style and key in style:
                check_color(style[key])
        self.geometry_url_js = self.props_js = None
        self.feature_count = len(data.get("features", []))
        if geometry_url is not None:
            # The geometry comes from a file on the same server (a FeatureCollection with a ``code``
            # property, e.g. from feature_collection(layer, ["code"])): the page carries only
            # each feature's properties by its ``code``, and the browser fetches the shapes once and keeps
            # them in its cache; a Streamlit rerun then re-sends a few KB instead of every polygon.
            if not geometry_url.startswith("/") or geometry_url.startswith("//"):
                msg = f"geometry_url must be a path on the same server, not {geometry_url!r}"
                raise ValueError(msg)
            props = {}
            for feature in data.get("features", []):
                p = dict(feature.get("properties") or {})
                if "code" not in p:
                    msg = "a layer with geometry_url needs a 'code' property on every feature"
                    raise ValueError(msg)
                props[str(p["code"])] = p
            self.geometry_url_js, self.props_js = to_js(geometry_url), to_js(props)
            if props_url is not None:
                # those properties (the same, by code) are also in a file on the same server: fetched
                # with the shapes and kept by the browser, not carried in the page
                if not props_url.startswith("/") or props_url.startswith("//"):
                    msg = f"props_url must be a path on the same server, not {props_url!r}"
                    raise ValueError(msg)
                self.props_js = to_js(props_url)
            data = {"type": "FeatureCollection", "features": []}
        elif props_url is not None:
            msg = "props_url needs a geometry_url"
            raise ValueError(msg)
        self.data_js = to_js(data)
        self.style_js = to_js(dict(style or {}))
        self.sticky_js = to_js(bool(sticky))
        self.interactive_js = to_js(bool(interactive))


#: Zoom ranges of place names: kota at low zooms, then kecamatan, then kelurahan; site names near their
#: markers when zoomed in. Where two ranges meet, the larger area is placed first.
LABEL_ZOOMS = {"kota": (0, 0, 11.75), "kecamatan": (1, 11.0, 13.75), "kelurahan": (2, 13.0, MAX_ZOOM),
               "site": (3, 14.0, MAX_ZOOM)}
_LABEL_ORDER = {"kota": 0, "kecamatan": 1, "site": 2, "kelurahan": 3}
_ADMIN_PREFIX = re.compile(r"^(kota|kabupaten|kab\.)\s+administrasi\s+", re.IGNORECASE)


def label_rows(levels: Mapping[str, gpd.GeoDataFrame], sites: gpd.GeoDataFrame | None = None,
               *, precision: int = PRECISION) -> list[list]:
    """Place-name rows for :class:`PlaceLabels`: ``[lat, lng, name, kind, min_zoom, max_zoom]``.

    ``levels`` maps ``kota`` / ``kecamatan`` / ``kelurahan`` to areas with a ``name`` column (placed at a
    point inside each area, larger areas first); ``sites`` (a ``name`` column and a geometry) adds site
    names beside their markers. Only the names and positions travel: they are the public boundary names
    and the sites the map already shows.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> kel = gpd.GeoDataFrame({"name": ["Kapuk"]}, geometry=[shapely.box(106.7, -6.2, 106.8, -6.1)],
    ...                        crs="EPSG:4326")
    >>> label_rows({"kelurahan": kel})
    [[-6.15, 106.75, 'Kapuk', 2, 13.0, 19]]
    """
    out = []
    parts = [(level, frame) for level, frame in levels.items() if frame is not None and len(frame)]
    if sites is not None and len(sites):
        parts.append(("site", sites))
    for level, frame in sorted(parts, key=lambda p: _LABEL_ORDER[p[0]]):
        kind, lo, hi = LABEL_ZOOMS[level]
        if frame.crs is not None and not frame.crs.equals(settings.crs):
            frame = frame.to_crs(settings.crs)
        geoms = frame.geometry.to_numpy()
        ok = ~(pd.isna(geoms) | shapely.is_empty(geoms))
        frame, geoms = frame[ok], geoms[ok]
        order = np.argsort(-shapely.area(geoms), kind="stable") if level != "site" else np.arange(len(geoms))
        points = shapely.point_on_surface(geoms)
        xy = shapely.get_coordinates(points).round(precision)
        names = frame["name"].astype(str)
        if level == "kota":  # "Kota Administrasi Jakarta Utara" -> "Jakarta Utara": a map label, not a title
            names = names.str.replace(_ADMIN_PREFIX, "", regex=True)
        names = names.to_numpy()
        for i in order:
            out.append([float(xy[i, 1]), float(xy[i, 0]), str(names[i]), kind, lo, hi])
    return out


class PlaceLabels(SafeElement):
    """Place names on the map (kota, kecamatan, kelurahan by zoom; sites beside their markers), set with
    textContent and placed without overlapping (``geoP4gn.placeLabels`` in ``support.js``).

    ``rows`` from :func:`label_rows` are carried in the page; with ``url`` (a path on the same server) the
    rows of that file are fetched once and kept by the browser (the app: a rerun then re-sends only the
    ``rows`` given here, e.g. the sites' names), and the two are placed together.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {%- if this.url_js %}
            geoP4gn.labelsFrom({{ this._parent.get_name() }}, {{ this.url_js }}, {{ this.rows_js }});
            {%- else %}
            geoP4gn.placeLabels({{ this._parent.get_name() }}, {{ this.rows_js }});
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, rows: Sequence[Sequence] | None = None, *, url: str | None = None):
        super().__init__()
        self._name = "PlaceLabels"
        if url is not None and (not url.startswith("/") or url.startswith("//")):
            msg = f"labels url must be a path on the same server, not {url!r}"
            raise ValueError(msg)
        self.url_js = to_js(url) if url else None
        self.rows_js = to_js([list(r) for r in rows or ()])


class Basemap(SafeElement):
    """The basemap of one local file served by the app (:func:`geo_p4gn.render.basemap.layer_spec`): MBTiles
    raster tiles as a Leaflet tile layer, PMTiles drawn by protomaps-leaflet (loaded only then)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            geoP4gn.basemap({{ this._parent.get_name() }}, {{ this.spec_js }});
        {% endmacro %}
        """
    )

    def __init__(self, spec: Mapping):
        super().__init__()
        self._name = "Basemap"
        spec = dict(spec)
        for key in ("url", "script"):
            if key in spec and (not str(spec[key]).startswith("/") or str(spec[key]).startswith("//")):
                msg = f"basemap {key} must be a path on the same server, not {spec[key]!r}"
                raise ValueError(msg)
        self.spec_js = to_js(spec)


class Legend(SafeElement):
    """A legend control: a title and sections of (colour, label) items, built with textContent.

    A section is ``(title, items)``, or ``(title, items, note)`` with a line under its title (the class
    scheme), or ``(title, items, note, shape)`` with ``shape`` ``"square"`` (areas, the default) or
    ``"circle"`` (markers). The title folds the legend away and back (a button). With ``bounds`` (the view
    the map was fitted to) the view is fitted again beside the legend, so that it never covers the city:
    to its left on a wide map, above it on a narrow one (a phone), where the legend starts folded and lies
    across the map's foot (``geoP4gn.legend`` in ``support.js``).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function () {
                var control = L.control({position: {{ this.position_js }}});
                control.onAdd = function () {
                    var div = L.DomUtil.create('div', 'gp-legend leaflet-control');
                    div.id = 'gp-legend';
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return geoP4gn.legend(div, {{ this.spec_js }}, {{ this._parent.get_name() }});
                };
                control.addTo({{ this._parent.get_name() }});
            })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, sections: Sequence[tuple], position: str = "bottomright",
                 toggle: str | None = None, bounds: Sequence[Sequence[float]] | None = None):
        super().__init__()
        self._name = "Legend"
        if position not in ("topleft", "topright", "bottomleft", "bottomright"):
            msg = f"legend position {position!r} is not a map corner"
            raise P4gnError(msg)
        spec = {"t": str(title), "s": [_legend_section(*section) for section in sections]}
        if toggle:  # the fold button's accessible name
            spec["a"] = str(toggle)
        if bounds:  # the view to keep beside the legend: ((south, west), (north, east))
            spec["b"] = [[round(float(v), PRECISION) for v in corner] for corner in bounds]
        self.spec_js = to_js(spec)
        self.position_js = to_js(position)


def _legend_section(title: str, items: Sequence[tuple[str, str]], note: str | None = None,
                    shape: str = "square") -> dict:
    if shape not in ("square", "circle"):
        msg = f"legend shape {shape!r} is not square or circle"
        raise P4gnError(msg)
    out = {"t": str(title), "i": [[check_color(c), str(label)] for c, label in items]}
    if note:
        out["n"] = str(note)
    if shape == "circle":
        out["c"] = 1
    return out


def legend_sections(metric: str | None, items: Sequence[tuple[str, str]], *, share: bool = False,
                    sites: bool = True, lang: str = "id") -> list[tuple]:
    """The legend of a coverage map: one section per metric drawn.

    The areas' metric (its ``items`` from :func:`classify`, named by its scheme), then, when ``sites`` are
    drawn, the sites' type completeness as circles. When the areas' metric IS type completeness, both use
    the same classes (:func:`classify` with that metric) and share one section, with "0%" for target sites
    not reached yet. The legend's title is the areas' metric (:func:`metric_label`).
    """
    note = scheme_text(share=share, metric=metric, lang=lang)
    if metric == "type_completeness":
        if not sites:
            return [("", list(items), note)]
        merged = [items[0], (COMPLETENESS[0][1], i18n.t("map.zero_sites", lang)), *items[1:]]
        return [(i18n.t("map.areas_and_sites", lang), merged, note)]
    out: list[tuple] = [("", list(items), note)]
    if sites:
        out.append((i18n.t("map.sites_completeness", lang), completeness_legend(), scheme_text(
            metric="type_completeness", lang=lang), "circle"))
    return out


class CountLayer(Layer, SafeElement):
    """Circles sized by a count, one per place, compact: ``[lat, lng, count, place]`` per circle.

    The tooltip "<label>: <count> <unit> (<place>)" is built with textContent.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.featureGroup((function (rows, label, unit, style) {
                return rows.map(function (r) {
                    var opts = Object.assign({}, style, {radius: Math.min(4 + 2.5 * Math.sqrt(r[2]), 16)});
                    return L.circleMarker([r[0], r[1]], opts).bindTooltip(
                        geoP4gn.el('div', null, label + ': ' + r[2] + ' ' + unit + ' (' + r[3] + ')'));
                });
            })({{ this.rows_js }}, {{ this.label_js }}, {{ this.unit_js }}, {{ this.style_js }}));
        {% endmacro %}
        """
    )

    def __init__(self, points: gpd.GeoDataFrame, *, name: str, label: str, unit: str, color: str,
                 show: bool = False, precision: int = PRECISION):
        super().__init__(name=esc(name), overlay=True, control=True, show=show)
        self._name = "CountLayer"
        check_color(color)
        if points.crs is not None and not points.crs.equals(settings.crs):
            points = points.to_crs(settings.crs)
        ok = ~(points.geometry.isna() | points.geometry.is_empty)
        pts = points[ok]
        xy = shapely.get_coordinates(pts.geometry.to_numpy()).round(precision)
        rows = [[lat, lng, int(n), str(place)]
                for (lng, lat), n, place in zip(xy.tolist(), pts["count"], pts["label"])]
        self.rows_js = to_js(rows)
        self.label_js, self.unit_js = to_js(str(label)), to_js(str(unit))
        self.style_js = to_js({"color": color, "fillColor": color, "weight": 1, "fillOpacity": 0.55})


# -- classification -----------------------------------------------------------------------------------
def _fmt(x: float, share: bool) -> str:
    return f"{x * 100:.0f}%" if share else f"{x:g}"


#: The class schemes (mapclassify's classifiers), by kind of value; each legend names its scheme
#: (``map.scheme_<key>`` in the catalogue).
SCHEMES = {"counts": "quantiles", "shares": "equal", "completeness": "fixed"}


def scheme(*, share: bool = False, metric: str | None = None) -> str:
    """The key of the class scheme of a metric: ``quantiles`` (counts: mapclassify ``Quantiles`` of the values
    above zero, on whole numbers), ``equal`` (shares: ``UserDefined`` equal 20 % steps), ``fixed`` (type
    completeness: the sites' classes, ``UserDefined`` at 1/3, 2/3 and 100 %)."""
    if metric == "type_completeness":
        return SCHEMES["completeness"]
    return SCHEMES["shares"] if share else SCHEMES["counts"]


def scheme_text(*, share: bool = False, metric: str | None = None, lang: str = "id") -> str:
    """The scheme as the legends name it, e.g. "Kelas: kuantil (mapclassify)"."""
    return i18n.t(f"map.scheme_{scheme(share=share, metric=metric)}", lang)


def _bins(positive: np.ndarray, kind: str, classes: int) -> np.ndarray:
    """The upper edges of the classes of the values above zero (mapclassify)."""
    with warnings.catch_warnings():  # "not enough unique values": the duplicate edges are dropped below
        warnings.simplefilter("ignore")
        if kind == "equal":
            return mapclassify.UserDefined(positive, bins=list(np.linspace(0.0, 1.0, classes + 1)[1:])).bins
        if kind == "fixed":
            return mapclassify.UserDefined(positive, bins=[e for e, _ in COMPLETENESS[1:]]).bins
        return mapclassify.Quantiles(positive, k=classes).bins


def classify(values: pd.Series, *, share: bool = False, classes: int = 5, lang: str = "id",
             metric: str | None = None) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Colours for values and the legend items.

    Zero and missing values get :data:`NONE_COLOR` ("none yet" / "no data"). The class breaks come from
    mapclassify (:func:`scheme`): counts use quantile classes of the values above zero, on whole numbers;
    shares use fixed equal classes; ``metric="type_completeness"`` uses the sites' completeness classes and
    colours (:func:`completeness_color`), so areas and sites share one legend.

    Returns
    -------
    (colours aligned to ``values``, [(colour, label), ...])

    Examples
    --------
    >>> colors, items = classify(pd.Series([0, 1, 2, 3, 10]), classes=2, lang="en")
    >>> colors.tolist()
    ['#f0f0f0', '#c7e9b4', '#c7e9b4', '#c7e9b4', '#253494']
    >>> items
    [('#f0f0f0', 'none yet'), ('#c7e9b4', '1-3'), ('#253494', '4-10')]
    """
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    colors = pd.Series(NONE_COLOR, index=values.index, dtype=object)
    none = i18n.t("map.none", lang) + (f" / {i18n.t('map.no_data', lang)}" if v.isna().any() else "")
    items = [(NONE_COLOR, none)]
    positive = v[v > 0]
    kind = scheme(share=share, metric=metric)
    if kind == "fixed":
        if not positive.empty:
            colors.loc[positive.index] = [completeness_color(x) for x in positive.to_numpy()]
        return colors, items + completeness_legend()[1:]
    if positive.empty:
        return colors, items
    bins = _bins(positive.to_numpy(), kind, classes)
    if share:
        edges = np.r_[0.0, bins]
    else:
        edges = np.unique(np.r_[0.0, np.ceil(bins[:-1] - 1e-9), positive.max()])  # 20.000000001 is 20
    palette = _palette(len(edges) - 1)
    idx = np.clip(np.searchsorted(edges, positive.to_numpy(), side="left") - 1, 0, len(edges) - 2)
    colors.loc[positive.index] = [palette[i] for i in idx]
    for i, color in enumerate(palette):
        lo, hi = edges[i], edges[i + 1]
        if share:
            label = f"{_fmt(lo, True)}-{_fmt(hi, True)}" if i else f"> 0-{_fmt(hi, True)}"
        else:
            lo_int = math.floor(lo) + 1
            label = f"{lo_int:g}" if lo_int == hi else f"{lo_int:g}-{hi:g}"
        if (idx == i).any() or share:
            items.append((color, label))
    return colors, items


def _palette(n: int) -> tuple[str, ...]:
    if n >= len(SEQUENTIAL):
        return SEQUENTIAL[:n]
    pick = np.linspace(0, len(SEQUENTIAL) - 1, n).round().astype(int) if n > 1 else [0]
    return tuple(SEQUENTIAL[i] for i in pick)


def completeness_color(fraction: float | None) -> str:
    """Colour of a site by the share of intervention types it received (None: not computed)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return NONE_COLOR
    for edge, color in COMPLETENESS:
        if fraction <= edge:
            return color
    return COMPLETENESS[-1][1]


def completeness_legend() -> list[tuple[str, str]]:
    """Legend items of :func:`completeness_color`."""
    pct = ("0%", "1-33%", "34-66%", "67-99%", "100%")
    return [(color, label) for (_, color), label in zip(COMPLETENESS, pct)]


# -- layers -------------------------------------------------------------------------------------------
def choropleth_layer(
    areas: gpd.GeoDataFrame,
    values: pd.Series,
    *,
    name: str,
    share: bool = False,
    label_col: str = "name",
    details: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    lang: str = "id",
    show: bool = True,
    geometry_url: str | None = None,
    metric: str | None = None,
) -> tuple[DataLayer, list[tuple[str, str]]]:
    """Areas filled by the class of ``values`` (indexed by area ``code``) and the legend items.

    Each area carries only ``code``, a tooltip "<name>: <value>" and, when given, popup rows ``details[code]``.
    With ``geometry_url`` the shapes are fetched from there (see :class:`DataLayer`), not embedded.
    """
    v = values.reindex(areas["code"].to_numpy())
    v.index = areas.index
    colors, items = classify(v, share=share, lang=lang, metric=metric)
    frame = gpd.GeoDataFrame(
        {
            "code": areas["code"],
            "_s": [{"fillColor": c} for c in colors],
            "_t": [f"{n}: {_value_text(x, share, lang)}" for n, x in zip(areas[label_col], v)],
            "_p": [[{"t": n, "r": [list(r) for r in (details or {}).get(code, ())]}] if details else None
                   for code, n in zip(areas["code"], areas[label_col])],
        },
        geometry=areas.geometry, crs=areas.crs,
    )
    props = ["code", "_s", "_t"] + (["_p"] if details else [])
    style = {"color": "#666666", "weight": 0.6, "fillOpacity": 0.75, "opacity": 0.9}
    data = bare_features(frame, props) if geometry_url else feature_collection(frame, props)
    return DataLayer(data, name, style=style, sticky=True, show=show, geometry_url=geometry_url), items


def bare_features(frame: pd.DataFrame, properties: Sequence[str]) -> dict:
    """Features with the allow-listed ``properties`` and no geometry (for a layer with a geometry_url)."""
    rows = frame[list(properties)].to_dict("records")
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": plain(r, days=True), "geometry": None} for r in rows]}


def _value_text(x, share: bool, lang: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return i18n.t("map.no_data", lang)
    return _fmt(float(x), share)


def outline_layer(areas: gpd.GeoDataFrame, *, name: str, weight: float = 1.5, color: str = "#333333",
                  show: bool = True, geometry_url: str | None = None) -> DataLayer:
    """Area outlines only (no fill, not clickable), e.g. kecamatan or kota over a kelurahan choropleth.

    With ``geometry_url`` the areas' shapes (by ``code``) are fetched from there and drawn unfilled."""
    style = {"color": color, "weight": weight, "fill": False, "opacity": 0.9}
    if geometry_url:
        return DataLayer(bare_features(areas, ["code"]), name, style=style, interactive=False, show=show,
                         geometry_url=geometry_url)
    frame = gpd.GeoDataFrame(geometry=areas.geometry.boundary, crs=areas.crs)
    return DataLayer(feature_collection(frame), name, style=style, interactive=False, show=show)


def site_layer(sites: gpd.GeoDataFrame, *, name: str, show: bool = True) -> DataLayer:
    """Site markers coloured by completeness.

    ``sites`` columns: ``label`` (tooltip), ``sections`` (popup sections, see :class:`DataLayer`),
    ``completeness`` (share of types, 0..1 or NaN), a point ``geometry``; ``id`` is carried when present.
    """
    frame = gpd.GeoDataFrame(
        {
            "_t": sites["label"].astype(str),
            "_p": sites["sections"],
            "_s": [{"fillColor": completeness_color(c)} for c in sites["completeness"]],
        },
        geometry=sites.geometry, crs=sites.crs, index=sites.index,
    )
    props = ["_t", "_p", "_s"]
    if "id" in sites.columns:
        frame["id"] = sites["id"]
        props.append("id")
    style = {"radius": 7, "color": "#222222", "weight": 1.5, "fillOpacity": 0.95}
    return DataLayer(feature_collection(frame, props), name, style=style, sticky=False, show=show)


def type_layers(points: gpd.GeoDataFrame, taxonomy, *, keys: Sequence[str] = (), lang: str = "id",
                show: bool = False) -> list[CountLayer]:
    """One toggleable layer per intervention type (taxonomy order): a circle per place sized by count.

    ``points`` columns: ``type_key``, ``count``, ``label`` (the place), a point ``geometry``. ``keys``
    narrows the types (a type filter); empty means every type of the taxonomy.
    """
    layers = []
    for i, key in enumerate(taxonomy.type_keys):
        if keys and key not in keys:
            continue
        sub = points[points["type_key"] == key]
        label = taxonomy.label("types", key, lang)
        color = TYPE_COLORS[i % len(TYPE_COLORS)]
        total = int(sub["count"].sum()) if len(sub) else 0
        layers.append(CountLayer(sub, name=f"{label} ({total})", label=label, unit=i18n.t("map.interventions", lang),
                                 color=color, show=show))
    return layers


def base_map(*, tiles: str | None = None, attribution: str | None = None, height: str = "100%",
             bounds: Sequence[Sequence[float]] | None = MAINLAND_BOUNDS, basemap: Mapping | None = None
             ) -> folium.Map:
    """An empty map: no background by default (it works offline), ``maxZoom`` set, fitted to ``bounds``.

    ``tiles`` (default ``settings.tiles``) is an ``https://.../{z}/{x}/{y}...`` URL template; its
    ``attribution`` (default ``settings.tiles_attribution``) is shown as plain text. Without tiles,
    ``basemap`` (:func:`geo_p4gn.render.basemap.layer_spec`: a local file the app serves) is drawn.
    """
    tiles = settings.tiles if tiles is None else tiles
    attribution = settings.tiles_attribution if attribution is None else attribution
    # font_size: folium writes ``.leaflet-container { font-size: 1rem }`` (16 px) into the map's own style,
    # after the support stylesheet; the scale bar and the attribution inherit it
    m = Map(tiles=None, max_zoom=MAX_ZOOM, min_zoom=8, height=height, control_scale=True, font_size=f"{MAP_FONT_PX}px",
            location=[-6.2, 106.83], zoom_start=11, zoom_snap=0.25, zoom_delta=0.5)
    # folium gives max_zoom only to a tile layer: with none, the map itself needs it (Leaflet.markercluster
    # throws "Map has no maxZoom specified" otherwise)
    m.options["max_zoom"] = MAX_ZOOM
    add_support(m)
    if tiles:
        check_tiles(tiles)
        TileLayer(tiles=tiles, attr=esc(attribution or tiles.split("/")[2]), name="tiles",
                         max_zoom=MAX_ZOOM, overlay=False, control=False).add_to(m)
    elif basemap:
        Basemap(basemap).add_to(m)
    if bounds:
        m.fit_bounds([[round(float(v), PRECISION) for v in corner] for corner in bounds])
    return m


def check_tiles(url: str) -> str:
    """A tile URL template must be https (or http) and hold ``{z}``, ``{x}`` and ``{y}``."""
    if not re.match(r"https?://[^/\s]+/", url) or not all(p in url for p in ("{z}", "{x}", "{y}")) \
            or any(ch in url for ch in "\"'<>` \\"):
        msg = f"tile URL {url!r} is not an http(s) template with {{z}}/{{x}}/{{y}}"
        raise P4gnError(msg)
    return url


def coverage_map(
    *,
    areas: gpd.GeoDataFrame,
    values: pd.Series,
    metric_label: str,
    share: bool = False,
    outlines: Iterable[tuple[str, gpd.GeoDataFrame, float]] = (),
    sites: gpd.GeoDataFrame | None = None,
    type_points: gpd.GeoDataFrame | None = None,
    taxonomy=None,
    type_keys: Sequence[str] = (),
    details: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    lang: str = "id",
    tiles: str | None = None,
    attribution: str | None = None,
    height: str = "100%",
    bounds: Sequence[Sequence[float]] | None = MAINLAND_BOUNDS,
    geometry_url: Callable[[gpd.GeoDataFrame], str | None] | None = None,
    labels: str | None = None,
    basemap: Mapping | None = None,
    metric: str | None = None,
) -> folium.Map:
    """The coverage map: choropleth + legend, outlines, sites by completeness, a toggle per type, and the
    place names (:class:`PlaceLabels`).

    Parameters
    ----------
    areas : the areas of the choropleth (``code``, ``name``, geometry), e.g. ``boundaries.kelurahan``
    values : the metric per area code (from :mod:`geo_p4gn.coverage`); ``share`` when it is 0..1
    metric_label : the legend's and the layer's title
    outlines : (layer name, areas, line weight) drawn as lines over the choropleth
    sites : see :func:`site_layer`; type_points : see :func:`type_layers` (needs ``taxonomy``; ``type_keys``
        narrows the types shown, e.g. to a type filter)
    details : popup rows per area code
    geometry_url : for the app: given the areas (or an outline's frame), the same-server address of their
        shapes (see :class:`DataLayer`), or None to embed them; a self-contained export leaves it out
    labels : for the app: the same-server address of the areas' name rows (:func:`label_rows`), the sites'
        names then carried in the page; None (the export) carries all of them, from ``areas``, the outlines
        and the sites
    metric : the key of :data:`METRICS` the values are (its class scheme; type completeness then shares
        the sites' classes and one legend section with them, see :func:`legend_sections`)
    """
    url = geometry_url or (lambda frame: None)
    m = base_map(tiles=tiles, attribution=attribution, height=height, bounds=bounds, basemap=basemap)
    choropleth, items = choropleth_layer(areas, values, name=metric_label, share=share, details=details,
                                         lang=lang, geometry_url=url(areas), metric=metric)
    choropleth.add_to(m)
    for name, frame, weight in outlines:
        outline_layer(frame, name=name, weight=weight, geometry_url=url(frame)).add_to(m)
    if type_points is not None and taxonomy is not None:
        for layer in type_layers(type_points, taxonomy, keys=type_keys, lang=lang):
            layer.add_to(m)
    if sites is not None and len(sites):
        site_layer(sites, name=i18n.t("map.sites", lang)).add_to(m)
    sections = legend_sections(metric, items, share=share, sites=sites is not None and len(sites) > 0, lang=lang)
    names = site_names(sites)
    if labels:
        PlaceLabels(label_rows({}, names), url=labels).add_to(m)
    else:
        PlaceLabels(label_rows(levels_by_code([areas, *(frame for _, frame, _ in outlines)]), names)).add_to(m)
    Legend(metric_label, sections, toggle=i18n.t("map.legend_toggle", lang), bounds=bounds).add_to(m)
    LayerSwitch(collapsed=True).add_to(m)
    return m


#: The colours of a change between two periods (:func:`geo_p4gn.compare.compare_periods`'s ``change``): a
#: qualitative set of their own, so that the change map is never read with the coverage map's legend.
CHANGE_COLORS = {"both": "#2b83ba", "new": "#1a9641", "lost": "#e66101", "neither": NONE_COLOR}


def change_items(changes: pd.Series, lang: str = "id") -> list[tuple[str, str]]:
    """The change map's legend: each kind of change with its colour and how many rows have it."""
    counts = changes.value_counts()
    return [(color, f"{i18n.t(f'map.change_{key}', lang)} ({int(counts.get(key, 0))})")
            for key, color in CHANGE_COLORS.items()]


def change_map(
    *,
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    title: str,
    details: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    sites: gpd.GeoDataFrame | None = None,
    outlines: Iterable[tuple[str, gpd.GeoDataFrame, float]] = (),
    lang: str = "id",
    tiles: str | None = None,
    attribution: str | None = None,
    height: str = "100%",
    bounds: Sequence[Sequence[float]] | None = MAINLAND_BOUNDS,
    geometry_url: Callable[[gpd.GeoDataFrame], str | None] | None = None,
    labels: str | None = None,
    basemap: Mapping | None = None,
) -> folium.Map:
    """Two periods compared on a map, with a legend of its own (:data:`CHANGE_COLORS`).

    ``table`` is :func:`geo_p4gn.compare.compare_periods` of the areas' level (``code``, ``change``,
    ``interventions_a``, ``interventions_b``); ``sites`` (``label``, ``change``, a point geometry) adds the
    target sites as circles coloured the same way; ``details`` are popup rows per area code. ``title`` names
    the two periods (the legend's title and the layer's name).
    """
    url = geometry_url or (lambda frame: None)
    m = base_map(tiles=tiles, attribution=attribution, height=height, bounds=bounds, basemap=basemap)
    t = table.set_index("code")
    codes = areas["code"].to_numpy()
    change = t["change"].reindex(codes).fillna("neither").to_numpy()
    a = t["interventions_a"].reindex(codes).fillna(0).astype(int).to_numpy()
    b = t["interventions_b"].reindex(codes).fillna(0).astype(int).to_numpy()
    frame = gpd.GeoDataFrame({
        "code": areas["code"].to_numpy(),
        "_s": [{"fillColor": CHANGE_COLORS.get(c, NONE_COLOR)} for c in change],
        "_t": [f"{n}: {i18n.t(f'map.change_{c}', lang)} ({x} \u2192 {y})"
               for n, c, x, y in zip(areas["name"], change, a, b)],
        "_p": [[{"t": n, "r": [list(r) for r in (details or {}).get(code, ())]}]
               for code, n in zip(areas["code"], areas["name"])],
    }, geometry=areas.geometry.to_numpy(), crs=areas.crs)
    props = ["code", "_s", "_t", "_p"]
    style = {"color": "#666666", "weight": 0.6, "fillOpacity": 0.75, "opacity": 0.9}
    gurl = url(areas)
    data = bare_features(frame, props) if gurl else feature_collection(frame, props)
    DataLayer(data, title, style=style, sticky=True, geometry_url=gurl).add_to(m)
    for name, outline, weight in outlines:
        outline_layer(outline, name=name, weight=weight, geometry_url=url(outline)).add_to(m)
    sections: list[tuple] = [("", change_items(pd.Series(change), lang), i18n.t("map.change_note", lang))]
    if sites is not None and len(sites):
        pts = gpd.GeoDataFrame({
            "_t": [f"{lab}: {i18n.t(f'map.change_{c}', lang)}" for lab, c in zip(sites["label"], sites["change"])],
            "_s": [{"fillColor": CHANGE_COLORS.get(c, NONE_COLOR)} for c in sites["change"]],
        }, geometry=sites.geometry.to_numpy(), crs=sites.crs)
        DataLayer(feature_collection(pts, ["_t", "_s"]), i18n.t("map.sites", lang),
                  style={"radius": 7, "color": "#222222", "weight": 1.5, "fillOpacity": 0.95}, sticky=False).add_to(m)
        sections.append((i18n.t("map.change_sites", lang), change_items(sites["change"], lang), None, "circle"))
    names = site_names(sites)
    if labels:
        PlaceLabels(label_rows({}, names), url=labels).add_to(m)
    else:
        PlaceLabels(label_rows(levels_by_code([areas, *(f for _, f, _ in outlines)]), names)).add_to(m)
    Legend(title, sections, toggle=i18n.t("map.legend_toggle", lang), bounds=bounds).add_to(m)
    LayerSwitch(collapsed=True).add_to(m)
    return m


def levels_by_code(frames: Iterable[gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Area frames (``code``, ``name``) by the level their first code tells (the first frame of a level wins)."""
    out: dict[str, gpd.GeoDataFrame] = {}
    for frame in frames:
        if frame is None or not len(frame) or "code" not in frame or "name" not in frame:
            continue
        level = regions.level_of(str(frame["code"].iloc[0]))
        if level in LABEL_ZOOMS and level not in out:
            out[level] = frame
    return out


def site_names(sites: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The sites' ``name`` (else their ``label``) and points, for :func:`label_rows`."""
    if sites is None or not len(sites):
        return None
    col = "name" if "name" in sites.columns else "label" if "label" in sites.columns else None
    if col is None:
        return None
    return gpd.GeoDataFrame({"name": sites[col].astype(str).to_numpy()}, geometry=sites.geometry.to_numpy(),
                            crs=sites.crs)
