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

Faults (a full disk, a read-only file or mount, a damaged file) surface as
:class:`~geo_p4gn._errors.FaultError` naming the file and what to do, never as a raw ``sqlite3`` error:

- a write that fails rolls back whole, so the store stays as it was;
- a store file this process cannot write (read-only file or mount) is opened read-only (``mode=ro``, or
  ``immutable`` when not even the ``-shm`` file can be created): reads work, writes are refused up front;
- the first write of each store object runs ``PRAGMA quick_check`` and refuses a damaged file, so
  records are never added to a store that the next backup could not keep;
- :meth:`GeoPackageStore.backup` checks the copy it made and refuses (keeping an earlier backup at that
  path) when it fails the integrity check.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import FaultError, P4gnError, os_fault
from .._files import replacing
from ..records import geometry_bounds
from ._grades import GRADES_DDL, IkrnGrades
from ._logic import ROW_CHUNK, SqlStoreLogic, iso_days, row_columns
from ._reviews import REVIEWS_DDL, DuplicateReviews

SCHEMA_VERSION = 1
#: From this many stored records on, a full read goes through GDAL's Arrow reader in a child process.
_FAST_READ_ROWS = 50_000
# The child: GDAL reads the visible records as Arrow and streams them to stdout (Arrow IPC). A child
# process because GDAL links its own SQLite: a second SQLite library opening the store file in this
# process breaks SQLite's POSIX locks (closing its descriptor drops this process's locks on the file):
# measured here as "disk I/O error" and "file is not a database" in the app tests.
_ARROW_CHILD = """
import sys, pyogrio, pyarrow as pa
with pyogrio.open_arrow(sys.argv[1], layer="interventions", where="deleted = 0", return_fids=True,
                        datetime_as_string=True, columns=sys.argv[2].split(","), use_pyarrow=True) as (_, reader):
    with pa.ipc.new_stream(pa.output_stream(sys.stdout.buffer), reader.schema) as out:
        for batch in reader:
            out.write_batch(batch)
"""
#: Batches at least this large take the bulk insert path.
_BULK_ROWS = 1000
#: The page cache of a connection, and of a bulk batch that rebuilds the indexes (KiB).
_CACHE_KIB, _BULK_CACHE_KIB = 65536, 16384
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
# DKI Jakarta with a margin, for the layer extent recorded in gpkg_contents.
_EXTENT = (106.35, -6.45, 107.0, -5.15)

_RECORD_COLUMNS = (
    ("id", "TEXT NOT NULL CHECK (length(id) = 36)"),  # unique: the index interventions_id (see _SCHEMA)
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
#: A GeoPackage blob of a 2D point, as :func:`encode` writes it: header, envelope, ISO WKB (61 bytes).
_POINT_BLOB = np.dtype([("magic", "S4"), ("srid", "<i4"), ("minx", "<f8"), ("maxx", "<f8"), ("miny", "<f8"),
                        ("maxy", "<f8"), ("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def encode(geoms) -> list[bytes]:
    """GeoPackage binary blobs (header with SRID 4326 and an xy envelope, then little-endian WKB)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all() and not shapely.is_empty(geoms).any():
        # points (what field teams and imports send): every blob laid out at once by numpy, x and y only,
        # the same bytes as below (measured: 100k points 0.13 s -> 0.03 s)
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        out = np.empty(len(geoms), dtype=_POINT_BLOB)
        out["magic"], out["srid"], out["order"], out["type"] = b"GP\x00\x03", 4326, 1, 1
        out["minx"] = out["maxx"] = out["x"] = x
        out["miny"] = out["maxy"] = out["y"] = y
        raw, size = out.tobytes(), _POINT_BLOB.itemsize
        return [raw[k:k + size] for k in range(0, len(raw), size)]
    geoms = shapely.force_2d(geoms)  # the layer is 2D: a height is never stored
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


# -- R-tree bulk load ------------------------------------------------------------------------------
def _float32_down(v: np.ndarray) -> np.ndarray:
    """Doubles as float32 no larger (SQLite's rtreeValueDown: a box is never made smaller)."""
    f = v.astype(np.float32)
    over = f.astype(np.float64) > v
    f[over] = np.nextafter(f[over], np.float32(-np.inf))
    return f


def _float32_up(v: np.ndarray) -> np.ndarray:
    f = v.astype(np.float32)
    under = f.astype(np.float64) < v
    f[under] = np.nextafter(f[under], np.float32(np.inf))
    return f


def _hilbert(boxes: np.ndarray) -> np.ndarray:
    """geopandas' ``hilbert_distance`` (level 16, over the DKI extent) of boxes (minx, maxx, miny, maxy),
    computed from the boxes' centres without making a point per box (200 000 points are 48 MB)."""
    try:
        from geopandas.tools.hilbert_curve import _continuous_to_discrete_coords, _encode
    except ImportError:  # pragma: no cover - geopandas moved its helpers: the public way
        centres = shapely.points((boxes[:, 0] + boxes[:, 1]) / 2, (boxes[:, 2] + boxes[:, 3]) / 2)
        return gpd.GeoSeries(centres, crs=settings.crs).hilbert_distance(total_bounds=_EXTENT).to_numpy()
    x, y = _continuous_to_discrete_coords(boxes[:, [0, 2, 1, 3]], 16, _EXTENT)
    return _encode(16, x, y)


def _rtree_fill(cur, table: str, ids: np.ndarray, boxes: np.ndarray, order: np.ndarray) -> None:
    """Write the whole R-tree ``rtree_<table>_geom`` of ``ids`` (int64) and ``boxes`` (minx, maxx, miny, maxy;
    doubles) directly into its three shadow tables, packed bottom-up in ``order`` (Hilbert order), as
    GDAL does when it builds a GeoPackage's index after a bulk write.

    SQLite's own format (ext/rtree): every node is a blob of the size the root has (4 + 24 x 51 bytes
    for 2 dimensions on 4 KiB pages), a 2-byte depth (root only) and a 2-byte cell count, then cells of an
    8-byte id and 4 float32, big endian, mins rounded down and maxes up. The tree must be empty or about
    to be replaced: every row of the shadow tables is replaced. ``rtreecheck()`` validates the result
    (the store's integrity check runs it)."""
    rt = f"rtree_{table}_geom"
    row = cur.execute(f'SELECT length(data) FROM "{rt}_node" WHERE nodeno = 1').fetchone()
    node_size = row[0] if row else 4 + 24 * 51
    fanout = (node_size - 4) // 24
    cur.execute(f'DELETE FROM "{rt}_node"')
    cur.execute(f'DELETE FROM "{rt}_rowid"')
    cur.execute(f'DELETE FROM "{rt}_parent"')
    cell = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])
    ids, boxes = ids[order], boxes[order]
    level_ids = ids
    level_box = np.column_stack([_float32_down(boxes[:, 0]), _float32_up(boxes[:, 1]),
                                 _float32_down(boxes[:, 2]), _float32_up(boxes[:, 3])])
    levels = []  # bottom-up: (cells ids, cells boxes) per level
    while True:
        levels.append((level_ids, level_box))
        n_nodes = -(-len(level_ids) // fanout)
        if n_nodes <= 1:
            break
        starts = np.arange(0, len(level_ids), fanout)
        parent_box = np.column_stack([np.minimum.reduceat(level_box[:, 0], starts),
                                      np.maximum.reduceat(level_box[:, 1], starts),
                                      np.minimum.reduceat(level_box[:, 2], starts),
                                      np.maximum.reduceat(level_box[:, 3], starts)])
        level_ids = np.zeros(n_nodes, dtype=np.int64)  # node numbers, given below
        level_box = parent_box
    # node numbers: the root is 1, then each level from the top down
    depth = len(levels) - 1
    counts = [max(1, -(-len(ids_) // fanout)) for ids_, _ in levels]  # nodes holding each level's cells
    first = {}
    nxt = 1
    for lv in range(depth, -1, -1):
        first[lv] = nxt
        nxt += counts[lv]
    node_rows: list[tuple[int, bytes]] = []
    parent_rows: list[list[int]] = []
    rowid_rows: Any = []
    for lv, (cids, cbox) in enumerate(levels):
        if lv > 0:  # this level's cells are the nodes of the level below
            cids = np.arange(first[lv - 1], first[lv - 1] + counts[lv - 1], dtype=np.int64)
        n = len(cids)
        nodes = np.arange(first[lv], first[lv] + counts[lv], dtype=np.int64)
        owner = nodes[np.arange(n) // fanout] if n else nodes[:0]
        if lv == 0:
            rowid_rows = zip(cids.tolist(), owner.tolist(), strict=True)  # no list per row (200k rows: 25 MB)
        else:
            parent_rows.extend(np.column_stack([cids, owner]).tolist())
        cells = np.zeros(n, dtype=cell)
        cells["id"], cells["box"] = cids, cbox
        raw = cells.tobytes()
        del cells
        for k, node in enumerate(nodes.tolist()):
            part = raw[k * fanout * 24:(k + 1) * fanout * 24]
            head = struct.pack(">HH", depth if node == 1 else 0, len(part) // 24)
            node_rows.append((node, (head + part).ljust(node_size, b"\0")))
    cur.executemany(f'INSERT INTO "{rt}_node" VALUES (?, ?)', node_rows)
    cur.executemany(f'INSERT INTO "{rt}_rowid" VALUES (?, ?)', rowid_rows)
    cur.executemany(f'INSERT INTO "{rt}_parent" VALUES (?, ?)', parent_rows)


# -- faults --------------------------------------------------------------------------------------
_RESTORE_HINT = "restore the last good backup with `geo-p4gn restore BACKUP --store {path}`"


def _low_space(path: Path) -> bool:
    """Whether the disk holding ``path`` has (almost) no free space left: SQLite reports a full disk
    while growing its ``-shm`` file as a plain I/O error."""
    folder = path if path.is_dir() else path.parent
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 1 << 20


def is_damaged(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file is damaged (corrupt pages) or not a database at all."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in str(exc)


def sqlite_fault(exc: sqlite3.Error, path: Path, doing: str, *, write: bool = False) -> FaultError:
    """The :class:`FaultError` for an SQLite error on the store file ``path`` while ``doing`` something.

    ``write``: the error ended a write transaction (rolled back: the store is as it was)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = f"{doing}: {exc}"
    unchanged = "nothing was written, the store is as it was; " if write else ""
    if name.startswith("SQLITE_FULL") or "disk is full" in str(exc) or (
            name.startswith("SQLITE_IOERR") and _low_space(path)):
        msg = (f"the disk holding the store file {path} is full ({text}): {unchanged}free space on that disk "
               "and run the command again")
    elif name.startswith("SQLITE_READONLY") or "readonly database" in str(exc):
        msg = (f"the store file {path} is read-only ({text}): {unchanged}make the file and its folder "
               "writable by this user (or remount the disk read-write), or work on a writable copy")
    elif name.startswith("SQLITE_NOTADB"):
        msg = (f"{path} is not a geo_p4gn GeoPackage store: it is not an SQLite file ({text}); check --store or "
               f"GEO_P4GN_STORE, and if it is the store, it is damaged: {_RESTORE_HINT.format(path=path)}")
    elif is_damaged(exc):
        msg = (f"the store file {path} is damaged ({text}): {unchanged}stop writing to it, keep a copy of it "
               f"for inspection and {_RESTORE_HINT.format(path=path)}")
    elif name.startswith("SQLITE_CANTOPEN"):
        msg = (f"the store file {path} cannot be opened ({text}): check that it exists, is readable and that "
               "its folder is writable by this user (SQLite keeps its -wal and -shm files beside it)")
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        msg = f"the store file {path} is locked by another program ({text}): {unchanged}try again in a moment"
    elif name.startswith("SQLITE_IOERR"):
        msg = (f"the disk failed while {doing} the store file {path} ({exc}): {unchanged}check the disk (a "
               "network share is not supported), then run the command again")
    else:
        msg = f"the store file {path}: {text}"
    return FaultError(msg)


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
    # a named index, not a UNIQUE column: a first import drops it and builds it once after the rows (a
    # column's own index cannot be dropped; kept up to date row by row it cost 0.3 s of a 100k-row import).
    # Stores made before keep that column index: as unique, only not dropped.
    "CREATE UNIQUE INDEX interventions_id ON interventions (id)",
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
#: Attribute tables added after the first schema: made with every new store and, in a store made before
#: them, at open (:meth:`GeoPackageStore._migrate`). ``{fid}``: the integer key a GeoPackage table needs.
_EXTRA_TABLES = {"duplicate_reviews": REVIEWS_DDL, "ikrn_grades": GRADES_DDL}
_FID = '"fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL'


def _extra_table_sql(table: str) -> list[str]:
    return [_EXTRA_TABLES[table].format(fid=_FID),
            ("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
             f"VALUES ('{table}', 'attributes', '{table}')")]


_SCHEMA += [stmt for table in _EXTRA_TABLES for stmt in _extra_table_sql(table)]


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


class GeoPackageStore(DuplicateReviews, IkrnGrades, SqlStoreLogic):
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
            try:
                _create(self.path)
            except (OSError, sqlite3.Error, RuntimeError) as exc:  # pyogrio's errors are RuntimeErrors
                msg = (f"cannot create the store file {self.path} ({type(exc).__name__}: {exc}): check that its "
                       "folder is writable and its disk has free space, or point --store or GEO_P4GN_STORE at "
                       "the existing store")
                raise FaultError(msg) from exc
        self._local = threading.local()
        #: Opened read-only: this process cannot write the file (a read-only file or mount).
        self.readonly = not os.access(self.path, os.W_OK)
        self._checked = False  # the first write runs PRAGMA quick_check
        self._check_schema()
        self._migrate()

    # -- connections -----------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if not self.readonly:
            conn = sqlite3.connect(self.path, timeout=120, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA busy_timeout = 120000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        else:
            # Read without writing anything. A WAL file can be read read-only when its -shm file exists
            # or can be made beside it; otherwise (a read-only mount) only as immutable, and that is
            # right only when no -wal holds changes not yet merged into the file.
            wal, shm = Path(f"{self.path}-wal"), Path(f"{self.path}-shm")
            if os.access(self.path.parent, os.W_OK) or (wal.exists() and shm.exists()):
                mode = "mode=ro"
            elif wal.exists() and wal.stat().st_size:
                msg = (f"the store file {self.path} is on a read-only disk and its last changes are still in "
                       f"{wal.name}, which cannot be merged there: open it once where it is writable (or copy "
                       "the file with its -wal and -shm files to a writable folder)")
                raise FaultError(msg)
            else:
                mode = "immutable=1"
            uri = f"{self.path.resolve().as_uri()}?{mode}"
            conn = sqlite3.connect(uri, uri=True, timeout=120, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA busy_timeout = 120000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")  # 64 MiB: batch imports touch many index pages
        _register_functions(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._connect()
            except sqlite3.Error as exc:
                raise sqlite_fault(exc, self.path, "opening") from exc
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _faults(self, doing: str, *, write: bool = False):
        """Turn an SQLite error on the store file into a :class:`FaultError` that says what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            raise sqlite_fault(exc, self.path, doing, write=write) from exc

    def _check_schema(self) -> None:
        try:
            row = self._conn().execute("SELECT value FROM p4gn_meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise sqlite_fault(exc, self.path, "opening") from exc
            msg = f"{self.path} is not a geo_p4gn GeoPackage store ({exc}): check --store or GEO_P4GN_STORE"
            raise P4gnError(msg) from exc
        except sqlite3.Error as exc:
            raise sqlite_fault(exc, self.path, "opening") from exc
        if row is None or int(row[0]) != SCHEMA_VERSION:
            msg = f"{self.path}: store schema {row and row[0]} is not the supported {SCHEMA_VERSION}"
            raise P4gnError(msg)

    def _migrate(self) -> None:
        """Add the tables of :data:`_EXTRA_TABLES` a store made before them lacks, in one write transaction
        (a read-only store is read as if they were empty: :attr:`_missing_tables`)."""
        with self._faults("opening"):
            have = {r[0] for r in self._conn().execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in _EXTRA_TABLES if t not in have]
        if not missing:
            return
        if self.readonly:
            self._missing_tables = frozenset(missing)
            return
        with self._write() as cur:
            for table in missing:
                for stmt in _extra_table_sql(table):
                    cur.execute(stmt)

    @staticmethod
    def _end(conn: sqlite3.Connection) -> None:
        """Roll back whatever is left of a failed transaction (SQLite may have rolled it back already)."""
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def _write(self):
        if self.readonly:
            msg = (f"the store file {self.path} is read-only (a read-only file or mount): nothing was written; "
                   "make the file and its folder writable by this user (or remount the disk read-write), or "
                   "work on a writable copy")
            raise FaultError(msg)
        with self._faults("writing", write=True):
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")  # take the write lock up front: read-then-write is safe
            try:
                if not self._checked:
                    problems = [r[0] for r in conn.execute("PRAGMA quick_check") if r[0] != "ok"]
                    if problems:
                        msg = (f"the store file {self.path} is damaged ({'; '.join(problems[:3])}): nothing was "
                               "written; stop writing to it, keep a copy of it for inspection and "
                               f"{_RESTORE_HINT.format(path=self.path)}")
                        raise FaultError(msg)
                    self._checked = True
                yield conn.cursor()
                conn.execute("COMMIT")
            except BaseException:
                self._end(conn)
                raise
            finally:  # a bulk batch wrote with a smaller page cache (see _insert_records)
                with contextlib.suppress(sqlite3.Error):
                    conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")

    @contextlib.contextmanager
    def _read(self):
        with self._faults("reading"):
            conn = self._conn()
            conn.execute("BEGIN")  # one consistent snapshot for the whole read
            try:
                yield conn.cursor()
                conn.execute("COMMIT")
            except BaseException:
                self._end(conn)
                raise

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
        values, geoms = self._fetch(cur, "interventions", ("fid", *self._REC_COLS), where, params)
        return ("fid", *self._REC_COLS), values, geoms

    def _fast_read(self):
        """The visible records as GDAL reads them (Arrow, in C), in a child process (see ``_ARROW_CHILD``),
        its batches decoded here while it reads the next; None for a small store or when the child fails
        (then the SQL read is used)."""
        with self._read() as cur:
            if cur.execute("SELECT coalesce(max(fid), 0) FROM interventions").fetchone()[0] < _FAST_READ_ROWS:
                return None
        import pyarrow as pa
        import pyarrow.ipc

        cols = self._REC_COLS[:16]  # not the hashes
        try:
            proc = subprocess.Popen([sys.executable, "-c", _ARROW_CHILD, str(self.path), ",".join(cols)],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        except OSError:
            return None
        assert proc.stdout is not None  # stdout=PIPE
        batches, geoms = [], []
        try:
            for batch in pa.ipc.open_stream(proc.stdout):
                geoms.append(shapely.from_wkb(batch.column("geom").to_numpy(zero_copy_only=False)))
                batches.append(batch.drop_columns(["geom"]))
            ok = proc.wait() == 0
        except (pa.ArrowException, OSError, ValueError):
            ok = False
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if not ok or not batches:
            return None
        table = pa.Table.from_batches(batches)
        data = {}
        for name in ("fid", *cols):
            col = table.column(name)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                data[name] = col.to_pandas().array
            elif name == "participants":
                data[name] = pd.array(col.to_numpy(zero_copy_only=False), dtype="Int64")
            else:
                data[name] = col.to_numpy(zero_copy_only=False)
        return data, np.concatenate(geoms), data["fid"]

    def _record_params(self, rows: list[dict]) -> list[tuple]:
        return list(self._column_params(row_columns(rows)))

    def _column_params(self, cols: dict[str, np.ndarray]):
        """The INSERT parameters of stored columns, made a chunk at a time (no row dict, no list of all rows)."""
        n = len(cols["id"])
        for k in range(0, n, ROW_CHUNK):
            part = {c: cols[c][k:k + ROW_CHUNK] for c in self._REC_COLS}
            part["date"], part["end_date"] = iso_days(part["date"]), iso_days(part["end_date"])
            part["deleted"] = np.where(part["deleted"].astype(bool), 1, 0).astype(object)
            blobs = encode(cols["geometry"][k:k + ROW_CHUNK])
            yield from zip(blobs, *(part[c] for c in self._REC_COLS), strict=True)

    def _insert_records(self, cur, rows):
        n = len(rows["id"])
        cols = ", ".join(f'"{c}"' for c in self._REC_COLS)
        marks = ", ".join("?" * (len(self._REC_COLS) + 1))
        sql = f"INSERT INTO interventions (geom, {cols}) VALUES ({marks})"
        if n < _BULK_ROWS:
            cur.executemany(sql, self._column_params(rows))
            return
        # Bulk path: the per-row R-tree and feature-count triggers cost about 5x the insert itself
        # (measured: 100k rows, 10.8 s with them, 2.0 s + 2.1 s for the index without). Inside this one
        # transaction, drop the two insert triggers, insert, fill the index from envelopes computed in
        # one vectorised call, add to the count and put the triggers back: all of it commits or none.
        # When the batch is at least as large as what is stored (a first import), the attribute indexes
        # are dropped and rebuilt once after it, and the R-tree is rebuilt whole and packed, written into
        # its tables directly as GDAL does (SQLite's rtreecheck() validates it in check_integrity()).
        triggers = cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
            ("rtree_interventions_geom_insert", "trigger_insert_feature_count_interventions"),
        ).fetchall()
        for name, _ in triggers:
            cur.execute(f'DROP TRIGGER "{name}"')
        last, stored = cur.execute("SELECT coalesce(max(fid), 0), count(*) FROM interventions").fetchone()
        rebuild = stored <= n
        indexes = []
        if rebuild:
            indexes = cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                                  "'interventions' AND sql IS NOT NULL").fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            # rows appended to a table without indexes and indexes built by sorting need no large page cache
            # (measured, 100k rows: the same time with 16 MiB as with 64; 50 MB less memory for 200k rows)
            cur.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
        cur.executemany(sql, self._column_params(rows))  # (the cache is set back when the transaction ends)
        for _, ddl in indexes:
            cur.execute(ddl)
        fids = np.fromiter((r[0] for r in cur.execute("SELECT fid FROM interventions WHERE fid > ? ORDER BY fid",
                                                       (last,))), dtype=np.int64)
        if len(fids) != n:
            msg = f"bulk insert: expected {n} new rows, found {len(fids)}"
            raise P4gnError(msg)
        boxes = geometry_bounds(rows["geometry"])[:, [0, 2, 1, 3]]  # minx, maxx, miny, maxy
        if rebuild and stored:
            old = np.array(cur.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_interventions_geom").fetchall(),
                           dtype=np.float64).reshape(-1, 5)
            fids = np.concatenate([old[:, 0].astype(np.int64), fids])
            boxes = np.concatenate([old[:, 1:], boxes])
        # in Hilbert order: the R-tree packs (or is inserted into) about twice as fast as in x-then-y order
        order = np.argsort(_hilbert(boxes), kind="stable")
        if rebuild:
            _rtree_fill(cur, "interventions", fids, boxes, order)
        else:
            cur.executemany("INSERT INTO rtree_interventions_geom VALUES (?, ?, ?, ?, ?)",
                            np.column_stack([fids[order].astype(np.float64), boxes[order]]).tolist())
        cur.execute("UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? WHERE table_name = ?",
                    (n, "interventions"))
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

    def _audit_creates(self, cur, after_fid, n, user, now):
        cur.execute("INSERT INTO audit (entity, entity_id, action, who, at, before, after) "
                    "SELECT 'intervention', id, 'create', ?, ?, NULL, json_object('created_hash', created_hash) "
                    "FROM interventions WHERE fid > ? ORDER BY fid", (user, now, after_fid))
        if cur.rowcount != n:
            msg = f"audit of new records: {cur.rowcount} entries for {n} new records"
            raise P4gnError(msg)

    def _bump_revision(self, cur):
        cur.execute("UPDATE p4gn_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")

    # -- housekeeping ----------------------------------------------------------------------------
    def data_version(self) -> str:
        """Changes whenever stored data changes (a cache key for the app)."""
        with self._faults("reading"):
            row = self._conn().execute("SELECT value FROM p4gn_meta WHERE key = 'revision'").fetchone()
        return f"gpkg:{self.path}:{row[0]}"

    def check_integrity(self) -> list[str]:
        """SQLite's integrity check plus the GeoPackage bookkeeping; an empty list means sound.

        A file so damaged that SQLite stops the check is reported as a problem, not raised."""
        conn = self._conn()
        with self._faults("checking"):
            conn.execute("BEGIN")  # the counts from one snapshot, even while others write
            try:
                return _integrity_problems(conn)
            finally:
                self._end(conn)

    def backup(self, out: str | os.PathLike[str]) -> None:
        """A consistent copy while others write (SQLite's online backup API), as one self-contained file.

        The copy is written beside ``out`` under a temporary name (:func:`geo_p4gn._files.replacing`) and
        must pass the integrity check before it replaces ``out``; on any failure (a damaged store, a full
        disk) nothing is left behind and an earlier file at ``out`` is kept."""
        out = Path(out)
        kept = f"; {out} is unchanged" if out.exists() else ""
        try:
            with replacing(out) as tmp:
                dst = sqlite3.connect(tmp)
                try:
                    self._conn().backup(dst)
                    dst.execute("PRAGMA journal_mode = DELETE")
                    problems = _integrity_problems(dst)
                finally:
                    dst.close()
                if problems:
                    msg = (f"the store file {self.path} fails its integrity check ({'; '.join(problems[:3])}): "
                           f"no backup was written{kept}. The store is damaged: stop writing to it, keep a copy "
                           f"of it for inspection and {_RESTORE_HINT.format(path=self.path)}")
                    raise FaultError(msg)
        except sqlite3.Error as exc:
            raise self._backup_fault(exc, out, kept) from exc
        except OSError as exc:
            raise os_fault(exc, doing="writing the backup") from exc

    def _backup_fault(self, exc: sqlite3.Error, out: Path, kept: str) -> FaultError:
        name = getattr(exc, "sqlite_errorname", "") or ""
        if is_damaged(exc):
            return sqlite_fault(exc, self.path, "making a backup")
        if name.startswith("SQLITE_FULL") or "disk is full" in str(exc) or _low_space(out.parent):
            msg = (f"the disk holding {out} is full (writing the backup: {exc}): no backup was written{kept}; "
                   "free space on that disk or write the backup to another disk")
        elif name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
            msg = (f"cannot write the backup {out} (writing the backup: {exc}): no backup was written{kept}; "
                   "choose a folder this user can write to")
        else:
            return sqlite_fault(exc, self.path, "making a backup")
        return FaultError(msg)


def _integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """What ``PRAGMA integrity_check`` and the GeoPackage bookkeeping find wrong on ``conn``'s file."""
    problems: list[str] = []
    try:
        problems += [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        for table in ("interventions", "sites"):
            n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            fc = conn.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", (table,)).fetchone()[0]
            rt = conn.execute(f'SELECT count(*) FROM "rtree_{table}_geom"').fetchone()[0]
            if not n == fc == rt:
                problems.append(f"{table}: {n} rows, feature_count {fc}, {rt} spatial index entries")
            check = conn.execute(f"SELECT rtreecheck('rtree_{table}_geom')").fetchone()[0]
            if check != "ok":
                problems.append(f"{table}: spatial index: {check}")
        # every record has its create entry (as the PostGIS store checks): the audit holds every create
        n = conn.execute("SELECT count(*) FROM interventions i WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE "
                         "a.entity = 'intervention' AND a.entity_id = i.id AND a.action = 'create')").fetchone()[0]
        if n:
            problems.append(f"interventions: {n} records without a 'create' audit entry")
    except sqlite3.DatabaseError as exc:
        if not is_damaged(exc):
            raise
        problems.append(f"SQLite stopped the check: {exc}")
    return problems
