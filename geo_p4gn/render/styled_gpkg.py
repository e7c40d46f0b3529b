"""A GeoPackage that opens in QGIS already mapped: coverage layers beside the interventions, with styles.

Layers
------
``coverage_kelurahan``, ``coverage_kecamatan``, ``coverage_kota``
    the boundary polygons with every column of the coverage table (:data:`geo_p4gn.coverage.COLUMNS`),
    plus ``metric_value`` (the chosen metric, as the app computes it) and ``metric_class`` (its legend
    label from :func:`geo_p4gn.render.maps.classify`: the app's classes).
``interventions``
    the allow-listed records of :func:`geo_p4gn.render.data.records_table` (internal, or public: no ids,
    notes or sites, every location generalised to its kelurahan's point).
``layer_styles``
    QGIS's own style table (the one QGIS writes with "Save as default in datasource"): one row per layer
    with a QML document (a categorized renderer on ``metric_class`` with the app's colours, or on
    ``type_key`` for the interventions, and the area names as labels) and the same as SLD, marked
    ``useAsDefault`` so QGIS applies it when the layer is added.

Every text that goes into the QML/SLD (legend labels, taxonomy labels) is written by
:mod:`xml.etree.ElementTree`, which escapes it: a label is data in an attribute, never markup.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .. import coverage, settings
from .._errors import P4gnError, os_fault
from .._files import replacing
from ..filters import Filters
from . import data as export_data
from . import html as _html
from . import maps

COVERAGE_LEVELS = ("kelurahan", "kecamatan", "kota")
STYLE_NAME = "geo_p4gn"


def _rgba(color: str) -> str:
    c = maps.check_color(color).lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},255"


def _symbol(parent, name: str, kind: str, color: str) -> None:
    sym = ET.SubElement(parent, "symbol", {"type": kind, "name": name, "alpha": "1" if kind == "marker" else "0.85",
                                           "clip_to_extent": "1", "force_rhr": "0"})
    layer = ET.SubElement(sym, "layer", {"class": "SimpleFill" if kind == "fill" else "SimpleMarker",
                                         "enabled": "1", "pass": "0", "locked": "0"})
    opts = ET.SubElement(layer, "Option", {"type": "Map"})
    values = {"color": _rgba(color), "outline_color": "102,102,102,255", "outline_width": "0.2",
              "outline_width_unit": "MM", "style": "solid", "outline_style": "solid"}
    if kind == "marker":
        values |= {"name": "circle", "size": "2.2", "outline_color": "35,35,35,255"}
    for key, value in values.items():
        ET.SubElement(opts, "Option", {"name": key, "type": "QString", "value": value})


def qml(field: str, categories: list[tuple[str, str, str]], *, kind: str = "fill", label_field: str | None = "name"
        ) -> str:
    """A QGIS style (QML): a categorized renderer on ``field``; ``categories`` are (value, label, colour)."""
    root = ET.Element("qgis", {"version": "3.34.0", "styleCategories": "Symbology|Labeling"})
    renderer = ET.SubElement(root, "renderer-v2", {"type": "categorizedSymbol", "attr": field,
                                                   "symbollevels": "0", "enableorderby": "0", "forceraster": "0"})
    cats = ET.SubElement(renderer, "categories")
    syms = ET.SubElement(renderer, "symbols")
    for i, (value, label, color) in enumerate(categories):
        ET.SubElement(cats, "category", {"symbol": str(i), "value": value, "label": label, "render": "true"})
        _symbol(syms, str(i), kind, color)
    if label_field:
        labeling = ET.SubElement(root, "labeling", {"type": "simple"})
        settings_el = ET.SubElement(labeling, "settings", {"calloutType": "simple"})
        ET.SubElement(settings_el, "text-style", {"fieldName": label_field, "fontSize": "7", "textColor": "26,26,26,255",
                                                  "isExpression": "0"})
        ET.SubElement(settings_el, "text-buffer", {"bufferDraw": "1", "bufferSize": "0.8",
                                                   "bufferColor": "255,255,255,255"})
        ET.SubElement(settings_el, "placement", {"placement": "0"})
        ET.SubElement(settings_el, "rendering", {"obstacle": "1", "displayAll": "0"})
    ET.SubElement(root, "layerGeometryType").text = "2" if kind == "fill" else "0"
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def sld(layer: str, field: str, categories: list[tuple[str, str, str]], *, kind: str = "fill") -> str:
    """The same categories as an OGC SLD 1.1 document (for other GIS than QGIS)."""
    ns = {"xmlns": "http://www.opengis.net/sld", "xmlns:ogc": "http://www.opengis.net/ogc",
          "xmlns:se": "http://www.opengis.net/se", "version": "1.1.0"}
    root = ET.Element("StyledLayerDescriptor", ns)
    named = ET.SubElement(root, "NamedLayer")
    ET.SubElement(named, "se:Name").text = layer
    style = ET.SubElement(ET.SubElement(named, "UserStyle"), "se:FeatureTypeStyle")
    for value, label, color in categories:
        rule = ET.SubElement(style, "se:Rule")
        ET.SubElement(rule, "se:Name").text = label
        ET.SubElement(ET.SubElement(rule, "se:Description"), "se:Title").text = label
        flt = ET.SubElement(ET.SubElement(rule, "ogc:Filter"), "ogc:PropertyIsEqualTo")
        ET.SubElement(flt, "ogc:PropertyName").text = field
        ET.SubElement(flt, "ogc:Literal").text = value
        if kind == "fill":
            sym = ET.SubElement(rule, "se:PolygonSymbolizer")
            f = ET.SubElement(sym, "se:Fill")
            ET.SubElement(f, "se:SvgParameter", {"name": "fill"}).text = color
            s = ET.SubElement(sym, "se:Stroke")
            ET.SubElement(s, "se:SvgParameter", {"name": "stroke"}).text = "#666666"
            ET.SubElement(s, "se:SvgParameter", {"name": "stroke-width"}).text = "0.5"
        else:
            sym = ET.SubElement(rule, "se:PointSymbolizer")
            mark = ET.SubElement(ET.SubElement(sym, "se:Graphic"), "se:Mark")
            ET.SubElement(mark, "se:WellKnownName").text = "circle"
            ET.SubElement(ET.SubElement(mark, "se:Fill"), "se:SvgParameter", {"name": "fill"}).text = color
    return ET.tostring(root, encoding="unicode")


def coverage_layer(table: pd.DataFrame, boundary: gpd.GeoDataFrame, metric: str, lang: str
                   ) -> tuple[gpd.GeoDataFrame, list[tuple[str, str, str]]]:
    """The coverage table on its polygons, with ``metric_value`` and ``metric_class``; and the categories."""
    values = maps.metric_values(table, metric)
    share = maps.METRICS[metric][0]
    v = values.reindex(table["code"].to_numpy())
    v.index = table.index
    colors, items = maps.classify(v, share=share, lang=lang, metric=metric)
    label_of = dict(items)
    frame = table.copy()
    for col in frame.columns:
        if frame[col].dtype == object or str(frame[col].dtype).startswith("str"):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    frame["last_date"] = [None if pd.isna(d) else pd.Timestamp(d).date().isoformat() for d in frame["last_date"]]
    for col in ("participants", "days_since_last"):
        frame[col] = frame[col].astype("float64")
    frame["metric_value"] = v.to_numpy(dtype="float64")
    frame["metric_class"] = [label_of[c] for c in colors]
    geom = boundary.set_index("code").geometry.reindex(frame["code"]).to_numpy()
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(list(geom), crs=settings.crs), crs=settings.crs)
    return out, [(lab, lab, c) for c, lab in items]


def _write_styles(path: Path, styles: list[dict]) -> None:
    """QGIS's ``layer_styles`` table, registered as an attributes table of the GeoPackage."""
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
                "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
                "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
                "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))")
            con.execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, "
                        "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles', "
                        "strftime('%Y-%m-%dT%H:%M:%fZ','now'))")
            con.executemany(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner) "
                "VALUES ('', '', :table, 'geom', :name, :qml, :sld, 1, :description, 'geo_p4gn')", styles)
    finally:
        con.close()


def render_styled_gpkg(records: pd.DataFrame, sites: pd.DataFrame | None, out: str | os.PathLike, *,
                       boundaries, taxonomy, filters: Filters | None = None, public: bool = False,
                       lang: str = "id", metric: str = "interventions", as_of: dt.date | None = None) -> dict:
    """Write the styled GeoPackage to ``out`` (whole, then moved into place); returns rows per layer."""

    if metric not in maps.METRICS:
        msg = f"metric must be one of {', '.join(maps.METRICS)}, not {metric!r}"
        raise P4gnError(msg)
    filters = filters or Filters()
    recs = _html.allowed_records(records)
    st = _html.allowed_sites(sites, public)
    tables = coverage.coverage_tables(recs, st, boundaries.kelurahan, taxonomy, filters,
                                      levels=COVERAGE_LEVELS, as_of=as_of)
    # the interventions: the data export's allow-list, the counted records only
    keep = filters.record_mask(records, sites) & ~records["deleted"].fillna(False).astype(bool).to_numpy() \
        if "deleted" in records.columns else filters.record_mask(records, sites)
    table = export_data.records_table(records[np.asarray(keep, dtype=bool)], public=public, taxonomy=taxonomy,
                                      boundaries=boundaries, sites=sites, lang=lang)
    inter = table.drop(columns=[c for c in ("geometry_wkt",) if c in table.columns])
    inter = inter.astype({c: object for c in inter.columns if c not in ("geometry", "participants", "lat", "lon",
                                                                        "kelurahan_lat", "kelurahan_lon")})
    out = Path(out)
    counts, styles = {}, []
    try:
        with replacing(out) as tmp:
            _write_styled(tmp, tables, records=inter, boundaries=boundaries, taxonomy=taxonomy, metric=metric,
                          lang=lang, counts=counts, styles=styles)
    except OSError as exc:
        raise os_fault(exc, doing="writing the styled GeoPackage") from exc
    return counts


def _write_styled(tmp: Path, tables, *, records, boundaries, taxonomy, metric: str, lang: str, counts: dict,
                  styles: list) -> None:
    """The coverage layers, the interventions and their styles, written to the GeoPackage ``tmp``."""
    inter = records
    for level in COVERAGE_LEVELS:
        layer, cats = coverage_layer(tables[level], boundaries.layer(level), metric, lang)
        name = f"coverage_{level}"
        pyogrio.write_dataframe(layer, tmp, layer=name, driver="GPKG", append=bool(counts))
        counts[name] = len(layer)
        title = f"{maps.metric_label(metric, lang)} ({level})"
        styles.append({"table": name, "name": STYLE_NAME, "qml": qml("metric_class", cats),
                       "sld": sld(name, "metric_class", cats), "description": title})
    pyogrio.write_dataframe(inter, tmp, layer="interventions", driver="GPKG", append=True)
    counts["interventions"] = len(inter)
    type_cats = [(k, taxonomy.label("types", k, lang), maps.TYPE_COLORS[i % len(maps.TYPE_COLORS)])
                 for i, k in enumerate(taxonomy.type_keys)]
    styles.append({"table": "interventions", "name": STYLE_NAME,
                   "qml": qml("type_key", type_cats, kind="marker", label_field=None),
                   "sld": sld("interventions", "type_key", type_cats, kind="marker"),
                   "description": "interventions by type"})
    _write_styles(tmp, styles)
