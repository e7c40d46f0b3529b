"""Cached access to the core: reference data, the store, and frames derived from the store.

Caching rules (see issue 7: no cross-user leaks):

- Reference data that is the same for everyone (boundaries, taxonomy, the open store) is a
  ``st.cache_resource``.
- Everything read from the store is keyed on ``store.data_version()`` (it changes on every write), the
  store URL, and :func:`geo_p4gn.services.cache_scope` of the user (the role, plus the name for field
  teams, who see only their own records). Nothing is cached per user otherwise, and nothing lives in
  module-level variables.
- The visible records frame can hold a million rows; copying it out of ``st.cache_data`` (a pickle round
  trip) would cost seconds on every rerun, so it is a ``st.cache_resource`` that callers treat as
  read-only (the coverage functions never change their inputs). It keeps two entries at most, so the app
  holds at most two versions of the records (the one being served and the one just read after a write);
  the store itself refreshes its frame from the records changed since its last read (``Store.list``), so
  a write costs a small read, not a full one. Frames derived from it (coverage tables, matrices,
  timelines: a few hundred rows) are ``st.cache_data``.
- Data is read through :mod:`geo_p4gn.services`, so the core checks the permission on every read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from geo_p4gn import coverage, services
from geo_p4gn.boundaries import load_boundaries
from geo_p4gn.filters import Filters
from geo_p4gn.store import open_store
from geo_p4gn.taxonomy import load_taxonomy, taxonomy_path


# -- reference data and the store ---------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def boundaries():
    return load_boundaries()


def taxonomy():
    """The taxonomy file as it is now. Read again when the file changes, so an administrator's change made
    in another app process or with ``geo-p4gn taxonomy`` reaches every page without a restart."""
    path = taxonomy_path()
    try:
        st_ = path.stat()
        stamp = (st_.st_ino, st_.st_mtime_ns, st_.st_size)  # a rewrite is a new file (os.replace): new inode
    except OSError:
        stamp = None  # load_taxonomy says what is wrong
    return _taxonomy(str(path), stamp)


@st.cache_resource(show_spinner=False, max_entries=4)
def _taxonomy(path: str, stamp: tuple | None):
    return load_taxonomy(path)


taxonomy.clear = _taxonomy.clear


def store(url: str):
    """The store at ``url``, opened once per process (connections are per thread inside), checking records
    against the taxonomy as it is now."""
    s = _store(url)
    tax = taxonomy()
    if s.taxonomy is not tax:
        s.taxonomy = tax
    return s


@st.cache_resource(show_spinner=False)
def _store(url: str):
    return open_store(url, boundaries=boundaries(), taxonomy=taxonomy())


@st.cache_resource(show_spinner=False)
def kelurahan_names() -> dict[str, str]:
    b = boundaries()
    out = {}
    for level in ("kota", "kecamatan", "kelurahan"):
        layer = b.layer(level)
        out.update(zip(layer["code"], layer["name"]))
    return out


@st.cache_resource(show_spinner=False)
def area_options() -> dict[str, list[tuple[str, str, str]]]:
    """For the area filters: per level, (code, name, parent code) sorted by name."""
    kel = boundaries().kelurahan
    out = {
        "kota": sorted({(r.kota_code, r.kota_name, "") for r in kel.itertuples()}, key=lambda x: x[1]),
        "kecamatan": sorted({(r.kecamatan_code, r.kecamatan_name, r.kota_code) for r in kel.itertuples()},
                            key=lambda x: x[1]),
        "kelurahan": sorted(((r.code, r.name, r.kecamatan_code) for r in kel.itertuples()), key=lambda x: x[1]),
    }
    return out


@st.cache_resource(show_spinner=False)
def representative_points(level: str) -> gpd.GeoSeries:
    """A point inside each area of ``level`` (index: the area code), for area markers."""
    layer = boundaries().layer(level)
    return gpd.GeoSeries(shapely.point_on_surface(layer.geometry.to_numpy()), index=layer["code"].to_numpy(),
                         crs=layer.crs)


# -- the store, per version and scope ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class View:
    """What a cached read depends on: the store, its version, and who is looking."""

    url: str
    version: str
    scope: tuple[str, str]


def view(url: str, user) -> View:
    return View(url, store(url).data_version(), services.cache_scope(user))


@st.cache_resource(show_spinner=False, max_entries=2)
def _records(v: View, _user) -> gpd.GeoDataFrame:
    return services.list_interventions(store(v.url), _user)


def records(v: View, user) -> gpd.GeoDataFrame:
    """Every record the user may see (read-only: shared by the sessions of the same scope)."""
    return _records(v, user)


@st.cache_resource(show_spinner=False, max_entries=2)
def _coverage_records(v: View, _user) -> gpd.GeoDataFrame:
    return services.without_duplicates(store(v.url), records(v, _user))


def coverage_records(v: View, user) -> gpd.GeoDataFrame:
    """The records every coverage figure counts: :func:`records` without the confirmed duplicates (the same
    frame when there are none; read-only, shared like :func:`records`)."""
    return _coverage_records(v, user)


@st.cache_data(show_spinner=False, max_entries=32)
def sites(v: View, _user) -> gpd.GeoDataFrame:
    return services.list_sites(store(v.url), _user)


@st.cache_data(show_spinner=False, max_entries=32)
def window_sites(v: View, _user, filters: Filters) -> gpd.GeoDataFrame:
    """The sites as a coverage window sees them: the IKRN grades of the window's year when imported
    (:func:`geo_p4gn.services.window_sites`), else the sites' own categories."""
    return services.window_sites(store(v.url), _user, filters)


@st.cache_data(show_spinner=False, max_entries=32)
def organisations(v: View, _user) -> list[str]:
    """Organisation names already used in the records the user sees (for suggestions), most used first."""
    recs = records(v, _user)
    if not len(recs):
        return []
    counts = recs["organisation"].dropna().astype(str).value_counts()
    return counts.index.tolist()[:500]


def own_recent(v: View, user, days: int) -> pd.DataFrame:
    """The user's own records made in the last ``days`` days, newest first, with lon/lat.

    Keyed on the user's name too: two people of the same role share everything but this.
    """
    return _own_recent(v, user.name, user, days)


@st.cache_data(show_spinner=False, max_entries=32)
def _own_recent(v: View, name: str, _user, days: int) -> pd.DataFrame:
    recs = records(v, _user)
    if not len(recs):
        return pd.DataFrame(columns=["id", "date", "type_key", "actor_key", "organisation", "site_id",
                                     "kelurahan_code", "participants", "notes", "created_at", "version",
                                     "lon", "lat"])
    mine = recs[recs["created_by"] == name]
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    mine = mine[mine["created_at"].astype(str) >= since[:len("YYYY-MM-DD")]]
    mine = mine.sort_values("created_at", ascending=False)
    reps = shapely.point_on_surface(mine.geometry.to_numpy()) if len(mine) else np.array([])
    out = pd.DataFrame(mine.drop(columns="geometry"))
    out["lon"] = shapely.get_x(reps) if len(mine) else []
    out["lat"] = shapely.get_y(reps) if len(mine) else []
    return out.reset_index(drop=True)


# -- coverage ---------------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=64)
def coverage_tables(v: View, _user, filters: Filters, levels: tuple[str, ...], as_of: dt.date
                    ) -> dict[str, pd.DataFrame]:
    return coverage.coverage_tables(coverage_records(v, _user), window_sites(v, _user, filters), boundaries().kelurahan, taxonomy(),
                                    filters, levels=levels, as_of=as_of)


@st.cache_data(show_spinner=False, max_entries=64)
def gaps(v: View, _user, filters: Filters, as_of: dt.date) -> pd.DataFrame:
    tables = coverage_tables(v, _user, filters, ("site", "kelurahan"), as_of)
    return coverage.rank_gaps(tables, taxonomy())


@st.cache_data(show_spinner=False, max_entries=64)
def matrix(v: View, _user, filters: Filters, site: str | None, area: str | None) -> pd.DataFrame:
    return coverage.type_actor_matrix(coverage_records(v, _user), taxonomy(), filters, site=site, area=area,
                                      sites=window_sites(v, _user, filters))


@st.cache_data(show_spinner=False, max_entries=64)
def timeline(v: View, _user, filters: Filters, by: str) -> pd.DataFrame:
    return coverage.timeline(coverage_records(v, _user), taxonomy(), filters, by=by,
                             sites=window_sites(v, _user, filters))


@st.cache_data(show_spinner=False, max_entries=64)
def filtered_count(v: View, _user, filters: Filters) -> int:
    recs = coverage_records(v, _user)
    if not len(recs):
        return 0
    return int(filters.record_mask(recs, window_sites(v, _user, filters) if filters.ikrn else None).sum())


@st.cache_data(show_spinner=False, max_entries=16)
def compare(v: View, _user, filters: Filters, a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date],
            level: str) -> pd.DataFrame:
    """Period ``a`` against period ``b`` at ``level`` (:func:`geo_p4gn.compare.compare_periods`), every filter
    but the window applied to both, over the same records as every other coverage figure."""
    from geo_p4gn import compare as _compare

    f = dataclasses.replace(filters, date_from=None, date_to=None)
    return _compare.compare_periods(coverage_records(v, _user), sites(v, _user), boundaries().kelurahan, taxonomy(),
                                    a, b, f, level=level)
