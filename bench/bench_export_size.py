"""Size of the shareable HTML map for 1k, 10k and 1M records, against a plain folium export of the same map.

Usage: ``python bench/bench_export_size.py [--sizes 1000 10000 1000000] [--sites 6 400]``
(``GEO_P4GN_BOUNDARY_MIRROR`` as for the tests). For each number of records and of sites it prints the size
of :func:`geo_p4gn.render.html.render_export` (internal and ``--public``) and of the same map built the
plain folium way in the same run, from the same coverage tables: ``folium.GeoJson`` of the kelurahan with
their coverage columns, a ``GeoJsonTooltip``, ``CircleMarker`` + ``Popup`` per site and per type and
kelurahan, a branca colour scale and a ``LayerControl``, saved with ``Map.save``. That file is small
because Leaflet, jQuery, Bootstrap, Font Awesome and d3 stay on their CDNs: it is blank offline. The same
plain map put through :func:`geo_p4gn.render.assets.offline_html` (assets inlined, Bootstrap and Font Awesome left
out) is the fair comparison for "opens offline".

The budget is 2 MB with the 267 kelurahan, the sites and 10k records; the size must not grow with the
records (they are aggregated). Exits 1 when an export is over the budget; timings are printed, never asserted.
The records come from ``bench_coverage.synthetic`` (the columns of ``Store.list()``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import branca.colormap
import folium
import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_coverage import synthetic

from geo_p4gn import coverage
from geo_p4gn.boundaries import load_boundaries
from geo_p4gn.filters import Filters
from geo_p4gn.render import assets, maps
from geo_p4gn.render.html import render_export
from geo_p4gn.taxonomy import load_taxonomy

BUDGET = 2_000_000
WINDOW = Filters(date_from=dt.date(2023, 1, 1), date_to=dt.date(2023, 12, 31))
AS_OF = dt.date(2024, 6, 30)


def with_places(sites, boundaries, seed: int = 3) -> gpd.GeoDataFrame:
    """The synthetic sites, each placed near its kelurahan's representative point."""
    rng = np.random.default_rng(seed)
    rep = boundaries.kelurahan.set_index("code").geometry.map(shapely.point_on_surface)
    pts = rep.reindex(sites["kelurahan_code"]).to_numpy()
    jitter = rng.uniform(-0.002, 0.002, (len(sites), 2))
    geoms = shapely.points(shapely.get_coordinates(pts) + jitter)
    return gpd.GeoDataFrame(sites.drop(columns="geometry"), geometry=geoms, crs="EPSG:4326")


def plain_folium(records, sites, boundaries, taxonomy) -> folium.Map:
    """The same map, built the way folium's documentation shows (what this project avoids)."""
    tables = coverage.coverage_tables(records, sites, boundaries.kelurahan, taxonomy, WINDOW,
                                      levels=("site", "kelurahan"), as_of=AS_OF)
    kel = boundaries.kelurahan.merge(tables["kelurahan"].drop(columns=["name", "kelurahan_code", "kecamatan_code",
                                                                       "kota_code"]), on="code")
    kel["last_date"] = kel["last_date"].astype(str)
    kel["days_since_last"] = kel["days_since_last"].astype("float64")
    kel["participants"] = kel["participants"].astype("float64")
    m = folium.Map(location=[-6.2, 106.83], zoom_start=11, tiles=None, max_zoom=19)
    scale = branca.colormap.LinearColormap(["#ffffcc", "#253494"], vmin=0,
                                           vmax=float(max(kel["interventions"].max(), 1)),
                                           caption="Jumlah intervensi")
    folium.GeoJson(
        kel, name="Kelurahan",
        style_function=lambda f: {"fillColor": scale(f["properties"]["interventions"]), "color": "#666",
                                  "weight": 0.6, "fillOpacity": 0.75},
        tooltip=folium.GeoJsonTooltip(fields=["name", "interventions", "types_done", "actors_done"]),
    ).add_to(m)
    for name, layer, weight in (("Kecamatan", boundaries.kecamatan, 1.2), ("Kota", boundaries.kota, 2.4)):
        folium.GeoJson(layer, name=name, style_function=lambda f, w=weight: {"color": "#333", "weight": w,
                                                                              "fill": False}).add_to(m)
    group = folium.FeatureGroup(name="Situs").add_to(m)
    site_table = tables["site"].set_index("code")
    for site in sites.itertuples():
        row = site_table.loc[site.id]
        popup = (f"<b>{site.name}</b><br>Jenis {row.types_done}/{row.types_total}<br>"
                 f"Aktor {row.actors_done}/{row.actors_total}<br>Intervensi {row.interventions}")
        folium.CircleMarker([site.geometry.y, site.geometry.x], radius=7, fill=True,
                            fill_color=maps.completeness_color(row.types_done / max(row.types_total, 1)),
                            popup=folium.Popup(popup), tooltip=site.name).add_to(group)
    rep = boundaries.kelurahan.set_index("code").geometry.map(shapely.point_on_surface)
    for key in taxonomy.type_keys:
        t = coverage.coverage_table(records, sites, boundaries.kelurahan, taxonomy, "kelurahan",
                                    Filters(date_from=WINDOW.date_from, date_to=WINDOW.date_to, types=(key,)),
                                    as_of=AS_OF)
        fg = folium.FeatureGroup(name=taxonomy.label("types", key), show=False).add_to(m)
        for r in t[t["interventions"] > 0].itertuples():
            p = rep[r.code]
            folium.CircleMarker([p.y, p.x], radius=min(4 + 2.5 * np.sqrt(r.interventions), 16),
                                tooltip=f"{r.name}: {r.interventions}").add_to(fg)
    scale.add_to(m)
    folium.LayerControl().add_to(m)
    return m


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 1_000_000])
    parser.add_argument("--sites", type=int, nargs="+", default=[6, 400])
    args = parser.parse_args(argv)
    boundaries, taxonomy = load_boundaries(), load_taxonomy()
    codes = boundaries.kelurahan["code"].to_numpy()
    over = False
    print(f"{'records':>9} {'sites':>5} | {'ours':>9} {'public':>9} {'s':>5} | {'folium CDN':>10} {'ext':>3} "
          f"{'inlined':>9} | {'ours/inlined':>12}")
    for n_sites in args.sites:
        for n in args.sizes:
            records, sites = synthetic(n, n_sites, codes, taxonomy)
            sites = with_places(sites, boundaries)
            t0 = time.perf_counter()
            ours = render_export(records, sites, boundaries=boundaries, taxonomy=taxonomy, filters=WINDOW,
                                 as_of=AS_OF)
            took = time.perf_counter() - t0
            public = render_export(records, sites, boundaries=boundaries, taxonomy=taxonomy, filters=WINDOW,
                                   as_of=AS_OF, public=True)
            m = plain_folium(records, sites, boundaries, taxonomy)
            cdn = m.get_root().render()
            external = len(set(assets.external_loads(cdn)))
            inlined = assets.offline_html(m)
            sizes = [len(s.encode("utf-8")) for s in (ours, public, cdn, inlined)]
            over |= max(sizes[:2]) > BUDGET
            print(f"{n:>9,} {n_sites:>5} | {sizes[0] / 1e6:>7.2f}MB {sizes[1] / 1e6:>7.2f}MB {took:>5.1f} | "
                  f"{sizes[2] / 1e6:>8.2f}MB {external:>3} {sizes[3] / 1e6:>7.2f}MB | {sizes[0] / sizes[3]:>12.2f}")
    print(f"budget {BUDGET / 1e6:.1f} MB: {'EXCEEDED' if over else 'met'} (ours = internal export, s = seconds to "
          "build it; ext = files the plain page loads from CDNs, blank offline)")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
