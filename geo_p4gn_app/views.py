"""Presentation helpers shared by the pages: labels, site markers, tables for display.

Nothing here computes coverage (that is :mod:`geo_p4gn.coverage`); these only turn core frames into what
a map layer or a table shows, in the user's language.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import data
from .i18n import t

#: Western Indonesia Time (Asia/Jakarta, UTC+7, no daylight saving): "today" and every time shown, whatever
#: the server's clock zone (the store keeps UTC).
try:
    WIB: dt.tzinfo = zoneinfo.ZoneInfo("Asia/Jakarta")
except zoneinfo.ZoneInfoNotFoundError:  # no tz database on the machine: the same fixed offset
    WIB = dt.timezone(dt.timedelta(hours=7), "WIB")


def today() -> dt.date:
    return dt.datetime.now(WIB).date()


def type_label(key, lang: str) -> str:
    return data.taxonomy().label("types", key, lang) if isinstance(key, str) else ""


def actor_label(key, lang: str) -> str:
    return data.taxonomy().label("actors", key, lang) if isinstance(key, str) else ""


def ikrn_label(key, lang: str) -> str:
    return data.taxonomy().label("ikrn", key, lang) if isinstance(key, str) and key else t("none", lang)


def area_name(code) -> str:
    return data.kelurahan_names().get(code, code or "") if isinstance(code, str) else ""


def date_text(value) -> str:
    """A date as people in Jakarta write it: ``dd/mm/yyyy`` (empty for none).

    >>> date_text("2026-12-02"), date_text(dt.date(2024, 3, 5)), date_text(None)
    ('02/12/2026', '05/03/2024', '')
    """
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    iso = str(value)[:10]
    try:
        return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def datetime_text(value) -> str:
    """A moment (ISO text or datetime; UTC when it names no zone) in Jakarta time: ``dd/mm/yyyy HH:MM WIB``.

    >>> datetime_text("2026-12-01T19:37:10+00:00"), datetime_text("2026-12-01 19:37:10")
    ('02/12/2026 02:37 WIB', '02/12/2026 02:37 WIB')
    """
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if ts is pd.NaT:
        return ""
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return ts.tz_convert(WIB).strftime("%d/%m/%Y %H:%M") + " WIB"


def site_points(sites: gpd.GeoDataFrame) -> np.ndarray:
    """One point per site: the site's point, or a point inside its polygon."""
    if not len(sites):
        return np.array([], dtype=object)
    return shapely.point_on_surface(sites.geometry.to_numpy())


def site_markers(sites: gpd.GeoDataFrame, lang: str, completeness: pd.Series | None = None,
                 site_table: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """The frame :func:`geo_p4gn.render.maps.site_layer` draws: label, popup sections, completeness, point.

    ``completeness`` (indexed by site id, 0..1) colours the markers; ``site_table`` (a coverage table at
    the site level) adds the popup's numbers.
    """
    rows = site_table.set_index("code") if site_table is not None and len(site_table) else None
    labels, sections, comp = [], [], []
    for s in sites.itertuples(index=False):
        approx = f" ({t('approximate', lang)})" if bool(s.approximate) else ""
        labels.append(f"{s.name}{approx}")
        r = [[t("popup_kelurahan", lang), area_name(s.kelurahan_code)],
             [t("col_ikrn", lang), ikrn_label(s.ikrn, lang)]]
        if rows is not None and s.id in rows.index:
            c = rows.loc[s.id]
            r += [[t("popup_interventions", lang), str(int(c["interventions"]))],
                  [t("popup_types", lang), f"{int(c['types_done'])}/{int(c['types_total'])}"],
                  [t("popup_actors", lang), f"{int(c['actors_done'])}/{int(c['actors_total'])}"],
                  [t("popup_last", lang), date_text(c["last_date"]) or t("none", lang)]]
        sections.append([{"t": str(s.name), "r": r}])
        value = completeness.get(s.id, np.nan) if completeness is not None else np.nan
        comp.append(float(value) if value is not None and not pd.isna(value) else np.nan)
    return gpd.GeoDataFrame({"id": sites["id"].to_numpy(), "name": sites["name"].astype(str).to_numpy(),
                             "label": labels, "sections": sections,
                             "completeness": comp}, geometry=site_points(sites), crs=sites.crs)


def site_at(click: dict | None, sites: gpd.GeoDataFrame, tolerance: float = 2e-5) -> str | None:
    """The id of the site whose marker is at the clicked position (markers report their own position)."""
    if not click or not len(sites):
        return None
    pts = site_points(sites)
    d = shapely.distance(pts, shapely.Point(float(click["lng"]), float(click["lat"])))
    i = int(np.argmin(d))
    return str(sites["id"].iloc[i]) if d[i] <= tolerance else None
