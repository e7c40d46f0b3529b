"""Replacing a store by a backup, with a safety copy first and all-or-nothing writes.

:func:`restore_from` checks the backup before touching the store. A GeoPackage backup is copied,
opened as a store and must pass :meth:`check_integrity`; the live file is first copied aside
(``<store>.pre-restore-<time>.gpkg``), then the backup's pages are written into the live file with
SQLite's backup API, in one write transaction: other processes that have the store open keep working
and see the restored data on their next read, and no stale ``-wal`` file can be replayed onto a
swapped file. A PostGIS backup must be a readable ``pg_dump`` archive holding the store's tables; the
store's schema is dumped aside first, then ``pg_restore --clean --if-exists`` restores that schema
through ``psql --single-transaction``: all of it or nothing. Either way the store's revision moves past both the old
and the restored one (so caches keyed on :meth:`data_version` never serve the old data) and the
restore itself is written to the audit log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from .._errors import FaultError, P4gnError
from . import is_postgis, open_store, safe_url
from .geopackage import GeoPackageStore, _register_functions, is_damaged


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def restore_from(backup: str | os.PathLike, target: str, *, user: str = "restore", boundaries=None,
                 taxonomy=None, safety_dir: str | os.PathLike | None = None) -> dict:
    """Replace the store at ``target`` (a GeoPackage path or a PostGIS URL) by ``backup``.

    Returns ``{"backup", "target", "safety_copy", "interventions", "sites", "audit"}`` (counts in the
    restored store). Call it through :func:`geo_p4gn.services.restore_store`, which checks the role.
    Raises :class:`~geo_p4gn.P4gnError` and leaves the store as it was when the backup is not usable.
    """
    backup = Path(backup)
    if not backup.is_file():
        msg = f"no backup file at {backup}"
        raise P4gnError(msg)
    safety: Path | None
    if is_postgis(target):
        safety, previous = _restore_postgis(backup, target, safety_dir)
    else:
        safety, previous = _restore_geopackage(backup, Path(str(target).removeprefix("file:")), safety_dir)
    with open_store(target, boundaries=boundaries, taxonomy=taxonomy) as store:
        problems = store.check_integrity()
        if problems:  # pragma: no cover - the backup passed the same check before it was restored
            msg = f"the restored store fails its integrity check: {problems}; the previous store is at {safety}"
            raise P4gnError(msg)
        _after_restore(store, backup, safety, previous, user)
        return {"backup": str(backup), "target": safe_url(target), "safety_copy": str(safety) if safety else None,
                "interventions": len(store.list(include_deleted=True)), "sites": len(store.list_sites()),
                "audit": len(store.audit_log(contents=False))}


def _after_restore(store, backup: Path, safety: Path | None, previous: int, user: str) -> None:
    """Move the revision past every earlier one and write the restore to the audit log."""
    store.mark_restored(backup=backup.name, safety_copy=safety.name if safety else None, previous=previous,
                        user=user)


def _gpkg_revision(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(path, timeout=120)
    try:
        row = conn.execute("SELECT value FROM p4gn_meta WHERE key = 'revision'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.DatabaseError:
        return 0
    finally:
        conn.close()


def _restore_geopackage(backup: Path, target: Path, safety_dir) -> tuple[Path | None, int]:
    """Check the backup, copy the live store aside, write the backup into it; (the copy, old revision)."""

    work = target.parent
    work.mkdir(parents=True, exist_ok=True)
    check = work / f".{target.name}.restore-{os.getpid()}.gpkg"
    try:
        shutil.copyfile(backup, check)
        try:
            store = GeoPackageStore(check, create=False)
        except FaultError as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, sqlite3.Error) else exc
            if not (isinstance(cause, sqlite3.Error) and is_damaged(cause)):
                raise
            msg = (f"the backup {backup} is damaged ({cause}): the store was not changed; restore another "
                   "backup (an older one, or one made from a sound store)")
            raise FaultError(msg) from None
        except (P4gnError, sqlite3.DatabaseError) as exc:
            msg = f"{backup} is not a usable geo_p4gn GeoPackage backup ({exc}); the store was not changed"
            raise P4gnError(msg) from None
        try:
            problems = store.check_integrity()
        finally:
            store.close()
        if problems:
            msg = (f"the backup {backup} fails the integrity check ({'; '.join(problems[:3])}): the store was not "
                   "changed; restore another backup (an older one, or one made from a sound store)")
            raise FaultError(msg)
        for suffix in ("-wal", "-shm"):
            Path(f"{check}{suffix}").unlink(missing_ok=True)
        if not target.exists():
            os.replace(check, target)
            return None, 0
        Path(safety_dir or work).mkdir(parents=True, exist_ok=True)
        safety = Path(safety_dir or work) / f"{target.stem}.pre-restore-{_stamp()}.gpkg"
        src = sqlite3.connect(f"file:{check}?mode=ro", uri=True)
        live = sqlite3.connect(target, timeout=120, isolation_level=None)
        try:
            live.execute("PRAGMA busy_timeout = 120000")
            _register_functions(live)
            previous = _gpkg_revision(target)
            _save_aside(live, target, safety)
            if src.execute("PRAGMA page_size").fetchone() != live.execute("PRAGMA page_size").fetchone():
                live.execute("PRAGMA journal_mode = DELETE")  # the backup API cannot change a WAL file's page size
            src.backup(live)  # one write transaction on the live file: all pages or none
            live.execute("PRAGMA journal_mode = WAL")
        finally:
            src.close()
            live.close()
        return safety, previous
    finally:
        for p in (check, Path(f"{check}-wal"), Path(f"{check}-shm")):
            p.unlink(missing_ok=True)


def _save_aside(live: sqlite3.Connection, target: Path, safety: Path) -> None:
    """Copy the live store to ``safety`` before it is replaced: with SQLite's backup API, or, when the
    store is too damaged for that, byte for byte with its ``-wal`` file (the damaged file is kept whole)."""

    aside = sqlite3.connect(safety)
    try:
        live.backup(aside)
        return
    except sqlite3.DatabaseError as exc:
        if not is_damaged(exc):
            raise
    finally:
        aside.close()
    shutil.copyfile(target, safety)
    wal = Path(f"{target}-wal")
    if wal.exists():
        shutil.copyfile(wal, f"{safety}-wal")


def _pg_tool(name: str) -> str:
    return shutil.which(name) or f"/usr/lib/postgresql/15/bin/{name}"


def _pg_env(url: str) -> tuple[str, str, dict]:
    """(conninfo without the password, the store's schema, env with PGPASSWORD): passwords stay off the
    command line, where other users of the machine could read them."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(url.replace("postgresql+psycopg://", "postgresql://"))
    env = os.environ.copy()
    if info.get("password"):
        env["PGPASSWORD"] = str(info.pop("password"))
    schema = "public"
    options = str(info.get("options") or "")
    for part in options.replace("-c ", "-c").split():
        if part.startswith("-csearch_path="):
            schema = part.split("=", 1)[1].split(",")[0].strip().strip('"') or "public"
    return make_conninfo("", **info), schema, env


def _restore_postgis(backup: Path, target: str, safety_dir) -> tuple[Path, int]:
    """Check the archive, dump the live schema aside, pg_restore in one transaction; (the dump, old revision)."""
    conninfo, schema, env = _pg_env(target)
    listing = subprocess.run([_pg_tool("pg_restore"), "--list", str(backup)], capture_output=True, text=True,
                             check=False, env=env)
    if listing.returncode != 0:
        msg = f"{backup} is not a readable pg_dump archive ({listing.stderr.strip()}); the store was not changed"
        raise P4gnError(msg)
    tables = {line.split()[-2] for line in listing.stdout.splitlines()
              if f" TABLE {schema} " in line and " TABLE DATA " not in line}
    missing = {"interventions", "sites", "audit", "p4gn_meta"} - tables
    if missing:
        msg = (f"{backup} holds no geo_p4gn store in schema {schema!r} (missing {', '.join(sorted(missing))}); "
               "the store was not changed")
        raise P4gnError(msg)
    import psycopg

    with psycopg.connect(target.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        row = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis'"
                           ).fetchone()
        if row is None:
            msg = "the target database has no PostGIS extension; the store was not changed"
            raise P4gnError(msg)
        postgis = row[0]
        try:
            row = conn.execute(f'SELECT value FROM "{schema}".p4gn_meta WHERE key = %s', ("revision",)).fetchone()
            previous = int(row[0]) if row else 0
        except psycopg.errors.UndefinedTable:
            previous = 0
    safety = Path(safety_dir or backup.parent) / f"pre-restore-{schema}-{_stamp()}.dump"
    dump = subprocess.run([_pg_tool("pg_dump"), "--format=custom", f"--schema={schema}", f"--file={safety}",
                           f"--dbname={conninfo}"], capture_output=True, text=True, check=False, env=env)
    if dump.returncode != 0:
        msg = f"could not save the current store aside before restoring: {dump.stderr.strip()}; nothing changed"
        raise P4gnError(msg)
    _pg_restore_script(backup, conninfo, schema, postgis, env)
    return safety, previous


def _pg_restore_script(backup: Path, conninfo: str, schema: str, postgis: str, env: dict) -> None:
    """``pg_restore --clean --if-exists`` of ``schema`` as one transaction (``psql --single-transaction``).

    Why not ``pg_restore --single-transaction`` itself: a dump's script runs with an empty ``search_path``,
    and the store's CHECK function ``p4gn_point_or_polygon`` calls ``ST_GeometryType`` unqualified, so
    every row fails its CHECK during the restore ("function st_geometrytype(public.geometry) does not
    exist"). The script is streamed through with its ``search_path`` set to the store's schema and
    PostGIS's schema instead; every object in a dump is schema-qualified, so nothing else changes.
    """
    quoted = ", ".join(f'"{name}"' for name in dict.fromkeys((schema, postgis)))
    empty = b"SELECT pg_catalog.set_config('search_path', '', false);"
    ours = f"SELECT pg_catalog.set_config('search_path', '{quoted}', false);".encode()
    with tempfile.TemporaryFile() as err1, tempfile.TemporaryFile() as err2:
        dump = subprocess.Popen([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                                 f"--schema={schema}", "--file=-", str(backup)], stdout=subprocess.PIPE,
                                stderr=err1, env=env)
        load = subprocess.Popen([_pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                                 f"--dbname={conninfo}"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=err2, env=env)
        assert dump.stdout is not None and load.stdin is not None  # both are pipes (PIPE above)
        try:
            for line in dump.stdout:
                load.stdin.write(ours + b"\n" if line.rstrip(b"\r\n") == empty else line)
        except BrokenPipeError:
            pass  # psql stopped at an error and rolled back: reported below
        finally:
            dump.stdout.close()
            with contextlib.suppress(BrokenPipeError):
                load.stdin.close()
            dump.wait()
            load.wait()
        if dump.returncode != 0 or load.returncode != 0:
            err1.seek(0)
            err2.seek(0)
            detail = (err1.read() + err2.read()).decode("utf-8", "replace").strip()
            msg = f"pg_restore failed, nothing was changed (one transaction): {detail}"
            raise P4gnError(msg)


