"""The server store: PostGIS, chosen by a ``postgresql://`` URL.

The database enforces what it can on its own: a typed geometry column with SRID 4326, a CHECK that the
geometry is a valid point or polygon inside the DKI Jakarta bounding box, the record id as primary key,
non-negative participants, bounded notes, and an append-only audit table (a trigger refuses UPDATE,
DELETE and TRUNCATE). Writers take a transaction-scoped advisory lock, so concurrent imports queue
like the GeoPackage store's ``BEGIN IMMEDIATE`` and the read-then-write checks (idempotency, conflicts,
versions) hold across processes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading

import numpy as np
import shapely

from .._errors import FaultError, P4gnError, os_fault
from .._files import replacing
from ._grades import GRADES_DDL, IkrnGrades
from ._logic import ROW_CHUNK, SqlStoreLogic
from ._reviews import REVIEWS_DDL, DuplicateReviews

SCHEMA_VERSION = 1
_LOCK_KEY = 0x70_34_67_6E  # "p4gn"
#: DKI Jakarta (Kepulauan Seribu included) with a margin: (min lon, min lat, max lon, max lat).
DKI_BBOX = (106.35, -6.45, 107.0, -5.15)
_BBOX_SQL = "ST_MakeEnvelope({}, {}, {}, {}, 4326)".format(*DKI_BBOX)
_GEOM_CHECKS = (
    "CHECK (ST_SRID(geom) = 4326) "
    # a function of our own: PostGIS's geometry_columns view reads any "geometrytype(...)" check as the
    # layer's type and would advertise a POINT layer to QGIS
    "CHECK (p4gn_point_or_polygon(geom)) "
    "CHECK (ST_IsValid(geom)) "
    f"CHECK (ST_CoveredBy(geom, {_BBOX_SQL}))"
)
_TS = "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

_SCHEMA = f"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE OR REPLACE FUNCTION p4gn_point_or_polygon(g geometry) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path FROM CURRENT
    AS $$ SELECT ST_GeometryType(g) IN ('ST_Point', 'ST_Polygon', 'ST_MultiPolygon') $$;
CREATE TABLE IF NOT EXISTS p4gn_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS interventions (
    fid bigserial UNIQUE,
    id uuid PRIMARY KEY,
    geom geometry(Geometry, 4326) NOT NULL {_GEOM_CHECKS},
    date date NOT NULL,
    end_date date CHECK (end_date IS NULL OR end_date >= date),
    type_key text NOT NULL,
    actor_key text NOT NULL,
    organisation text NOT NULL CHECK (length(organisation) BETWEEN 1 AND 200),
    site_id text,
    kelurahan_code text NOT NULL CHECK (kelurahan_code ~ '^31\\.[0-9]{{2}}\\.[0-9]{{2}}\\.[0-9]{{4}}$'),
    participants integer CHECK (participants >= 0),
    notes text CHECK (length(notes) <= 2000),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    version integer NOT NULL CHECK (version >= 1),
    content_hash text NOT NULL,
    created_hash text NOT NULL
);
CREATE INDEX IF NOT EXISTS interventions_geom ON interventions USING gist (geom);
CREATE INDEX IF NOT EXISTS interventions_date ON interventions (date);
CREATE INDEX IF NOT EXISTS interventions_kelurahan ON interventions (kelurahan_code);
CREATE TABLE IF NOT EXISTS sites (
    fid bigserial UNIQUE,
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{{1,62}}$'),
    geom geometry(Geometry, 4326) NOT NULL {_GEOM_CHECKS},
    name text NOT NULL,
    aliases jsonb NOT NULL DEFAULT '[]',
    kelurahan_code text NOT NULL,
    approximate boolean NOT NULL,
    ikrn text,
    sources jsonb NOT NULL DEFAULT '[]',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq bigserial PRIMARY KEY,
    entity text NOT NULL,
    entity_id text NOT NULL,
    action text NOT NULL,
    who text NOT NULL,
    at timestamptz NOT NULL,
    before jsonb,
    after jsonb
);
CREATE INDEX IF NOT EXISTS audit_entity ON audit (entity, entity_id);
CREATE OR REPLACE FUNCTION p4gn_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
DROP TRIGGER IF EXISTS audit_append_only ON audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION p4gn_audit_append_only();
DROP TRIGGER IF EXISTS audit_no_truncate ON audit;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION p4gn_audit_append_only();
INSERT INTO p4gn_meta VALUES ('revision', '0') ON CONFLICT DO NOTHING;
INSERT INTO p4gn_meta VALUES ('schema_version', '{SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
"""
#: Tables added after the first schema: made with every new store and, in a store made before them, at open
#: (:meth:`PostGISStore._migrate`).
_EXTRA_TABLES = {"duplicate_reviews": REVIEWS_DDL.format(fid="fid bigserial PRIMARY KEY"),
                 "ikrn_grades": GRADES_DDL.format(fid="fid bigserial PRIMARY KEY")}
_SCHEMA += "".join(f"{ddl};\n" for ddl in _EXTRA_TABLES.values())

_REC_COLS = (
    "id", "date", "end_date", "type_key", "actor_key", "organisation", "site_id", "kelurahan_code",
    "participants", "notes", "created_by", "created_at", "updated_by", "updated_at", "deleted", "version",
    "content_hash", "created_hash",
)
_SITE_COLS = (
    "id", "name", "aliases", "kelurahan_code", "approximate", "ikrn", "sources", "created_by", "created_at",
    "updated_by", "updated_at", "version",
)
_TS_COLS = {"created_at", "updated_at"}


def _select_list(cols) -> str:
    out = []
    for c in cols:
        if c in _TS_COLS:
            out.append(_TS.format(c) + f" AS {c}")
        elif c == "id":
            out.append("id::text AS id")
        else:
            out.append(f'"{c}"')
    return ", ".join(out)


class PostGISStore(DuplicateReviews, IkrnGrades, SqlStoreLogic):
    """Interventions and sites in PostGIS (tables created on first use)."""

    _PH = "%s"
    _AUDIT_SELECT = f"seq, entity, entity_id, action, who, {_TS.format('at')}, before::text, after::text"

    def __init__(self, url: str, *, boundaries=None, taxonomy=None) -> None:
        super().__init__(boundaries=boundaries, taxonomy=taxonomy)
        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self._local = threading.local()
        # the schema is made (under the advisory lock) only when missing: an application role that does
        # not own the tables (see grant_app_role) may not run the DDL, and needs none
        if not self._conn().execute("SELECT to_regclass('p4gn_meta') IS NOT NULL").fetchone()[0]:
            with self._conn().transaction():
                self._conn().execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                self._conn().execute(_SCHEMA)
        row = self._conn().execute("SELECT value FROM p4gn_meta WHERE key = 'schema_version'").fetchone()
        if int(row[0]) != SCHEMA_VERSION:
            msg = f"{self._safe_url()}: store schema {row[0]} is not the supported {SCHEMA_VERSION}"
            raise P4gnError(msg)
        self._migrate()

    def _migrate(self) -> None:
        """Create the tables of :data:`_EXTRA_TABLES` a store made before them lacks (under the advisory lock).
        A role that may not create them (an application role, see :meth:`grant_app_role`) reads them as empty
        (:attr:`_missing_tables`) until the owner opens the store once."""
        import psycopg

        conn = self._conn()
        missing = [t for t in _EXTRA_TABLES if conn.execute("SELECT to_regclass(%s) IS NULL", (t,)).fetchone()[0]]
        if not missing:
            return
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                for table in missing:
                    conn.execute(_EXTRA_TABLES[table])
        except psycopg.errors.InsufficientPrivilege:
            self._missing_tables = frozenset(missing)

    def _safe_url(self) -> str:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(self.url)
        return f"postgresql://{info.get('host', '')}:{info.get('port', '')}/{info.get('dbname', '')}"

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            import psycopg

            try:
                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as exc:
                msg = f"cannot connect to the PostGIS store {self._safe_url()}: {exc}"
                raise P4gnError(msg) from exc
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _write(self):
        conn = self._conn()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            yield cur

    @contextlib.contextmanager
    def _read(self):
        conn = self._conn()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield cur

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- primitives ----------------------------------------------------------------------------
    def _fetch(self, cur, table: str, cols, where: str, params) -> tuple[list[tuple], np.ndarray]:
        """Rows (without the geometry) and their geometries, in insertion order."""
        cur.execute(f"SELECT ST_AsBinary(geom), {_select_list(cols)} FROM {table} {where} ORDER BY fid", params)
        raw = cur.fetchall()
        return [r[1:] for r in raw], shapely.from_wkb([bytes(r[0]) for r in raw])

    def _rows(self, cur, table: str, cols, where: str, params) -> list[dict]:
        values, geoms = self._fetch(cur, table, cols, where, params)
        return [dict(zip(cols, v, strict=True), geometry=g) for v, g in zip(values, geoms, strict=True)]

    def _select_records_raw(self, cur, ids, include_deleted):
        clauses, params = [], []
        if ids is not None:
            clauses.append("id::text = ANY(%s)")
            params.append(list(ids))
        if not include_deleted:
            clauses.append("NOT deleted")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        values, geoms = self._fetch(cur, "interventions", ("fid", *_REC_COLS), where, params)
        return ("fid", *_REC_COLS), values, geoms

    @staticmethod
    def _values(row: dict, cols) -> tuple:
        # the column is 2D (as the GeoPackage layer): a height is dropped, never a whole batch refused for it
        return (shapely.to_wkb(shapely.force_2d(row["geometry"]), flavor="iso"), *(row[c] for c in cols))

    def _insert_records(self, cur, rows):
        # COPY, not executemany: one stream instead of a round trip per row (20k rows: 16 s -> under 1 s);
        # the table's CHECK constraints apply to COPY as to INSERT.
        # ``rows``: the stored columns, one array each (_logic.new_row_columns), sent a chunk at a time.
        cols = ", ".join(f'"{c}"' for c in _REC_COLS)
        n = len(rows["id"])
        with cur.copy(f"COPY interventions (geom, {cols}) FROM STDIN") as copy:
            for k in range(0, n, ROW_CHUNK):
                geoms = shapely.set_srid(shapely.force_2d(rows["geometry"][k:k + ROW_CHUNK]), 4326)
                ewkb = shapely.to_wkb(geoms, hex=True, include_srid=True, flavor="extended")
                for values in zip(ewkb, *(rows[c][k:k + ROW_CHUNK] for c in _REC_COLS), strict=True):
                    copy.write_row(values)

    def _update_record(self, cur, row):
        sets = ", ".join(f'"{c}" = %s' for c in _REC_COLS[1:])
        v = self._values(row, _REC_COLS)
        cur.execute(f"UPDATE interventions SET geom = ST_GeomFromWKB(%s, 4326), {sets} WHERE id = %s",
                    (v[0], *v[2:], v[1]))

    def _select_sites(self, cur, ids):
        where, params = "", []
        if ids is not None:
            where, params = "WHERE id = ANY(%s)", [list(ids)]
        return self._rows(cur, "sites", _SITE_COLS, where, params)

    def _site_values(self, row: dict) -> tuple:
        from psycopg.types.json import Jsonb

        return self._values(dict(row, aliases=Jsonb(row["aliases"]), sources=Jsonb(row["sources"])), _SITE_COLS)

    def _insert_site(self, cur, row):
        cols = ", ".join(f'"{c}"' for c in _SITE_COLS)
        marks = ", ".join(["%s"] * len(_SITE_COLS))
        cur.execute(f"INSERT INTO sites (geom, {cols}) VALUES (ST_GeomFromWKB(%s, 4326), {marks})",
                    self._site_values(row))

    def _update_site(self, cur, row):
        sets = ", ".join(f'"{c}" = %s' for c in _SITE_COLS[1:])
        v = self._site_values(row)
        cur.execute(f"UPDATE sites SET geom = ST_GeomFromWKB(%s, 4326), {sets} WHERE id = %s", (v[0], *v[2:], v[1]))

    def _insert_audit(self, cur, entries):
        with cur.copy("COPY audit (entity, entity_id, action, who, at, before, after) FROM STDIN") as copy:
            for entry in entries:
                copy.write_row(entry)

    def _audit_creates(self, cur, after_fid, n, user, now):
        cur.execute("INSERT INTO audit (entity, entity_id, action, who, at, before, after) "
                    "SELECT 'intervention', id::text, 'create', %s, %s::timestamptz, NULL, "
                    "jsonb_build_object('created_hash', created_hash) FROM interventions WHERE fid > %s ORDER BY fid",
                    (user, now, after_fid))
        if cur.rowcount != n:
            msg = f"audit of new records: {cur.rowcount} entries for {n} new records"
            raise P4gnError(msg)

    def _bump_revision(self, cur):
        cur.execute("UPDATE p4gn_meta SET value = (value::bigint + 1)::text WHERE key = 'revision'")

    # -- roles ---------------------------------------------------------------------------------
    def grant_app_role(self, role: str) -> list[str]:
        """Let an existing database ``role`` run the app and the CLI on this store without owning it.

        Run it connected as the tables' owner. The role may read everything, add and edit records and
        sites, and append to the audit log; it may not update, delete or truncate the audit log, delete
        records (deletion is soft, an update), or alter, drop or disable a table or trigger: PostgreSQL
        lets only the owner do those, so the append-only audit holds even against a bypassed trigger.
        Returns the statements run.
        """
        from psycopg import sql

        schema = self._conn().execute("SELECT current_schema()").fetchone()[0]
        who, where = sql.Identifier(role), sql.Identifier(schema)
        statements = [
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(where, who),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(where, who),
            sql.SQL("GRANT SELECT, INSERT, UPDATE ON {}.interventions, {}.sites TO {}").format(where, where, who),
            *(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {}.{} TO {}").format(where, sql.Identifier(t), who)
              for t in _EXTRA_TABLES),
            sql.SQL("GRANT SELECT, UPDATE ON {}.p4gn_meta TO {}").format(where, who),
            sql.SQL("GRANT SELECT, INSERT ON {}.audit TO {}").format(where, who),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(where, who),
        ]
        conn = self._conn()
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            msg = f"no database role {role!r}: create it first (CREATE ROLE {role} LOGIN PASSWORD '...')"
            raise P4gnError(msg)
        with conn.transaction():
            for stmt in statements:
                conn.execute(stmt)
        return [stmt.as_string(conn) for stmt in statements]

    # -- housekeeping ----------------------------------------------------------------------------
    def data_version(self) -> str:
        row = self._conn().execute("SELECT value FROM p4gn_meta WHERE key = 'revision'").fetchone()
        return f"postgis:{self._safe_url()}:{row[0]}"

    def check_integrity(self) -> list[str]:
        problems = []
        with self._read() as cur:
            for table in ("interventions", "sites"):
                cur.execute(f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom) OR ST_SRID(geom) <> 4326")
                if (n := cur.fetchone()[0]):
                    problems.append(f"{table}: {n} invalid geometries")
            cur.execute("SELECT count(*) FROM interventions i WHERE NOT EXISTS (SELECT 1 FROM audit a "
                        "WHERE a.entity = 'intervention' AND a.entity_id = i.id::text AND a.action = 'create')")
            if (n := cur.fetchone()[0]):
                problems.append(f"interventions: {n} records without a 'create' audit entry")
        return problems

    def backup(self, out: str | os.PathLike[str]) -> None:
        """A consistent dump of the store's schema (``pg_dump`` custom format, one snapshot) while others
        write. The password goes through the environment, never the command line."""
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(self.url)
        schema = self._conn().execute("SELECT current_schema()").fetchone()[0]
        env = {**os.environ, "PGPASSWORD": str(info.pop("password", "") or os.environ.get("PGPASSWORD", ""))}
        args = [f"--host={info.get('host', '')}", f"--port={info.get('port', 5432)}",
                f"--username={info.get('user', '')}", f"--dbname={info.get('dbname', '')}"]
        pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
        kept = f"; {out} is unchanged" if os.path.exists(out) else ""
        try:
            with replacing(out) as tmp:
                res = subprocess.run([pg_dump, "--format=custom", f"--schema={schema}", f"--file={tmp}", *args],
                                     capture_output=True, text=True, check=False, env=env)
                if res.returncode != 0:
                    detail = res.stderr.strip()
                    if "No space left on device" in detail:
                        msg = (f"the disk holding {out} is full ({detail}): no backup was written{kept}; free "
                               "space on that disk or write the backup to another disk")
                    else:
                        msg = f"pg_dump failed ({detail}): no backup was written{kept}"
                    raise FaultError(msg)
        except OSError as exc:
            raise os_fault(exc, doing="writing the backup") from exc
