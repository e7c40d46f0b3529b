"""Map images drawn on the server with matplotlib: the PNG of a view and the maps of the PDF book.

No browser is involved: the boundaries are drawn as polygons in UTM 48S (EPSG:32748, so the scale bar
and the shapes are true), filled with the SAME classes and colours as the app's folium maps
(:func:`geo_p4gn.render.maps.classify`, :data:`~geo_p4gn.render.maps.SEQUENTIAL`,
:func:`~geo_p4gn.render.maps.completeness_color`), with a legend, a scale bar, a north arrow, place names
that never overlap (largest areas first, a name is dropped when its box would touch one already placed),
a title, the period, the filters, a source line and the time it was made in Jakarta time (WIB).

What is read (the allow-list)
-----------------------------
The same as the HTML export: records go through :func:`geo_p4gn.render.html.allowed_records`, sites
through :func:`~geo_p4gn.render.html.allowed_sites`. With ``public=True`` the site geometry is never read:
each site is drawn at its kelurahan's representative point, one marker per kelurahan, and no free text
(aliases, organisations, notes) is drawn or written.

User text is data
-----------------
Every string is drawn as plain text: matplotlib's mathtext is switched off (``text.parse_math``), so a
``$`` in a site name is a dollar sign, and nothing else in matplotlib interprets text. The PNG's
metadata (``Title``, ``Description``, ``Source``, ``Creation Time``, ``Software``) holds the same strings
verbatim (Pillow writes non-Latin-1 text as iTXt).

Fonts
-----
DejaVu Sans, shipped inside the matplotlib wheel (from PyPI): it covers the Latin letters of Bahasa
Indonesia and nothing is fetched at run time. The PDF embeds it as TrueType (Type 42), so its text
can be searched and copied.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import __version__, coverage, i18n, regions, settings
from .._errors import P4gnError
from ..filters import Filters
from . import html as _html
from . import maps

#: Jakarta time (Waktu Indonesia Barat, UTC+7; no daylight saving).
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
#: The PNG: about 1080 px wide (a phone screen, a chat app's full-size image), portrait 4:5.
PNG_SIZE_IN = (7.2, 9.0)
PNG_DPI = 150
#: Largest PNG accepted for chat (bytes); the palette is reduced further when a map would be larger.
PNG_MAX_BYTES = 400_000
#: Geometry drawn is simplified to this tolerance (metres, UTM): invisible at A4 or phone size.
SIMPLIFY_M = 15.0
LEVELS = ("kelurahan", "kecamatan", "kota")
#: matplotlib settings of every figure drawn here (applied with ``rc_context``, never globally).
RC = {
    "font.family": "DejaVu Sans",
    "text.parse_math": False,   # user text is never mathtext
    "text.usetex": False,
    "pdf.fonttype": 42,         # TrueType: the PDF's text is searchable
    "svg.fonttype": "none",
    "axes.unicode_minus": True,
    "path.simplify": True,
}



def t(key: str, lang: str) -> str:
    """A text of the PNG map from the one catalogue (``image.<key>``)."""
    return i18n.t(f"image.{key}", lang)


def now_wib() -> dt.datetime:
    return dt.datetime.now(WIB)


def made_text(made: dt.datetime) -> str:
    """``2026-11-20 14:05 WIB``: the time in Jakarta, whatever zone ``made`` is in."""
    return made.astimezone(WIB).strftime("%Y-%m-%d %H:%M") + " WIB"


def short_name(name: str) -> str:
    """Kota names as people say them: "Jakarta Barat", "Kepulauan Seribu"."""
    for prefix in ("Kota Administrasi ", "Kabupaten Administrasi "):
        if str(name).startswith(prefix):
            return str(name)[len(prefix):]
    return str(name)


# -- the data of a view ---------------------------------------------------------------------------------
@dataclasses.dataclass
class View:
    """Everything a map image or the book draws, computed once from the allow-listed frames."""

    records: pd.DataFrame          # allowed_records
    sites: pd.DataFrame            # allowed_sites (public: no geometry)
    tables: dict[str, pd.DataFrame]
    filters: Filters
    public: bool
    lang: str
    made: dt.datetime
    period: str
    filter_text: str
    counted: pd.Series
    areas: dict[str, gpd.GeoDataFrame]   # level -> boundary layer in UTM (simplified), with "code", "name"
    site_points: gpd.GeoDataFrame        # UTM: id, name, kelurahan_code, completeness (public: kelurahan points)
    source_line: str


def prepare(records: pd.DataFrame, sites: pd.DataFrame | None, *, boundaries, taxonomy,
            filters: Filters | None = None, public: bool = False, lang: str = "id",
            as_of: dt.date | None = None, made: dt.datetime | None = None,
            levels: Sequence[str] = coverage.LEVELS) -> View:
    """The coverage tables and the shapes of a view (see :class:`View`)."""
    if lang not in _html.LANGS:
        msg = f"lang must be one of {', '.join(_html.LANGS)}, not {lang!r}"
        raise P4gnError(msg)
    filters = filters or Filters()
    recs = _html.allowed_records(records)
    st = _html.allowed_sites(sites, public)
    kel = boundaries.kelurahan
    tables = coverage.coverage_tables(recs, st, kel, taxonomy, filters, levels=tuple(levels), as_of=as_of)
    counted = filters.record_mask(recs, st) & ~recs["deleted"]
    lo, hi = _html._period(recs, counted, filters)
    to = i18n.t("export.dates", lang)
    period = f"{lo or '...'} {to} {hi or '...'}" if (lo or hi) else t("no_period", lang)
    areas = {}
    for level in LEVELS:
        layer = boundaries.layer(level)
        utm = gpd.GeoDataFrame(layer.drop(columns="geometry"),
                               geometry=layer.geometry.to_crs(settings.metric_crs).simplify(SIMPLIFY_M),
                               crs=settings.metric_crs)
        areas[level] = utm
    site_table = tables.get("site")
    if site_table is None:
        site_table = coverage.coverage_table(recs, st, kel, taxonomy, "site", filters, as_of=as_of)
        tables = {"site": site_table, **tables}
    points = _site_points(site_table, st, kel, public)
    src = boundaries.source
    source_line = (f"{t('source', lang)}: {t('boundaries', lang)} {src.get('source', '')} "
                   f"@ {str(src.get('commit', ''))[:7]} ({src.get('license', '')}); {t('records', lang)}; "
                   f"geo_p4gn {__version__}")
    return View(records=recs, sites=st, tables=tables, filters=filters, public=public, lang=lang,
                made=made or now_wib(), period=period,
                filter_text=_html._filter_text(filters, boundaries, taxonomy, st, lang), counted=counted,
                areas=areas, site_points=points, source_line=source_line)


def _site_points(site_table: pd.DataFrame, sites: pd.DataFrame, kel: gpd.GeoDataFrame,
                 public: bool) -> gpd.GeoDataFrame:
    """One point per target site (internal) or per kelurahan holding target sites (public), in UTM."""
    complete = (site_table["types_done"] / site_table["types_total"].where(site_table["types_total"] > 0))
    frame = pd.DataFrame({"id": site_table["code"].to_numpy(dtype=object),
                          "name": site_table["name"].astype(str).to_numpy(),
                          "kelurahan_code": site_table["kelurahan_code"].to_numpy(dtype=object),
                          "completeness": complete.to_numpy(dtype="float64")})
    kel_points = gpd.GeoSeries(shapely.point_on_surface(kel.geometry.to_numpy()), index=kel["code"].to_numpy(),
                               crs=settings.crs)
    if public:
        frame = frame[frame["kelurahan_code"].isin(kel_points.index)]
        grouped = frame.groupby("kelurahan_code", sort=True).agg(
            id=("kelurahan_code", "first"), name=("name", "; ".join), completeness=("completeness", "min"))
        out = gpd.GeoDataFrame(grouped.reset_index(), geometry=kel_points.reindex(grouped.index).to_numpy(),
                               crs=settings.crs)
    else:
        geom = sites.set_index("id").geometry.reindex(frame["id"]).to_numpy() if len(frame) else []
        out = gpd.GeoDataFrame(frame, geometry=shapely.point_on_surface(np.asarray(geom, dtype=object))
                               if len(frame) else [], crs=settings.crs)
        out = out[~out.geometry.isna() & ~out.geometry.is_empty]
    return out.to_crs(settings.metric_crs)


# -- drawing ----------------------------------------------------------------------------------------------
def _figure(size_in: tuple[float, float], dpi: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _extent(frame: gpd.GeoDataFrame, pad: float = 0.04) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = frame.total_bounds
    dx, dy = (x1 - x0) or 1000.0, (y1 - y0) or 1000.0
    return x0 - dx * pad, x1 + dx * pad, y0 - dy * pad, y1 + dy * pad


def mainland(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The areas of mainland Jakarta (Kepulauan Seribu, 31.01, is far out at sea)."""
    code = areas["code"].astype(str)
    return areas[~code.str.startswith("31.01")]


def _fit(ax, extent, aspect_box: float) -> None:
    """Set the view to ``extent`` grown to the axes' shape (so the map is never squashed)."""
    x0, x1, y0, y1 = extent
    w, h = x1 - x0, y1 - y0
    if w / h < aspect_box:
        grow = (h * aspect_box - w) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = (w / aspect_box - h) / 2
        y0, y1 = y0 - grow, y1 + grow
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")


def _axes_ratio(ax) -> float:
    bbox = ax.get_position(original=True)
    fw, fh = ax.figure.get_size_inches()
    return (bbox.width * fw) / (bbox.height * fh)


def _paths(geoms) -> list:
    """matplotlib paths of polygons (holes included), one per geometry: no GeoPandas plotting (it redraws
    the whole figure after every layer)."""
    from matplotlib.path import Path as MplPath

    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            out.append(MplPath(np.zeros((0, 2))))
            continue
        verts, codes = [], []
        polys = geom.geoms if hasattr(geom, "geoms") else [geom]
        for poly in polys:
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)[:, :2]
                if len(xy) < 3:
                    continue
                c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
                c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
                verts.append(xy)
                codes.append(c)
        out.append(MplPath(np.concatenate(verts), np.concatenate(codes)) if verts else MplPath(np.zeros((0, 2))))
    return out


def fill(ax, areas: gpd.GeoDataFrame, colors, *, edge: str, linewidth: float, zorder: float = 1) -> None:
    """Polygons filled with ``colors`` (one per row, or one for all) in one collection."""
    from matplotlib.collections import PathCollection

    if not len(areas):
        return
    coll = PathCollection(_paths(areas.geometry), facecolors=colors, edgecolors=edge, linewidths=linewidth,
                          zorder=zorder)
    ax.add_collection(coll, autolim=True)
    ax.autoscale_view()


def choropleth(ax, areas: gpd.GeoDataFrame, values: pd.Series, *, share: bool, lang: str,
               edge: str = "#666666", linewidth: float = 0.3, metric: str | None = None) -> list[tuple[str, str]]:
    """Fill ``areas`` by the class of ``values`` (indexed by code): the app's classes and colours (``metric``
    as in :func:`geo_p4gn.render.maps.classify`). Returns the legend items of that function."""
    v = values.reindex(areas["code"].to_numpy())
    v.index = areas.index
    colors, items = maps.classify(v, share=share, lang=lang, metric=metric)
    fill(ax, areas, list(colors), edge=edge, linewidth=linewidth)
    return items


def outlines(ax, areas: gpd.GeoDataFrame, *, linewidth: float, color: str = "#333333") -> None:
    fill(ax, areas, "none", edge=color, linewidth=linewidth, zorder=2)


def draw_sites(ax, points: gpd.GeoDataFrame, *, size: float = 38) -> None:
    if not len(points):
        return
    colors = [maps.completeness_color(c) for c in points["completeness"]]
    ax.scatter(points.geometry.x, points.geometry.y, s=size, c=colors, edgecolors="#222222", linewidths=1.0,
               zorder=5)


def marker_boxes(ax, points: gpd.GeoDataFrame, *, radius_px: float = 7.0) -> list:
    """Display boxes around site markers, for :func:`place_labels` to keep names off them."""
    from matplotlib.transforms import Bbox

    if not len(points):
        return []
    xy = ax.transData.transform(np.c_[points.geometry.x, points.geometry.y])
    return [Bbox.from_extents(x - radius_px, y - radius_px, x + radius_px, y + radius_px) for x, y in xy]


def place_labels(ax, candidates: Sequence[tuple[float, float, str, float, str]], *, margin_px: float = 3.0,
                 placed: list | None = None) -> list[str]:
    """Draw names that do not overlap: ``candidates`` are (x, y, text, fontsize, weight), most important
    first; a name whose box would touch a box already placed (or leave the map) is left out; ``placed``
    may hold boxes to keep clear from the start (site markers, see :func:`marker_boxes`).
    Returns the names drawn."""
    import matplotlib.patheffects as pe

    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed = [] if placed is None else placed
    drawn = []
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for x, y, label, size, weight in candidates:
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            continue
        txt = ax.text(x, y, label, fontsize=size, fontweight=weight, ha="center", va="center", color="#1a1a1a",
                      zorder=6, clip_on=True, path_effects=[pe.withStroke(linewidth=2.2, foreground="white")])
        bb = txt.get_window_extent(renderer).expanded(1.0, 1.0)
        bb = bb.from_extents(bb.x0 - margin_px, bb.y0 - margin_px, bb.x1 + margin_px, bb.y1 + margin_px)
        inside = frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0 and bb.y1 <= frame.y1
        if not inside or any(bb.overlaps(other) for other in placed):
            txt.remove()
            continue
        placed.append(bb)
        drawn.append(label)
    return drawn


def label_candidates(areas: gpd.GeoDataFrame, *, size: float, weight: str = "normal",
                     short: bool = False) -> list[tuple[float, float, str, float, str]]:
    """Names at the areas' representative points, largest area first (they get the room)."""
    if not len(areas):
        return []
    order = areas.geometry.area.sort_values(ascending=False).index
    pts = shapely.point_on_surface(areas.geometry.loc[order].to_numpy())
    names = areas.loc[order, "name"].astype(str)
    return [(p.x, p.y, short_name(n) if short else n, size, weight) for p, n in zip(pts, names)]


def scale_bar(ax, *, fontsize: float = 8) -> None:
    """A scale bar in the lower left: a round length about a fifth of the map's width (UTM metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    steps = [100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000]
    length = max([s for s in steps if s <= target] or [steps[0]])
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    h = (y1 - y0) * 0.008
    half = length / 2
    ax.add_patch(_rect(bx, by, half, h, "#222222"))
    ax.add_patch(_rect(bx + half, by, half, h, "white"))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(bx, by + h * 1.8, "0", fontsize=fontsize, ha="center", va="bottom", zorder=7)
    ax.text(bx + length, by + h * 1.8, label, fontsize=fontsize, ha="center", va="bottom", zorder=7)


def _rect(x, y, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor="#222222", linewidth=0.8, zorder=7)


def north_arrow(ax, lang: str, *, fontsize: float = 10) -> None:
    """A north arrow in the upper right (UTM grid north is within 0.3 degrees of true north here)."""
    ax.annotate(t("north", lang), xy=(0.95, 0.97), xytext=(0.95, 0.87), xycoords="axes fraction",
                textcoords="axes fraction", ha="center", va="center", fontsize=fontsize, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "#222222", "linewidth": 1.6}, zorder=8)


def legend_title(metric: str, lang: str) -> str:
    """The title of the areas' legend, as on the app's map: the metric, then its class scheme."""
    share = maps.METRICS[metric][0]
    return f"{maps.metric_label(metric, lang)}\n{maps.scheme_text(share=share, metric=metric, lang=lang)}"


def legend(ax_or_fig, items: Sequence[tuple[str, str]], *, title: str, loc: str, fontsize: float,
           bbox=None, ncol: int = 1, marker: bool = False, frame: bool = False):
    """A legend of (colour, label) items: boxes for areas, circles for sites."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if marker:
        handles = [Line2D([], [], marker="o", linestyle="", markerfacecolor=c, markeredgecolor="#222222",
                          markersize=fontsize * 0.9, label=lab) for c, lab in items]
    else:
        handles = [Patch(facecolor=c, edgecolor="#666666", linewidth=0.5, label=lab) for c, lab in items]
    kw = {"bbox_to_anchor": bbox} if bbox is not None else {}
    leg = ax_or_fig.legend(handles=handles, title=title, loc=loc, fontsize=fontsize, title_fontsize=fontsize,
                           frameon=frame, framealpha=0.9, edgecolor="#dddddd", ncol=ncol, alignment="left",
                           **kw)
    leg.get_title().set_fontweight("bold")
    return leg


def level_map(ax, view: View, *, level: str, metric: str, extent_areas: gpd.GeoDataFrame | None = None,
              label_size: float = 8, kota_label_size: float = 10, site_size: float = 38,
              only: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """The choropleth of ``metric`` at ``level`` with outlines, sites and names; returns the legend items.

    ``only``: kota codes to draw (a kota page); otherwise every area of the view (mainland Jakarta unless
    an area filter chose Kepulauan Seribu)."""
    if level not in LEVELS:
        msg = f"level must be one of {', '.join(LEVELS)}, not {level!r}"
        raise P4gnError(msg)
    table = view.tables[level]
    areas = view.areas[level]
    areas = areas[areas["code"].isin(table["code"])]
    if only:
        areas = areas[regions.kota_codes(areas["code"].astype(str)).isin(only)]
    values = maps.metric_values(table, metric)
    share = maps.METRICS[metric][0]
    ax.set_axis_off()
    items = choropleth(ax, areas, values, share=share, lang=view.lang,
                       linewidth=0.25 if level == "kelurahan" else 0.5, metric=metric)
    kec = view.areas["kecamatan"][view.areas["kecamatan"]["code"].isin(
        regions.kecamatan_codes(areas["code"].astype(str)))] if level == "kelurahan" else None
    kota = view.areas["kota"][view.areas["kota"]["code"].isin(regions.kota_codes(areas["code"].astype(str)))]
    if kec is not None:
        outlines(ax, kec, linewidth=0.7, color="#444444")
    if level != "kota":
        outlines(ax, kota, linewidth=1.6, color="#222222")
    pts = view.site_points
    if only:
        pts = pts[regions.kota_codes(pts["kelurahan_code"].astype(str)).isin(only)]
    draw_sites(ax, pts, size=site_size)
    if extent_areas is None:
        main = mainland(areas)
        extent_areas = main if len(main) else areas
    if len(extent_areas):
        _fit(ax, _extent(extent_areas), _axes_ratio(ax))
    # names: the kota first (bold), then the drawn level's areas where there is room; never over a site
    placed: list = marker_boxes(ax, pts, radius_px=math.sqrt(site_size) * 0.9)
    if len(kota) > 1 or level == "kota":
        place_labels(ax, label_candidates(kota, size=kota_label_size, weight="bold", short=True), placed=placed)
    if level == "kelurahan" and kec is not None and len(areas) > 80:
        place_labels(ax, label_candidates(kec, size=label_size), placed=placed)
    elif level != "kota":
        place_labels(ax, label_candidates(areas, size=label_size), placed=placed)
    return items


# -- the PNG -----------------------------------------------------------------------------------------------
def _wrap(text: str, width: int, lines: int | None = None) -> str:
    """Wrap at spaces (no character changed); ``lines`` caps the lines, the rest is dropped with "..."."""
    import textwrap

    out = textwrap.wrap(str(text), width=width, break_long_words=True, break_on_hyphens=False,
                        replace_whitespace=False, drop_whitespace=True) or [""]
    if lines is not None and len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: max(0, width - 3)] + "..."
    return "\n".join(out)


def png_metadata(view: View, title: str) -> dict[str, str]:
    """What the PNG says about itself (tEXt/iTXt): the strings verbatim."""
    return {
        "Title": title,
        "Description": f"{t('period', view.lang)}: {view.period}. {t('filters', view.lang)}: {view.filter_text}. "
                       + t("public" if view.public else "internal", view.lang),
        "Source": view.source_line,
        "Creation Time": made_text(view.made),
        "Software": f"geo_p4gn {__version__}",
    }


def render_png(records: pd.DataFrame, sites: pd.DataFrame | None, *, boundaries, taxonomy,
               filters: Filters | None = None, public: bool = False, lang: str = "id",
               level: str = "kelurahan", metric: str = "interventions", as_of: dt.date | None = None,
               made: dt.datetime | None = None) -> bytes:
    """The map image of a view as PNG bytes (about 1080 x 1350 px, at most :data:`PNG_MAX_BYTES`)."""
    if level not in LEVELS:
        msg = f"level must be one of {', '.join(LEVELS)}, not {level!r}"
        raise P4gnError(msg)
    if metric not in maps.METRICS:
        msg = f"metric must be one of {', '.join(maps.METRICS)}, not {metric!r}"
        raise P4gnError(msg)
    import matplotlib

    with matplotlib.rc_context(RC):
        view = prepare(records, sites, boundaries=boundaries, taxonomy=taxonomy, filters=filters, public=public,
                       lang=lang, as_of=as_of, made=made, levels=("site", level))
        fig = _figure(PNG_SIZE_IN, PNG_DPI)
        title = t("title", lang)
        subtitle = f"{maps.metric_label(metric, lang)} {t('level_' + level, lang)}"
        fig.text(0.035, 0.975, title, fontsize=15, fontweight="bold", va="top")
        fig.text(0.035, 0.945, subtitle, fontsize=11.5, va="top")
        fig.text(0.035, 0.922, f"{t('period', lang)}: {view.period}", fontsize=10, va="top")
        fig.text(0.035, 0.902, _wrap(f"{t('filters', lang)}: {view.filter_text}", 95, lines=2), fontsize=8.5,
                 va="top", color="#333333", linespacing=1.25)
        ax = fig.add_axes((0.01, 0.205, 0.98, 0.655))
        area_filter = bool(view.filters.kota or view.filters.kecamatan or view.filters.kelurahan)
        extent = None
        if area_filter:
            lv = view.areas[level]
            extent = lv[lv["code"].isin(view.tables[level]["code"])]
        items = level_map(ax, view, level=level, metric=metric, extent_areas=extent, label_size=7.5,
                          kota_label_size=10.5)
        scale_bar(ax, fontsize=8.5)
        north_arrow(ax, lang, fontsize=12)
        legend(fig, items, title=legend_title(metric, lang), loc="upper left", fontsize=9,
               bbox=(0.03, 0.205), ncol=2 if len(items) > 4 else 1)
        if len(view.site_points):
            legend(fig, maps.completeness_legend(), title=t("sites_legend", lang),
                   loc="upper left", fontsize=9, bbox=(0.55, 0.205), ncol=2, marker=True)
        fig.text(0.035, 0.052, t("public" if public else "internal", lang), fontsize=8, color="#333333")
        fig.text(0.035, 0.032, _wrap(view.source_line, 120, lines=2), fontsize=6.5, color="#555555", va="top")
        fig.text(0.965, 0.052, f"{t('made', lang)}: {made_text(view.made)}", fontsize=8, ha="right",
                 color="#333333")
        meta = png_metadata(view, f"{title}: {subtitle}")
        return _png_bytes(fig, meta)


def _png_bytes(fig, meta: dict[str, str]) -> bytes:
    """Save as PNG with ``meta``; only a map over :data:`PNG_MAX_BYTES` is reduced to a palette (few colours:
    the look stays, the colours may shift slightly, so it is the fallback, not the rule)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=PNG_DPI, facecolor="white")
    img = Image.open(io.BytesIO(raw.getvalue())).convert("RGB")
    info = PngInfo()
    for key, value in meta.items():
        if _latin1(value):
            info.add_text(key, value)
        else:
            info.add_itxt(key, value)
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info, optimize=True)
    out = buf.getvalue()
    for colors in (256, 128, 64):
        if len(out) <= PNG_MAX_BYTES:
            break
        buf = io.BytesIO()
        img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            buf, format="PNG", pnginfo=info, optimize=True)
        out = buf.getvalue()
    return out


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def fraction_text(done: int, total: int) -> str:
    pct = "" if not total else f" ({100 * done / total:.0f}%)"
    return f"{done}/{total}{pct}"


def is_missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
