"""The embedded default store: one GeoPackage file.

Why plain ``sqlite3`` and not geopandas/pyogrio for writes: appending to a GeoPackage from several
processes with GDAL loses rows from reads and raises "database is locked", and appends match columns by
position (measured, see the project's stack facts). Here every write is one ``BEGIN IMMEDIATE``
transaction on a WAL-mode connection with a busy timeout, so concurrent writers queue instead of failing
and a killed process leaves either its whole transaction or nothing.

The file stays an ordinary GeoPackage: ``interventions`` and ``sites`` are feature layers (geometry in
the GeoPackage binary format, SRID 4326, an R-tree spatial index kept by the standard triggers) that
QGIS, ``ogrinfo`` and ``geopandas.read_file`` open; ``audit`` and ``p4gn_meta`` are attribute tables.
The R-tree triggers call ``ST_IsEmpty``/``ST_MinX``... which GDAL provides; this module registers the
same functions on its own connections.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import struct
import threading
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import P4gnError
from ._logic import SqlStoreLogic

SCHEMA_VERSION = 1
#: Batches at least this large take the bulk insert path.
_BULK_ROWS = 1000
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
# DKI Jakarta with a margin, for the layer extent recorded in gpkg_contents.
_EXTENT = (106.35, -6.45, 107.0, -5.15)

_RECORD_COLUMNS = (
    ("id", "TEXT NOT NULL UNIQUE CHECK (length(id) = 36)"),
    ("date", "DATE NOT NULL"),
    ("end_date", "DATE"),
    ("type_key", "TEXT NOT NULL"),
    ("actor_key", "TEXT NOT NULL"),
    ("organisation", "TEXT NOT NULL"),
    ("site_id", "TEXT"),
    ("kelurahan_code", "TEXT NOT NULL"),
    ("participants", "INTEGER CHECK (participants IS NULL OR participants >= 0)"),
    ("notes", "TEXT"),
    ("created_by", "TEXT NOT NULL"),
    ("created_at", "DATETIME NOT NULL"),
    ("updated_by", "TEXT NOT NULL"),
    ("updated_at", "DATETIME NOT NULL"),
    ("deleted", "BOOLEAN NOT NULL DEFAULT 0"),
    ("version", "INTEGER NOT NULL"),
    ("content_hash", "TEXT NOT NULL"),
    ("created_hash", "TEXT NOT NULL"),
)
_SITE_COLUMNS = (
    ("id", "TEXT NOT NULL UNIQUE"),
    ("name", "TEXT NOT NULL"),
    ("aliases", "TEXT"),
    ("kelurahan_code", "TEXT NOT NULL"),
    ("approximate", "BOOLEAN NOT NULL"),
    ("ikrn", "TEXT"),
    ("sources", "TEXT"),
    ("created_by", "TEXT NOT NULL"),
    ("created_at", "DATETIME NOT NULL"),
    ("updated_by", "TEXT NOT NULL"),
    ("updated_at", "DATETIME NOT NULL"),
    ("version", "INTEGER NOT NULL"),
)


# -- GeoPackage geometry binary ------------------------------------------------------------------
def encode(geoms) -> list[bytes]:
    """GeoPackage binary blobs (header with SRID 4326 and an xy envelope, then little-endian WKB)."""
    geoms = np.asarray(geoms, dtype=object)
    wkbs = shapely.to_wkb(geoms, byte_order=1, flavor="iso")
    bounds = shapely.bounds(geoms)
    head = b"GP\x00\x03"  # version 0; flags: little endian, envelope [minx, maxx, miny, maxy]
    return [
        head + struct.pack("<i4d", 4326, b[0], b[2], b[1], b[3]) + w
        for w, b in zip(wkbs, bounds, strict=True)
    ]


def _wkb_part(blob: bytes) -> bytes:
    flags = blob[3]
    return blob[8 + _ENVELOPE_BYTES[(flags >> 1) & 7]:]


def decode(blobs: Sequence[bytes | None]) -> np.ndarray:
    return shapely.from_wkb([None if b is None else _wkb_part(b) for b in blobs])


def _envelope(blob: bytes) -> tuple[float, float, float, float]:
    flags = blob[3]
    if (flags >> 1) & 7:
        fmt = "<4d" if flags & 1 else ">4d"
        return struct.unpack(fmt, blob[8:40])  # minx, maxx, miny, maxy
    minx, miny, maxx, maxy = shapely.from_wkb(_wkb_part(blob)).bounds
    return minx, maxx, miny, maxy


def _register_functions(conn: sqlite3.Connection) -> None:
    """The GDAL SQL functions the standard R-tree triggers call."""
    conn.create_function("ST_IsEmpty", 1, lambda b: None if b is None else int(bool(b[3] & 0x10)),
                         deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, lambda b, i=i: None if b is None else _envelope(b)[i], deterministic=True)


# -- schema --------------------------------------------------------------------------------------
def _feature_table_sql(table: str, columns) -> list[str]:
    cols = ", ".join(f'"{n}" {t}' for n, t in columns)
    rt = f"rtree_{table}_geom"
    minmax = 'ST_MinX(NEW."geom"), ST_MaxX(NEW."geom"), ST_MinY(NEW."geom"), ST_MaxY(NEW."geom")'
    return [
        f'CREATE TABLE "{table}" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "geom" GEOMETRY NOT NULL, {cols})',
        (f"INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id) "
        f"VALUES ('{table}', 'features', '{table}', {_EXTENT[0]}, {_EXTENT[1]}, {_EXTENT[2]}, {_EXTENT[3]}, 4326)"),
        f"INSERT INTO gpkg_geometry_columns VALUES ('{table}', 'geom', 'GEOMETRY', 4326, 0, 0)",
        f"INSERT INTO gpkg_ogr_contents VALUES ('{table}', 0)",
        f'CREATE VIRTUAL TABLE "{rt}" USING rtree(id, minx, maxx, miny, maxy)',
        (f"INSERT INTO gpkg_extensions VALUES ('{table}', 'geom', 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')"),
        (f'CREATE TRIGGER "{rt}_insert" AFTER INSERT ON "{table}" WHEN (NEW."geom" NOT NULL AND NOT '
        f'ST_IsEmpty(NEW."geom")) BEGIN INSERT OR REPLACE INTO "{rt}" VALUES (NEW."fid", {minmax}); END'),
        (f'CREATE TRIGGER "{rt}_update" AFTER UPDATE OF "geom" ON "{table}" WHEN OLD."fid" = NEW."fid" AND '
        f'(NEW."geom" NOT NULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN INSERT OR REPLACE INTO "{rt}" '
        f'VALUES (NEW."fid", {minmax}); END'),
        (f'CREATE TRIGGER "{rt}_delete" AFTER DELETE ON "{table}" WHEN OLD."geom" NOT NULL BEGIN '
        f'DELETE FROM "{rt}" WHERE id = OLD."fid"; END'),
        (f'CREATE TRIGGER "trigger_insert_feature_count_{table}" AFTER INSERT ON "{table}" BEGIN UPDATE '
        f"gpkg_ogr_contents SET feature_count = feature_count + 1 WHERE lower(table_name) = lower('{table}'); END"),
        (f'CREATE TRIGGER "trigger_delete_feature_count_{table}" AFTER DELETE ON "{table}" BEGIN UPDATE '
        f"gpkg_ogr_contents SET feature_count = feature_count - 1 WHERE lower(table_name) = lower('{table}'); END"),
    ]


_SCHEMA = [
    # present when GDAL wrote a spatial layer; p4gn_meta is not one, so create them as the spec defines
    ("CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, "
    "definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"),
    "CREATE TABLE IF NOT EXISTS gpkg_ogr_contents (table_name TEXT NOT NULL PRIMARY KEY, feature_count INTEGER DEFAULT NULL)",
    *_feature_table_sql("interventions", _RECORD_COLUMNS),
    "CREATE INDEX interventions_date ON interventions (date)",
    "CREATE INDEX interventions_kelurahan ON interventions (kelurahan_code)",
    "CREATE INDEX interventions_site ON interventions (site_id)",
    *_feature_table_sql("sites", _SITE_COLUMNS),
    ('CREATE TABLE "audit" ("seq" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "entity" TEXT NOT NULL, '
    '"entity_id" TEXT NOT NULL, "action" TEXT NOT NULL, "who" TEXT NOT NULL, "at" DATETIME NOT NULL, '
    '"before" TEXT, "after" TEXT)'),
    "CREATE INDEX audit_entity ON audit (entity, entity_id)",
    # append-only: the audit log cannot be edited or emptied through SQL
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('audit', 'attributes', 'audit')",
    "INSERT INTO p4gn_meta (key, value) VALUES ('revision', '0')",
    f"INSERT INTO p4gn_meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}')",
]


def _create(path: Path) -> None:
    """Create a new store file atomically: built under a temporary name, then linked into place."""
    import pyogrio

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.new.gpkg")
    if tmp.exists():
        tmp.unlink()
    try:
        # GDAL writes the GeoPackage core tables (spatial_ref_sys with EPSG:4326, contents, extensions ...)
        meta = pd.DataFrame({"key": pd.Series([], dtype=object), "value": pd.Series([], dtype=object)})
        pyogrio.write_dataframe(meta, tmp, layer="p4gn_meta", driver="GPKG")
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            _register_functions(conn)
            conn.execute("BEGIN")
            for stmt in _SCHEMA:
                conn.execute(stmt)
            conn.execute("COMMIT")
        finally:
            conn.close()
        try:
            os.link(tmp, path)  # fails if another process created the store first: keep theirs
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


class GeoPackageStore(SqlStoreLogic):
    """Interventions and sites in one GeoPackage file (created on first use)."""

    _PH = "?"
    _AUDIT_SELECT = "seq, entity, entity_id, action, who, at, before, after"

    def __init__(self, path: str | os.PathLike, *, boundaries=None, taxonomy=None, create: bool = True) -> None:
        super().__init__(boundaries=boundaries, taxonomy=taxonomy)
        self.path = Path(path)
        self.url = str(self.path)
        if not self.path.exists():
            if not create:
                msg = f"no store at {self.path}"
                raise P4gnError(msg)
            _create(self.path)
        self._local = threading.local()
        self._check_schema()

    # -- connections -----------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=120, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA busy_timeout = 120000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: batch imports touch many index pages
            _register_functions(conn)
            self._local.conn = conn
        return conn

    def _check_schema(self) -> None:
        try:
            row = self._conn().execute("SELECT value FROM p4gn_meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            msg = f"{self.path} is not a geo_p4gn GeoPackage store ({exc})"
            raise P4gnError(msg) from exc
        if row is None or int(row[0]) != SCHEMA_VERSION:
            msg = f"{self.path}: store schema {row and row[0]} is not the supported {SCHEMA_VERSION}"
            raise P4gnError(msg)

    @contextlib.contextmanager
    def _write(self):
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")  # take the write lock up front: read-then-write is safe
        try:
            yield conn.cursor()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self):
        conn = self._conn()
        conn.execute("BEGIN")  # one consistent snapshot for the whole read
        try:
            yield conn.cursor()
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- primitives ----------------------------------------------------------------------------
    _REC_COLS = tuple(c for c, _ in _RECORD_COLUMNS)
    _SITE_COLS = tuple(c for c, _ in _SITE_COLUMNS)

    def _fetch(self, cur, table: str, cols, where: str, params) -> tuple[list[tuple], np.ndarray]:
        """Rows (without the geometry) and their geometries, in insertion order."""
        cur.execute(f'SELECT geom, {", ".join(cols)} FROM "{table}" {where} ORDER BY fid', params)
        raw = cur.fetchall()
        return [r[1:] for r in raw], decode([r[0] for r in raw])

    def _rows(self, cur, table: str, cols, where: str, params) -> list[dict]:
        values, geoms = self._fetch(cur, table, cols, where, params)
        return [dict(zip(cols, v, strict=True), geometry=g) for v, g in zip(values, geoms, strict=True)]

    def _select_records_raw(self, cur, ids, include_deleted):
        clauses, params = [], []
        if ids is not None:
            clauses.append(f"id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        if not include_deleted:
            clauses.append("deleted = 0")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        values, geoms = self._fetch(cur, "interventions", self._REC_COLS, where, params)
        return self._REC_COLS, values, geoms

    def _record_params(self, rows: list[dict]) -> list[tuple]:
        blobs = encode([r["geometry"] for r in rows])
        out = []
        for r, blob in zip(rows, blobs, strict=True):
            vals = [r[c] for c in self._REC_COLS]
            for i in (1, 2):  # date, end_date as ISO text
                vals[i] = vals[i].isoformat() if vals[i] is not None and not isinstance(vals[i], str) else vals[i]
            vals[14] = int(bool(vals[14]))
            out.append((blob, *vals))
        return out

    def _insert_records(self, cur, rows):
        cols = ", ".join(f'"{c}"' for c in self._REC_COLS)
        marks = ", ".join("?" * (len(self._REC_COLS) + 1))
        sql = f"INSERT INTO interventions (geom, {cols}) VALUES ({marks})"
        if len(rows) < _BULK_ROWS:
            cur.executemany(sql, self._record_params(rows))
            return
        # Bulk path: the per-row R-tree and feature-count triggers cost about 5x the insert itself
        # (measured: 100k rows, 10.8 s with them, 2.0 s + 2.1 s for the index without). Inside this one
        # transaction, drop the two insert triggers, insert, fill the index from envelopes computed in
        # one vectorised call, add to the count and put the triggers back: all of it commits or none.
        triggers = cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
            ("rtree_interventions_geom_insert", "trigger_insert_feature_count_interventions"),
        ).fetchall()
        for name, _ in triggers:
            cur.execute(f'DROP TRIGGER "{name}"')
        last = cur.execute("SELECT coalesce(max(fid), 0) FROM interventions").fetchone()[0]
        cur.executemany(sql, self._record_params(rows))
        fids = [r[0] for r in cur.execute("SELECT fid FROM interventions WHERE fid > ? ORDER BY fid", (last,))]
        if len(fids) != len(rows):
            msg = f"bulk insert: expected {len(rows)} new rows, found {len(fids)}"
            raise P4gnError(msg)
        geoms = gpd.GeoSeries(np.array([r["geometry"] for r in rows], dtype=object), crs=settings.crs)
        b = geoms.bounds.to_numpy()
        # inserting in Hilbert order builds the R-tree about twice as fast as x-then-y order (100k points:
        # 2.0 s against 4.1 s, measured by the import bench)
        order = np.argsort(geoms.hilbert_distance(total_bounds=_EXTENT).to_numpy(), kind="stable")
        cur.executemany("INSERT INTO rtree_interventions_geom VALUES (?, ?, ?, ?, ?)",
                        [(fids[i], b[i, 0], b[i, 2], b[i, 1], b[i, 3]) for i in order])
        cur.execute("UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? WHERE table_name = ?",
                    (len(rows), "interventions"))
        for _, ddl in triggers:
            cur.execute(ddl)

    def _update_record(self, cur, row):
        params = self._record_params([row])[0]
        sets = ", ".join(f'"{c}" = ?' for c in self._REC_COLS[1:])
        cur.execute(f"UPDATE interventions SET geom = ?, {sets} WHERE id = ?", (params[0], *params[2:], params[1]))

    def _select_sites(self, cur, ids):
        where, params = "", []
        if ids is not None:
            where, params = f"WHERE id IN ({','.join('?' * len(ids))})", list(ids)
        rows = self._rows(cur, "sites", self._SITE_COLS, where, params)
        for r in rows:
            r["aliases"] = json.loads(r["aliases"] or "[]")
            r["sources"] = json.loads(r["sources"] or "[]")
            r["approximate"] = bool(r["approximate"])
        return rows

    def _site_params(self, row: dict) -> tuple:
        vals = [row[c] for c in self._SITE_COLS]
        vals[2] = json.dumps(row["aliases"], ensure_ascii=False)
        vals[4] = int(bool(vals[4]))
        vals[6] = json.dumps(row["sources"], ensure_ascii=False)
        return (encode([row["geometry"]])[0], *vals)

    def _insert_site(self, cur, row):
        cols = ", ".join(f'"{c}"' for c in self._SITE_COLS)
        cur.execute(f"INSERT INTO sites (geom, {cols}) VALUES ({', '.join('?' * (len(self._SITE_COLS) + 1))})",
                    self._site_params(row))

    def _update_site(self, cur, row):
        p = self._site_params(row)
        sets = ", ".join(f'"{c}" = ?' for c in self._SITE_COLS[1:])
        cur.execute(f"UPDATE sites SET geom = ?, {sets} WHERE id = ?", (p[0], *p[2:], p[1]))

    def _insert_audit(self, cur, entries):
        cur.executemany("INSERT INTO audit (entity, entity_id, action, who, at, before, after) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", entries)

    def _bump_revision(self, cur):
        cur.execute("UPDATE p4gn_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")

    # -- housekeeping ----------------------------------------------------------------------------
    def data_version(self) -> str:
        """Changes whenever stored data changes (a cache key for the app)."""
        row = self._conn().execute("SELECT value FROM p4gn_meta WHERE key = 'revision'").fetchone()
        return f"gpkg:{self.path}:{row[0]}"

    def check_integrity(self) -> list[str]:
        """SQLite's integrity check plus the GeoPackage bookkeeping; an empty list means sound."""
        conn = self._conn()
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        for table in ("interventions", "sites"):
            n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            fc = conn.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", (table,)).fetchone()[0]
            rt = conn.execute(f'SELECT count(*) FROM "rtree_{table}_geom"').fetchone()[0]
            if not n == fc == rt:
                problems.append(f"{table}: {n} rows, feature_count {fc}, {rt} spatial index entries")
        return problems

    def backup(self, out: str) -> None:
        """A consistent copy while others write (SQLite's online backup API), as one self-contained file."""
        out = Path(out)
        tmp = out.with_name(f".{out.name}.partial")
        tmp.unlink(missing_ok=True)
        dst = sqlite3.connect(tmp)
        try:
            self._conn().backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
        os.replace(tmp, out)
