"""The shareable HTML map: one file that opens anywhere, offline, and is safe to forward.

``geo-p4gn export html OUT.html [filters] [--public] [--lang en]`` and the app's download button both end in
:func:`render_export`, which returns the page as a string. The page holds the kelurahan choropleth of one
metric with its legend, kecamatan and kota outlines, the sites coloured by type completeness, a toggle per
intervention type, a title with the filters and the period, the date it was made, the data sources with
their licences, a table per site and the type x actor matrix. Every number comes from
:mod:`geo_p4gn.coverage`; Leaflet and the styles are inlined by :func:`geo_p4gn.render.assets.offline_html`, so the
file loads nothing from any host (a background tile layer only when the caller asks for one).

What leaves the store (the allow-list)
--------------------------------------
Records are aggregated, never embedded. Of a record only :data:`RECORD_COLUMNS` are read, and the frame is
cut down to them as it comes in: record ids, notes, recorder identities and time stamps are never touched.
Organisation names appear (per site) in the internal export only. Of a site only :data:`SITE_COLUMNS` are
read (:data:`PUBLIC_SITE_COLUMNS` with ``public=True``).

``public=True`` generalises every site to its kelurahan: sites are drawn at the kelurahan's representative
point (one marker per kelurahan), the site geometry is not read at all, and free text is dropped (aliases,
organisation names, sources that are not web addresses).

Examples
--------
>>> html = render_export(records, sites, boundaries=load_boundaries(), taxonomy=load_taxonomy(),
...                      public=True)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.template import Template

from .. import __version__, coverage, i18n, settings
from .._errors import P4gnError, os_fault
from .._files import atomic_write
from ..boundaries import load_boundaries
from ..filters import Filters
from ..i18n import LANGS
from ..taxonomy import load_taxonomy
from . import assets, maps
from .elements import Raw, SafeElement, page_template
from .maps import esc

#: The record columns an export reads (they feed geo_p4gn.coverage); every other column is dropped on entry.
RECORD_COLUMNS = ("date", "end_date", "type_key", "actor_key", "organisation", "site_id", "kelurahan_code",
                  "participants", "deleted")
#: The site columns an internal export reads.
SITE_COLUMNS = ("id", "name", "aliases", "kelurahan_code", "approximate", "ikrn", "sources", "geometry")
#: The site columns a public export reads: no geometry, no aliases.
PUBLIC_SITE_COLUMNS = ("id", "name", "kelurahan_code", "ikrn", "sources")
#: Organisation names listed per site (internal export) before "+ n more".
MAX_ORGANISATIONS = 10

_PAGE_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; }
.gp-head { padding: 8px 14px; border-bottom: 1px solid #ddd; }
.gp-head h1 { font-size: 1.2rem; margin: 0 0 4px; }
.gp-head p, .gp-note { margin: 2px 0; color: #444; font-size: 13px; }
.gp-body { padding: 6px 14px 28px; max-width: 1100px; }
.gp-body h2 { font-size: 1.05rem; margin: 18px 0 6px; }
.gp-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table.gp-table { border-collapse: collapse; font-size: 13px; }
table.gp-table th, table.gp-table td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: left;
  vertical-align: top; }
table.gp-table th { background: #f6f6f6; }
table.gp-table td.n, table.gp-table th.n { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
table.gp-table td.z { color: #bbb; }
.gp-small { color: #666; font-size: 12px; }
.gp-sources li { margin: 2px 0; overflow-wrap: anywhere; }
"""



def _t(key: str, lang: str, **values) -> str:
    """The export's text ``export.<key>`` from the catalogue (:mod:`geo_p4gn.i18n`)."""
    return i18n.t(f"export.{key}", lang, **values)

# -- the allow-list --------------------------------------------------------------------------------------
def allowed_records(records: pd.DataFrame) -> pd.DataFrame:
    """The records cut down to :data:`RECORD_COLUMNS` (a new plain frame; optional columns filled)."""
    missing = [c for c in ("date", "type_key", "actor_key", "kelurahan_code") if c not in records.columns]
    if missing:
        msg = f"records: missing column(s) {', '.join(missing)}"
        raise P4gnError(msg)
    defaults = {"end_date": None, "organisation": "", "site_id": None, "participants": None, "deleted": False}
    out = pd.DataFrame({c: records[c] for c in RECORD_COLUMNS if c in records.columns}).reset_index(drop=True)
    for col in RECORD_COLUMNS:
        if col not in out.columns:
            out[col] = defaults[col]
    out["deleted"] = out["deleted"].fillna(False).astype(bool)
    return out[list(RECORD_COLUMNS)]


def allowed_sites(sites: pd.DataFrame | None, public: bool) -> pd.DataFrame:
    """The sites cut down to :data:`SITE_COLUMNS` (or :data:`PUBLIC_SITE_COLUMNS`), a new frame."""
    cols = PUBLIC_SITE_COLUMNS if public else SITE_COLUMNS
    if sites is None:
        sites = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols if c != "geometry"},
                                 geometry=gpd.GeoSeries([], crs=settings.crs))
    missing = [c for c in ("id", "name", "kelurahan_code") if c not in sites.columns]
    if missing:
        msg = f"sites: missing column(s) {', '.join(missing)}"
        raise P4gnError(msg)
    out = pd.DataFrame(index=pd.RangeIndex(len(sites)))
    for col in cols:
        if col == "geometry":
            continue
        if col in sites.columns:
            out[col] = sites[col].to_numpy(dtype=object)
        elif col in ("aliases", "sources"):
            out[col] = [[] for _ in range(len(sites))]
        else:
            out[col] = False if col == "approximate" else None
    for col in ("aliases", "sources"):
        if col in out.columns:
            out[col] = [_as_list(v) for v in out[col]]
    if public:
        out["sources"] = [[s for s in v if _is_web(s)] for v in out["sources"]]
        return out
    geom = sites.geometry.to_crs(settings.crs) if isinstance(sites, gpd.GeoDataFrame) else None
    if geom is None:
        msg = "sites: an internal export needs the site geometry (a GeoDataFrame)"
        raise P4gnError(msg)
    return gpd.GeoDataFrame(out, geometry=geom.to_numpy(), crs=settings.crs)


def _as_list(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value if v is not None and str(v).strip()]


def _is_web(text: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s\"'<>`]+", str(text)))


# -- page parts --------------------------------------------------------------------------------------------
class PageParts(SafeElement):
    """The page around the map: ``before`` and ``after`` it in the body, and the page's styles.

    Both are made by the project's own autoescaping templates (:func:`geo_p4gn.render.elements.page_template`)
    and go into the page as :class:`~geo_p4gn.render.elements.Raw` text: never compiled as a template.
    """

    _template = Template("")

    def __init__(self, before: str, after: str, css: str):
        super().__init__()
        self._name = "PageParts"
        self.before, self.after, self.css = before, after, css

    def render(self, **kwargs):
        figure = self.get_root()
        figure.header.add_child(Raw(f"<style>{self.css}</style>"), name="gp_page_css")
        figure.html.add_child(Raw(self.before), name="gp_before", index=0)
        figure.html.add_child(Raw(self.after), name="gp_after")
        super().render(**kwargs)


def _cell(text, cls: str = "", small: str = "") -> dict:
    """A table cell: plain ``text`` (escaped by the template), a CSS class, an optional second line."""
    return {"text": "" if text is None else str(text), "cls": cls, "small": small}


def _table(headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[dict]]) -> dict:
    """A table for the page template; ``headers`` are (text, numeric), ``rows`` of :func:`_cell`."""
    return {"headers": [(str(h), bool(n)) for h, n in headers], "rows": [list(r) for r in rows]}


def _date_text(value, lang: str) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return _t("none", lang)
    return pd.Timestamp(value).date().isoformat()


def _labels(keys: str | None, taxonomy, group: str, lang: str) -> list[str]:
    return [taxonomy.label(group, k, lang) for k in (keys or "").split(",") if k]


def _period(records: pd.DataFrame, keep: pd.Series, filters: Filters) -> tuple[str | None, str | None]:
    """The window, its open ends taken from the records that count (``keep``)."""
    lo = filters.date_from.isoformat() if filters.date_from else None
    hi = filters.date_to.isoformat() if filters.date_to else None
    if lo and hi:
        return lo, hi
    if not keep.any():
        return lo, hi
    start = pd.to_datetime(records.loc[keep, "date"])
    end = pd.to_datetime(records.loc[keep, "end_date"]).fillna(start)
    return lo or start.min().date().isoformat(), hi or end.max().date().isoformat()


def _filter_text(filters: Filters, boundaries, taxonomy, sites: pd.DataFrame, lang: str) -> str:
    names = {}
    for level in ("kota", "kecamatan", "kelurahan"):
        layer = boundaries.layer(level)
        names[level] = dict(zip(layer["code"], layer["name"]))
    site_names = dict(zip(sites["id"], sites["name"]))
    parts = []
    for field, label in (("types", "f_types"), ("actors", "f_actors"), ("kota", "f_kota"),
                         ("kecamatan", "f_kecamatan"), ("kelurahan", "f_kelurahan"), ("sites", "f_sites"),
                         ("ikrn", "f_ikrn")):
        keys = getattr(filters, field)
        if not keys:
            continue
        if field in ("types", "actors", "ikrn"):
            values = [taxonomy.label(field, k, lang) for k in keys]
        elif field == "sites":
            values = [str(site_names.get(k, k)) for k in keys]
        else:
            values = [f"{names[field].get(k, k)} ({k})" for k in keys]
        parts.append(f"{_t(label, lang)}: {', '.join(values)}")
    return "; ".join(parts) if parts else _t("no_filter", lang)


def _site_rows(site_table: pd.DataFrame, sites: pd.DataFrame, kel_names: dict, organisations: dict,
               taxonomy, lang: str, public: bool) -> tuple[list, dict]:
    """Table rows and popup sections per site (site id -> section)."""
    aliases_of = dict(zip(sites["id"], sites["aliases"])) if not public else {}
    approximate = dict(zip(sites["id"], sites["approximate"])) if not public else {}
    rows, sections = [], {}
    for r in site_table.itertuples(index=False):
        kel = kel_names.get(r.kelurahan_code, r.kelurahan_code or _t("none", lang))
        ikrn = taxonomy.label("ikrn", r.ikrn, lang) if isinstance(r.ikrn, str) and r.ikrn else _t("none", lang)
        types = f"{r.types_done}/{r.types_total}"
        actors = f"{r.actors_done}/{r.actors_total}"
        last = _date_text(r.last_date, lang)
        popup = [[_t("kelurahan", lang), kel], [_t("ikrn", lang), ikrn], [_t("types", lang), types],
                 [_t("actors", lang), actors], [_t("interventions", lang), str(r.interventions)],
                 [_t("last", lang), last]]
        missing_types = _labels(r.missing_types, taxonomy, "types", lang)
        missing_actors = _labels(r.missing_actors, taxonomy, "actors", lang)
        if missing_types:
            popup.append([_t("missing_types", lang), ", ".join(missing_types)])
        if missing_actors:
            popup.append([_t("missing_actors", lang), ", ".join(missing_actors)])
        name_cell = _cell(r.name)
        row = [_cell(kel), _cell(ikrn), _cell(types, "n"), _cell(actors, "n"),
               _cell(r.interventions, "n" if r.interventions else "n z"), _cell(last, "n")]
        if not public:
            aliases = ", ".join(aliases_of.get(r.code, []))
            orgs = organisations.get(r.code, [])
            more = len(orgs) - MAX_ORGANISATIONS
            org_text = ", ".join(orgs[:MAX_ORGANISATIONS])
            if more > 0:
                org_text += " " + _t("more", lang, n=more)
            if aliases:
                popup.append([_t("aliases", lang), aliases])
                name_cell["small"] = aliases
            if orgs:
                popup.append([_t("organisations", lang), org_text])
            if bool(approximate.get(r.code, False)):
                popup.append([_t("approximate", lang), _t("approximate_yes", lang)])
            row.append(_cell(org_text))
        sections[r.code] = {"t": str(r.name), "r": popup}
        rows.append([name_cell, *row])
    return rows, sections


def _organisations(records: pd.DataFrame, keep: pd.Series) -> dict[str, list[str]]:
    """Distinct organisation names per site among the records that count (internal export only)."""
    sub = records.loc[keep & records["site_id"].notna(), ["site_id", "organisation"]].drop_duplicates()
    sub = sub.assign(organisation=sub["organisation"].map(lambda o: " ".join(str(o).split())))
    sub = sub[sub["organisation"] != ""]
    return {k: sorted(set(v), key=str.casefold) for k, v in sub.groupby("site_id")["organisation"]}


def _site_points(site_table: pd.DataFrame, sites: pd.DataFrame, sections: dict, kel_points: gpd.GeoSeries,
                 public: bool) -> gpd.GeoDataFrame:
    """The site markers: at the site (internal) or one per kelurahan at its representative point (public)."""
    complete = (site_table["types_done"] / site_table["types_total"].where(site_table["types_total"] > 0))
    frame = pd.DataFrame({"id": site_table["code"].to_numpy(), "name": site_table["name"].astype(str).to_numpy(),
                          "kelurahan_code": site_table["kelurahan_code"].to_numpy(),
                          "completeness": complete.to_numpy(dtype="float64")})
    frame["sections"] = [[sections[c]] for c in frame["id"]]
    if not public:
        geom = sites.set_index("id").geometry.reindex(frame["id"]).to_numpy()
        points = shapely.point_on_surface(geom)
        out = gpd.GeoDataFrame(frame.rename(columns={"name": "label"}), geometry=points, crs=settings.crs)
        return out[~out.geometry.isna() & ~out.geometry.is_empty][["id", "label", "sections", "completeness",
                                                                   "geometry"]]
    frame = frame[frame["kelurahan_code"].isin(kel_points.index)]
    grouped = frame.groupby("kelurahan_code", sort=True).agg(
        label=("name", "; ".join), sections=("sections", lambda s: [x for v in s for x in v]),
        completeness=("completeness", "min"))
    return gpd.GeoDataFrame(grouped.reset_index(drop=True),
                            geometry=kel_points.reindex(grouped.index).to_numpy(), crs=settings.crs)


def _type_points(records, sites, boundaries, taxonomy, filters, kel_points, as_of) -> gpd.GeoDataFrame:
    """Per type, the kelurahan where it happened, with counts: the coverage table of that type's records.

    Each type's records go to :func:`geo_p4gn.coverage.coverage_table` on their own (narrowed to the type
    too), so the passes together read every record about once.
    """
    parts = []
    by_type = dict(tuple(records.groupby("type_key", sort=False)))
    for key in filters.types or taxonomy.type_keys:
        if key not in by_type:
            continue
        t = coverage.coverage_table(by_type[key], sites, boundaries.kelurahan, taxonomy, "kelurahan",
                                    dataclasses.replace(filters, types=(key,)), as_of=as_of)
        t = t[t["interventions"] > 0]
        parts.append(pd.DataFrame({"type_key": key, "count": t["interventions"].to_numpy(),
                                   "label": t["name"].astype(str).to_numpy(), "code": t["code"].to_numpy()}))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {"type_key": [], "count": [], "label": [], "code": []})
    return gpd.GeoDataFrame(frame, geometry=kel_points.reindex(frame["code"]).to_numpy(), crs=settings.crs)


def _matrix_table(matrix: pd.DataFrame, taxonomy, lang: str) -> dict:
    headers = [(_t("type_col", lang), False)] + [(taxonomy.label("actors", a, lang), True) for a in matrix.columns]
    headers.append((_t("total", lang), True))
    rows = []
    for key, values in matrix.iterrows():
        row = [_cell(taxonomy.label("types", key, lang))]
        row += [_cell(v, "n" if v else "n z") for v in values.tolist()]
        row.append(_cell(int(values.sum()), "n"))
        rows.append(row)
    totals = [_cell(_t("total", lang))] + [_cell(int(v), "n") for v in matrix.sum(axis=0).tolist()]
    totals.append(_cell(int(matrix.to_numpy().sum()), "n"))
    rows.append(totals)
    return _table(headers, rows)


def _link(url: str) -> dict:
    """A link when ``url`` is a web address, else plain text (a part of a sources item)."""
    return {"href": url} if _is_web(url) else {"text": url}


def _sources(boundaries, taxonomy, sites: pd.DataFrame, lang: str) -> list[dict]:
    """The data sources and licences; ``sites``: the sites in the export (their sources are cited).

    Each item is ``{"parts": [...], "children": [[...], ...]}``; a part is ``{"text": ...}`` or
    ``{"href": ...}`` (a web address, shown as a link).
    """
    src = boundaries.source
    commit = str(src.get("commit", ""))[:7]
    codes = _t("codes", lang)
    items = [
        {"parts": [{"text": f"{_t('boundaries', lang)}: "}, _link(str(src.get("source", ""))),
                   {"text": f"{f' @ {commit}' if commit else ''} ({src.get('license', '')}); {codes}"}]},
        {"parts": [{"text": f"{_t('taxonomy', lang)}: {_t('taxonomy_src', lang, year=taxonomy.year or '')}"}]},
        {"parts": [{"text": f"{_t('records', lang)}: {_t('records_src', lang)}"}]},
    ]
    urls = sorted({u for v in sites["sources"] for u in v}) if "sources" in sites.columns else []
    if urls:
        items.append({"parts": [{"text": f"{_t('site_sources', lang)}:"}], "children": [[_link(u)] for u in urls]})
    leaflet = assets.ASSETS["leaflet_js"]
    items.append({"parts": [{"text": f"{_t('software', lang)}: Leaflet {leaflet.version} ({leaflet.licence}), "
                                     f"geo_p4gn {__version__} (MIT)"}]})
    return items


# -- the export --------------------------------------------------------------------------------------------
def render_export(
    records: pd.DataFrame,
    sites: pd.DataFrame | None,
    *,
    boundaries,
    taxonomy,
    filters: Filters | None = None,
    public: bool = False,
    lang: str = "id",
    metric: str = "interventions",
    tiles: str = "",
    tiles_attribution: str = "",
    as_of: dt.date | None = None,
    made: dt.datetime | None = None,
) -> str:
    """The shareable HTML page for the records and sites (frames), as a string.

    Parameters
    ----------
    records : the interventions (``Store.list()``); only :data:`RECORD_COLUMNS` are read
    sites : the site registry (``Store.list_sites()``); only :data:`SITE_COLUMNS` are read
    boundaries, taxonomy : :class:`~geo_p4gn.Boundaries`, :class:`~geo_p4gn.Taxonomy`
    filters : the window and the other filters (default: everything)
    public : generalise sites to their kelurahan and drop free text
    lang : ``"id"`` (Bahasa Indonesia, default) or ``"en"``
    metric : the choropleth's metric, a key of :data:`geo_p4gn.render.maps.METRICS`
    tiles : a background tile URL template (default none: the file then loads nothing from any host)
    as_of : the day "days since last" counts to; made : the time stamp shown (default now)
    """
    if lang not in LANGS:
        msg = f"lang must be one of {', '.join(LANGS)}, not {lang!r}"
        raise P4gnError(msg)
    filters = filters or Filters()
    recs = allowed_records(records)
    st = allowed_sites(sites, public)
    kel = boundaries.kelurahan
    kel_points = gpd.GeoSeries(shapely.point_on_surface(kel.geometry.to_numpy()), index=kel["code"].to_numpy(),
                               crs=settings.crs)
    kel_names = dict(zip(kel["code"], kel["name"]))

    tables = coverage.coverage_tables(recs, st, kel, taxonomy, filters, levels=("site", "kelurahan"), as_of=as_of)
    site_table, kel_table = tables["site"], tables["kelurahan"]
    matrix = coverage.type_actor_matrix(recs, taxonomy, filters, sites=st)
    counted = filters.record_mask(recs, st) & ~recs["deleted"]  # the records the tables count
    organisations = {} if public else _organisations(recs, counted)
    site_rows, sections = _site_rows(site_table, st, kel_names, organisations, taxonomy, lang, public)

    # the map
    areas = kel[kel["code"].isin(kel_table["code"])]
    values = maps.metric_values(kel_table, metric)
    share = maps.METRICS[metric][0]
    details = {}
    for r in kel_table.itertuples(index=False):
        details[r.code] = [
            [_t("interventions", lang), str(r.interventions)],
            [_t("types", lang), f"{r.types_done}/{r.types_total}"],
            [_t("actors", lang), f"{r.actors_done}/{r.actors_total}"],
            [_t("sites_reached", lang), f"{r.sites_reached}/{r.target_sites}" if r.target_sites else
             _t("none", lang)],
            [_t("last", lang), _date_text(r.last_date, lang)],
        ]
    filtered_area = bool(filters.kota or filters.kecamatan or filters.kelurahan)
    bounds = maps.MAINLAND_BOUNDS
    if filtered_area and len(areas):
        x0, y0, x1, y1 = areas.total_bounds
        bounds = ((y0, x0), (y1, x1))
    m = maps.coverage_map(
        areas=areas, values=values, metric_label=maps.metric_label(metric, lang), share=share,
        outlines=[(i18n.t("map.kecamatan", lang), boundaries.kecamatan, 1.2),
                  (i18n.t("map.kota", lang), boundaries.kota, 2.4)],
        sites=_site_points(site_table, st, sections, kel_points, public),
        type_points=_type_points(recs, st, boundaries, taxonomy, filters, kel_points, as_of),
        taxonomy=taxonomy, type_keys=filters.types, details=details, lang=lang, tiles=tiles or "",
        attribution=tiles_attribution, height="70vh", bounds=bounds, metric=metric,
    )

    # the page around it
    made = made or dt.datetime.now().astimezone()
    lo, hi = _period(recs, counted, filters)
    period = f"{lo or '...'} {_t('dates', lang)} {hi or '...'}" if (lo or hi) else _t("none", lang)
    title = _t("title", lang)
    before = page_template("export_head.html").render(
        title=title, period_label=_t("period", lang), period=period, filters_label=_t("filters", lang),
        filters=_filter_text(filters, boundaries, taxonomy, st, lang), made_label=_t("made", lang),
        made=made.isoformat(timespec="minutes"), note=_t("public_note" if public else "internal_note", lang))
    headers = [(_t("site", lang), False), (_t("kelurahan", lang), False), (_t("ikrn", lang), False),
               (_t("types", lang), True), (_t("actors", lang), True), (_t("interventions", lang), True),
               (_t("last", lang), True)]
    if not public:
        headers.append((_t("organisations", lang), False))
    after = page_template("export_body.html").render(
        records_note=_t("records_note", lang, n=int(counted.sum())), site_title=_t("site_table", lang),
        site_table=_table(headers, site_rows) if site_rows else None, no_sites=_t("no_sites", lang),
        matrix_title=_t("matrix", lang), matrix=_matrix_table(matrix, taxonomy, lang),
        sources_title=_t("sources", lang),
        sources=_sources(boundaries, taxonomy, st[st["id"].isin(site_table["code"])], lang))
    PageParts(before, after, _PAGE_CSS).add_to(m)
    m.get_root().title = esc(title)
    page = assets.offline_html(m, allow=[tiles] if tiles else ())
    return page.replace("<html>", f'<html lang="{lang}">', 1)


def export_html(
    source,
    out: str | Path | None = None,
    filters: Filters | None = None,
    *,
    public: bool = False,
    lang: str = "id",
    metric: str = "interventions",
    tiles: str = "",
    boundaries=None,
    taxonomy=None,
    as_of: dt.date | None = None,
) -> str:
    """Build the shareable HTML map from a store (or ``(records, sites)`` frames); write it to ``out``.

    Returns the page. With a store, the records are read once with every filter but the window start
    (coverage looks back past it for "last intervention") and the sites with ``list_sites()``.
    """

    boundaries = boundaries or load_boundaries()
    taxonomy = taxonomy or load_taxonomy()
    filters = filters or Filters()
    if isinstance(source, tuple | list):
        records, sites = source
    else:
        records = source.list(dataclasses.replace(filters, date_from=None))
        sites = source.list_sites()
    page = render_export(records, sites, boundaries=boundaries, taxonomy=taxonomy, filters=filters,
                         public=public, lang=lang, metric=metric, tiles=tiles, as_of=as_of)
    if out is not None:
        try:
            atomic_write(out, page)
        except OSError as exc:
            raise os_fault(exc, doing="writing the HTML map") from exc
    return page
