"""The PDF map book: a cover with the province summary, a table of contents, a page per kota, a page per
target site. ``geo-p4gn report OUT.pdf [--public] [--lang en] [filters]`` and the Ekspor page's button.

Pages are laid out with matplotlib's PDF backend (``PdfPages``): the maps are the same drawing code as the
PNG (:mod:`geo_p4gn.render.image`), so the book has the app's classes and colours by construction, the
maps stay vectors (a page of 60 kelurahan is a few KB), the text is DejaVu Sans embedded as TrueType and
searchable, and no second layout library (nor a markup language a user string could speak) is involved.
Pages are fixed (one per kota, one per site), so the table of contents knows every page number before
the first page is drawn; long lists are cut with "+n lainnya" rather than spilling onto more pages.

Pages (A4 portrait), Bahasa Indonesia first (``lang="en"`` for English)
-------------------------------------------------------------------
1. Cover: title, period, filters, internal/public note, when it was made (WIB); target sites reached and
   covered, interventions and participants, interventions by type and by actor, the share of effort in
   Bahaya kelurahan against their share of target sites; a map of the province.
2. Contents.
3. One page per kota/kabupaten: its kelurahan choropleth, its gap list, its type x actor matrix.
4. One page per target site: a location map (public: the kelurahan only, no point), the type x actor
   matrix, the monthly timeline, the last activity, the missing types and actors.

Every number comes from :mod:`geo_p4gn.coverage` (the same tables the CLI prints); every user string is
drawn verbatim (:mod:`geo_p4gn.render.image` explains why nothing is interpreted). Public books read
:data:`geo_p4gn.render.html.PUBLIC_SITE_COLUMNS` only: no site geometry, aliases, organisations or notes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import coverage, i18n, regions
from .._errors import P4gnError, os_fault
from .._files import atomic_write
from ..filters import Filters
from . import image, maps
from .image import fraction_text, made_text

A4 = (8.27, 11.69)
#: Gap list rows on a kota page before "+n more".
GAP_ROWS = 12
#: Most metric maps per page is one; the site location map shows the kelurahan and this many metres around.
SITE_MAP_MARGIN_M = 1500.0



def _t(key: str, lang: str, **values) -> str:
    """A text of the map book from the one catalogue (``report.<key>``)."""
    return i18n.t(f"report.{key}", lang, **values)


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of the book: its kind (``cover``, ``contents``, ``kota``, ``site``), its key and heading."""

    kind: str
    key: str
    heading: str


def plan(view: image.View) -> list[Page]:
    """The pages in order: cover, contents, every kota of the view (by code), every target site (by code)."""
    lang = view.lang
    pages = [Page("cover", "", _t("cover", lang)), Page("contents", "", _t("contents", lang))]
    kota = view.tables["kota"]
    pages += [Page("kota", str(r.code), str(r.name)) for r in kota.itertuples(index=False)]
    sites = view.tables["site"]
    pages += [Page("site", str(r.code), str(r.name)) for r in sites.itertuples(index=False)]
    return pages


# -- small drawing helpers -----------------------------------------------------------------------------------
def _heading(fig, text: str, *, y: float = 0.955, size: float = 16) -> float:
    lines = image._wrap(text, 62)
    fig.text(0.06, y, lines, fontsize=size, fontweight="bold", va="top", linespacing=1.15)
    return y - (lines.count("\n") + 1) * size * 1.35 / 72 / A4[1]


def _footer(fig, view: image.View, n: int, total: int) -> None:
    lang = view.lang
    fig.text(0.06, 0.025, _t("public" if view.public else "internal", lang), fontsize=7, color="#444444")
    fig.text(0.06, 0.012, image._wrap(view.source_line, 150, lines=1), fontsize=5.5, color="#666666")
    fig.text(0.94, 0.025, _t("page", lang, n=n, total=total), fontsize=8, ha="right")
    fig.text(0.94, 0.012, f"{_t('made', lang)}: {made_text(view.made)}", fontsize=5.5, ha="right",
             color="#666666")


def table(fig, x: float, y: float, widths: Sequence[float], headers: Sequence[str],
          rows: Sequence[Sequence[str]], *, numeric: Sequence[bool] = (), size: float = 7.5,
          wrap: Sequence[int] | None = None, bold_last: bool = False) -> float:
    """Draw a table with its top-left corner at (x, y) in figure fractions; returns the y under it.

    Cells are plain text; ``wrap`` gives a column's width in characters (text wrapped at spaces, never
    changed). Numbers are right-aligned. Each column is one text object (its cells one per line, padded
    to the tallest cell of the row): a PDF with a few texts a page is written several times faster."""
    line_h = size * 1.25 / 72 / A4[1]  # matplotlib's line height at linespacing 1.25 (DejaVu Sans)
    numeric = list(numeric) or [False] * len(headers)
    wrap = list(wrap) if wrap else [None] * len(headers)

    def block(values) -> tuple[list[str], int]:
        texts = [image._wrap(v, w) if w else str(v) for v, w in zip(values, wrap)]
        n = max(t_.count("\n") + 1 for t_ in texts)
        return [t_ + "\n" * (n - 1 - t_.count("\n")) for t_ in texts], n

    head, n_head = block(headers)
    body = [block(r) for r in rows]
    cols_body = [[] for _ in headers]
    n_body = 0
    for cells, n in body:
        n_body += n
        for j, c in enumerate(cells):
            cols_body[j].append(c)
    cx = x
    y_body = y - n_head * line_h - line_h * 0.3
    for j, (w, num) in enumerate(zip(widths, numeric)):
        tx = cx + (w - 0.006 if num else 0.0)
        ha = "right" if num else "left"
        if any(h.strip() for h in head):
            fig.text(tx, y, head[j], fontsize=size, va="top", ha=ha, fontweight="bold", linespacing=1.25)
        if cols_body[j]:
            last = cols_body[j][-1] if bold_last else None
            main = cols_body[j][:-1] if bold_last else cols_body[j]
            if main:
                fig.text(tx, y_body, "\n".join(main), fontsize=size, va="top", ha=ha, linespacing=1.25)
            if last is not None:
                fig.text(tx, y_body - (n_body - body[-1][1]) * line_h, last, fontsize=size, va="top", ha=ha,
                         fontweight="bold", linespacing=1.25)
        cx += w
    if any(h.strip() for h in head):
        fig.add_artist(_hline(x, x + sum(widths), y_body + line_h * 0.15))
    else:
        y_body = y
    if bold_last and body:
        fig.add_artist(_hline(x, x + sum(widths), y_body - (n_body - body[-1][1]) * line_h + line_h * 0.1))
    return y_body - n_body * line_h - line_h * 0.4


def _hline(x0: float, x1: float, y: float):
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], linewidth=0.4, color="#cccccc")


def _matrix_rows(matrix: pd.DataFrame, taxonomy, lang: str) -> tuple[list[str], list[list[str]]]:
    headers = [_t("types_done", lang)] + [taxonomy.label("actors", a, lang) for a in matrix.columns]
    headers.append(_t("total", lang))
    rows = []
    for key, values in matrix.iterrows():
        rows.append([taxonomy.label("types", key, lang)] + [str(int(v)) for v in values.tolist()]
                    + [str(int(values.sum()))])
    rows.append([_t("total", lang)] + [str(int(v)) for v in matrix.sum(axis=0).tolist()]
                + [str(int(matrix.to_numpy().sum()))])
    return headers, rows


def _matrix(fig, y: float, matrix: pd.DataFrame, taxonomy, lang: str, *, size: float = 7) -> float:
    headers, rows = _matrix_rows(matrix, taxonomy, lang)
    n = len(matrix.columns)
    label_w = 0.34
    w = (0.88 - label_w) / (n + 1)
    return table(fig, 0.06, y, [label_w] + [w] * (n + 1), headers, rows, numeric=[False] + [True] * (n + 1),
                 size=size, wrap=[60] + [max(6, int(w * 8.27 * 72 / size / 0.6))] * (n + 1), bold_last=True)


def _date(value, lang: str) -> str:
    if image.is_missing(value) or pd.isna(value):
        return _t("none", lang)
    return pd.Timestamp(value).date().isoformat()


def _labels(keys, taxonomy, group: str, lang: str) -> list[str]:
    if image.is_missing(keys):
        return []
    return [taxonomy.label(group, k, lang) for k in str(keys).split(",") if k]


def _more(items: list[str], limit: int, lang: str) -> list[str]:
    if len(items) <= limit:
        return items
    return items[:limit] + [_t("more", lang, n=len(items) - limit)]


# -- the pages -------------------------------------------------------------------------------------------------
def _cover(fig, view: image.View, taxonomy, metric: str) -> None:
    lang = view.lang
    fig.text(0.06, 0.955, _t("title", lang), fontsize=20, fontweight="bold", va="top")
    fig.text(0.06, 0.92, _t("subtitle", lang), fontsize=14, va="top")
    fig.text(0.06, 0.895, f"{_t('period', lang)}: {view.period}", fontsize=10, va="top")
    filters = image._wrap(f"{_t('filters', lang)}: {view.filter_text}", 110, lines=12)
    fig.text(0.06, 0.877, filters, fontsize=8, va="top", linespacing=1.2, color="#333333")
    y = 0.877 - (filters.count("\n") + 1) * 8 * 1.2 / 72 / A4[1] - 0.008
    fig.text(0.06, y, f"{_t('made', lang)}: {made_text(view.made)}", fontsize=8, va="top", color="#333333")
    prov = view.tables["province"].iloc[0]
    participants = prov["participants"]
    rows = [
        [_t("targets_reached", lang), fraction_text(int(prov["sites_reached"]), int(prov["target_sites"]))],
        [_t("targets_covered", lang), fraction_text(int(prov["sites_covered"]), int(prov["target_sites"]))],
        [_t("interventions", lang), str(int(prov["interventions"]))],
        [_t("participants", lang), _t("none", lang) if image.is_missing(participants) or pd.isna(participants)
         else str(int(participants))],
        [_t("organisations", lang), str(int(prov["organisations"]))],
    ]
    fig.text(0.06, y - 0.025, _t("summary", lang), fontsize=12, fontweight="bold", va="top")
    y = table(fig, 0.06, y - 0.05, [0.30, 0.14], ["", ""], rows, numeric=[False, True], size=8.5)
    matrix = coverage.type_actor_matrix(view.records, taxonomy, view.filters, sites=view.sites)
    by_type = [[taxonomy.label("types", k, lang), str(int(v))] for k, v in matrix.sum(axis=1).items()]
    by_actor = [[taxonomy.label("actors", k, lang), str(int(v))] for k, v in matrix.sum(axis=0).items()]
    y_left = table(fig, 0.06, y - 0.015, [0.34, 0.08], [_t("by_type", lang), ""], by_type,
                   numeric=[False, True], size=7.5, wrap=[52, None])
    y_right = table(fig, 0.54, y - 0.015, [0.30, 0.08], [_t("by_actor", lang), ""], by_actor,
                    numeric=[False, True], size=7.5, wrap=[44, None])
    y = min(y_left, y_right) - 0.012
    share = coverage.bahaya_share(view.records, view.sites, taxonomy, view.filters)
    worst = taxonomy.label("ikrn", share["ikrn"], lang) if share["ikrn"] in taxonomy.ikrn_keys else share["ikrn"]
    fig.text(0.06, y, _t("bahaya", lang, ikrn=worst), fontsize=9.5, fontweight="bold", va="top")
    fig.text(0.06, y - 0.018, image._wrap(_t("bahaya_text", lang, share=_pct(share["share_interventions"], lang),
                                                ikrn=worst, targets=_pct(share["share_targets"], lang),
                                                ratio=_num(share["ratio"], lang)), 120), fontsize=8, va="top")
    top = y - 0.045
    ax = fig.add_axes((0.06, 0.05, 0.88, max(0.1, top - 0.06)))
    items = image.level_map(ax, view, level="kelurahan", metric=metric, label_size=6.5, kota_label_size=8.5,
                            site_size=22)
    image.scale_bar(ax, fontsize=6.5)
    image.north_arrow(ax, lang, fontsize=9)
    image.legend(ax, items, title=image.legend_title(metric, lang), loc="lower right", fontsize=6.5, frame=True)


def _pct(x: float, lang: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return _t("no_data", lang)
    return f"{100 * x:.0f}%"


def _num(x: float, lang: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return _t("no_data", lang)
    return f"{x:.2f}".replace(".", ",") if lang == "id" else f"{x:.2f}"


def _contents(fig, view: image.View, pages: list[Page]) -> None:
    lang = view.lang
    y = _heading(fig, _t("contents", lang)) - 0.02
    groups = (("cover", _t("cover", lang)), ("kota", _t("kota_part", lang)), ("site", _t("site_part", lang)))
    for kind, title in groups:
        entries = [(i + 1, p) for i, p in enumerate(pages) if p.kind == kind]
        if not entries:
            continue
        if kind != "cover":
            fig.text(0.06, y, title, fontsize=10.5, fontweight="bold", va="top")
            y -= 0.024
        for n, p in entries:
            text = image._wrap(p.heading if kind != "kota" else f"{p.heading} ({p.key})", 80)
            fig.text(0.08, y, text, fontsize=9, va="top", linespacing=1.15)
            fig.text(0.94, y, str(n), fontsize=9, va="top", ha="right")
            y -= (text.count("\n") + 1) * 0.0165 + 0.004
        y -= 0.012


def _kota_page(fig, view: image.View, taxonomy, metric: str, code: str, name: str) -> None:
    lang = view.lang
    y = _heading(fig, f"{name} ({code})")
    row = view.tables["kota"].set_index("code").loc[code]
    n_kel = int((view.tables["kelurahan"]["kota_code"] == code).sum())
    fig.text(0.06, y - 0.005, _t("kota_summary", lang, kel=n_kel, n=int(row["interventions"]),
                                 reached=fraction_text(int(row["sites_reached"]), int(row["target_sites"])),
                                 covered=fraction_text(int(row["sites_covered"]), int(row["target_sites"]))),
             fontsize=8.5, va="top")
    ax = fig.add_axes((0.06, 0.50, 0.88, y - 0.53))
    items = image.level_map(ax, view, level="kelurahan", metric=metric, only=[code], label_size=6,
                            kota_label_size=8, site_size=26,
                            extent_areas=view.areas["kelurahan"][view.areas["kelurahan"]["code"].astype(str)
                                                                  .str.startswith(code + ".")])
    image.scale_bar(ax, fontsize=6.5)
    image.north_arrow(ax, lang, fontsize=9)
    image.legend(ax, items, title=image.legend_title(metric, lang), loc="lower right", fontsize=6, frame=True)
    gaps = coverage.rank_gaps([view.tables["site"], view.tables["kelurahan"]], taxonomy)
    gaps = gaps[gaps["kota_code"] == code]
    fig.text(0.06, 0.485, _t("gaps", lang), fontsize=10, fontweight="bold", va="top")
    y = 0.463
    if not len(gaps):
        fig.text(0.06, y, _t("no_gaps", lang), fontsize=8, va="top")
        y -= 0.02
    else:
        rows = []
        for i, g in enumerate(gaps.head(GAP_ROWS).itertuples(index=False), start=1):
            rows.append([str(i), _t(f"level_{g.level}", lang), str(g.name), _t(f"gap_{g.gap}", lang),
                         f"{g.types_done}/{g.types_total}", f"{g.actors_done}/{g.actors_total}",
                         _date(g.last_date, lang)])
        if len(gaps) > GAP_ROWS:
            rows.append(["", "", _t("more", lang, n=len(gaps) - GAP_ROWS), "", "", "", ""])
        y = table(fig, 0.06, y, [0.04, 0.09, 0.35, 0.16, 0.07, 0.07, 0.10],
                  [_t("rank", lang), _t("level", lang), _t("place", lang), _t("gap", lang),
                   _t("types_done", lang), _t("actors_done", lang), _t("last", lang)], rows,
                  numeric=[True, False, False, False, True, True, True], size=6.8, wrap=[None, None, 60, 26, None,
                                                                                           None, None])
    matrix = coverage.type_actor_matrix(view.records, taxonomy, view.filters, area=code, sites=view.sites)
    fig.text(0.06, y - 0.012, _t("matrix", lang), fontsize=10, fontweight="bold", va="top")
    _matrix(fig, y - 0.034, matrix, taxonomy, lang, size=6.8)


def _site_page(fig, view: image.View, taxonomy, code: str, name: str, kel_names: dict, kec_names: dict,
               kota_names: dict) -> None:
    lang = view.lang
    row = view.tables["site"].set_index("code").loc[code]
    y = _heading(fig, name, size=15)
    kel = row["kelurahan_code"]
    ikrn = row["ikrn"]
    ikrn_text = taxonomy.label("ikrn", ikrn, lang) if isinstance(ikrn, str) and ikrn else _t("none", lang)
    if view.public:
        where = _t("generalised", lang)
    else:
        approx = dict(zip(view.sites["id"], view.sites["approximate"])).get(code, False)
        where = _t("approximate" if bool(approx) else "exact", lang)
    info = [
        [_t("kelurahan", lang), f"{kel_names.get(kel, kel)} ({kel})"],
        [_t("kecamatan", lang), str(kec_names.get(regions.kecamatan_code(str(kel)), _t("none", lang)))],
        [_t("kota", lang), str(kota_names.get(regions.kota_code(str(kel)), _t("none", lang)))],
        [_t("ikrn", lang), ikrn_text], [_t("location", lang), where],
        [_t("interventions", lang), str(int(row["interventions"]))],
        [_t("types_done", lang), fraction_text(int(row["types_done"]), int(row["types_total"]))],
        [_t("actors_done", lang), fraction_text(int(row["actors_done"]), int(row["actors_total"]))],
    ]
    last = row["last_date"]
    days = row["days_since_last"]
    last_text = _t("never", lang) if image.is_missing(last) or pd.isna(last) else (
        f"{_date(last, lang)} ({_t('days_since', lang, n=int(days))})" if not pd.isna(days) else _date(last, lang))
    info.append([_t("last_activity", lang), last_text])
    table(fig, 0.06, y - 0.01, [0.16, 0.30], ["", ""], info, size=7.5, wrap=[None, 48])
    # the location map, upper right
    ax = fig.add_axes((0.56, y - 0.30, 0.38, 0.29))
    _location_map(ax, view, code, kel)
    y = y - 0.32
    missing_t = _labels(row["missing_types"], taxonomy, "types", lang)
    missing_a = _labels(row["missing_actors"], taxonomy, "actors", lang)
    fig.text(0.06, y, _t("missing_types", lang), fontsize=9, fontweight="bold", va="top")
    fig.text(0.06, y - 0.017, image._wrap("; ".join(missing_t) or _t("all_done", lang), 130), fontsize=7.5,
             va="top", linespacing=1.2)
    y2 = y - 0.017 - (image._wrap("; ".join(missing_t) or "-", 130).count("\n") + 1) * 0.0135 - 0.008
    fig.text(0.06, y2, _t("missing_actors", lang), fontsize=9, fontweight="bold", va="top")
    fig.text(0.06, y2 - 0.017, image._wrap("; ".join(missing_a) or _t("all_done", lang), 130), fontsize=7.5,
             va="top")
    y = y2 - 0.045
    matrix = coverage.type_actor_matrix(view.records, taxonomy, view.filters, site=code, sites=view.sites)
    fig.text(0.06, y, _t("matrix", lang), fontsize=10, fontweight="bold", va="top")
    y = _matrix(fig, y - 0.022, matrix, taxonomy, lang, size=6.8)
    tl = coverage.timeline(view.records, taxonomy, dataclasses.replace(view.filters, sites=(code,)),
                           sites=view.sites)
    fig.text(0.06, y - 0.012, _t("timeline", lang), fontsize=10, fontweight="bold", va="top")
    ax = fig.add_axes((0.08, 0.10, 0.86, max(0.08, y - 0.15)))
    _timeline(ax, tl, taxonomy, lang)


def _location_map(ax, view: image.View, code: str, kel_code) -> None:
    """The site's kelurahan (hatched outline) among its neighbours; internal books add the site's point."""
    import shapely

    ax.set_axis_off()
    kel = view.areas["kelurahan"]
    mine = kel[kel["code"] == kel_code]
    if not len(mine):
        return
    box = shapely.box(*mine.total_bounds).buffer(SITE_MAP_MARGIN_M)
    near = kel[kel.intersects(box)]
    image.fill(ax, near, "#f4f4f4", edge="#999999", linewidth=0.4)
    image.fill(ax, mine, "#fde0c5", edge="#b2182b", linewidth=1.4, zorder=1.5)
    kec = view.areas["kecamatan"]
    kec_near = kec[kec.intersects(box)]
    image.outlines(ax, kec_near, linewidth=0.9, color="#555555")
    pts = view.site_points
    if not view.public:
        pts = pts[pts["id"] == code]
    else:
        pts = pts[pts["kelurahan_code"] == kel_code]
    image.draw_sites(ax, pts, size=40)
    x0, y0, x1, y1 = box.bounds
    image._fit(ax, (x0, x1, y0, y1), image._axes_ratio(ax))
    image.place_labels(ax, image.label_candidates(mine, size=7, weight="bold")
                       + image.label_candidates(near[near["code"] != kel_code], size=5.5),
                       placed=image.marker_boxes(ax, pts, radius_px=8))
    image.scale_bar(ax, fontsize=5.5)
    image.north_arrow(ax, view.lang, fontsize=7)


def _timeline(ax, tl: pd.DataFrame, taxonomy, lang: str) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=6)
    if not len(tl):
        ax.text(0.5, 0.5, _t("none", lang), ha="center", va="center", transform=ax.transAxes)
        return
    x = np.arange(len(tl))
    edges = np.arange(len(tl) + 1) - 0.5
    bottom = np.zeros(len(tl))
    for i, key in enumerate(tl.columns):
        values = tl[key].to_numpy(dtype=float)
        if not values.any():
            continue
        label = taxonomy.label("types", key, lang) if key in taxonomy.type_keys else str(key)
        ax.stairs(bottom + values, edges, baseline=bottom.copy(), fill=True,
                  color=maps.TYPE_COLORS[i % len(maps.TYPE_COLORS)], label=image._wrap(label, 40))
        bottom += values
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, max(1.0, bottom.max() * 1.35))
    step = max(1, math.ceil(len(tl) / 12))
    ax.set_xticks(x[::step], [p.strftime("%Y-%m") for p in tl.index[::step]], rotation=45, ha="right")
    ax.legend(fontsize=5.5, frameon=False, loc="upper left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    ax.set_ylabel(_t("interventions", lang), fontsize=6.5)


# -- the book ---------------------------------------------------------------------------------------------------
def render_report(records: pd.DataFrame, sites: pd.DataFrame | None, *, boundaries, taxonomy,
                  filters: Filters | None = None, public: bool = False, lang: str = "id",
                  metric: str = "interventions", as_of: dt.date | None = None,
                  made: dt.datetime | None = None) -> bytes:
    """The map book of the records and sites (frames) as PDF bytes."""
    if metric not in maps.METRICS:
        msg = f"metric must be one of {', '.join(maps.METRICS)}, not {metric!r}"
        raise P4gnError(msg)
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context(image.RC):
        view = image.prepare(records, sites, boundaries=boundaries, taxonomy=taxonomy, filters=filters,
                             public=public, lang=lang, as_of=as_of, made=made)
        pages = plan(view)
        kel_names = dict(zip(boundaries.kelurahan["code"], boundaries.kelurahan["name"]))
        kec_names = dict(zip(boundaries.kecamatan["code"], boundaries.kecamatan["name"]))
        kota_names = dict(zip(boundaries.kota["code"], boundaries.kota["name"]))
        buf = io.BytesIO()
        meta = {"Title": f"{_t('title', lang)}, {_t('subtitle', lang)}",
                "Subject": f"{_t('period', lang)}: {view.period}. {_t('filters', lang)}: {view.filter_text}",
                "Creator": "geo_p4gn", "CreationDate": view.made}
        with PdfPages(buf, metadata=meta) as pdf:
            for n, page in enumerate(pages, start=1):
                fig = image._figure(A4, 100)
                if page.kind == "cover":
                    _cover(fig, view, taxonomy, metric)
                elif page.kind == "contents":
                    _contents(fig, view, pages)
                elif page.kind == "kota":
                    _kota_page(fig, view, taxonomy, metric, page.key, page.heading)
                else:
                    _site_page(fig, view, taxonomy, page.key, page.heading, kel_names, kec_names, kota_names)
                _footer(fig, view, n, len(pages))
                pdf.savefig(fig)
        return buf.getvalue()


def write_atomically(data: bytes, out: str | Path, doing: str) -> Path:
    """Write ``data`` to ``out`` through a temporary file beside it (no partial file on a full disk)."""
    out = Path(out)
    try:
        atomic_write(out, data)
    except OSError as exc:
        raise os_fault(exc, doing=doing) from exc
    return out
