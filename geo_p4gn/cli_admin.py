"""``geo-p4gn backup | restore | audit | user | taxonomy``: the administrator's commands, over the same services.

Who the command runs as
-----------------------
The command is run by an operator on the server, with the operator's own access to the store file or
database (the real boundary there: keep the store and ``users.toml`` readable by the service account
only). It acts as ``--as NAME`` (or ``GEO_P4GN_USER``), looked up in the users file, and goes through
:mod:`geo_p4gn.services`, so it gets the same permission answers as the app and the audit log records
that name. With no users file at all (a laptop), it acts as the single user, an admin; that is also
how the first admin account is made::

    geo-p4gn user add admin@example.org --role admin          # no users yet: allowed
    geo-p4gn --help                                           # afterwards: --as admin@example.org

Restore
-------
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

import argparse
import contextlib
import csv
import datetime as dt
import getpass
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from . import services
from ._errors import FaultError, P4gnError, PermissionDenied, ValidationError

_PG_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def add_user_argument(parser: argparse.ArgumentParser) -> None:
    """``--as NAME``: who a command acts as (see the module docstring). For every command that changes
    or reads data through :mod:`geo_p4gn.services`."""
    parser.add_argument("--as", dest="as_name", metavar="NAME",
                        help="act as this user of the users file (default: GEO_P4GN_USER; with no users "
                             "file, the single local user)")


def cli_user(args: argparse.Namespace) -> services.User:
    from .auth import cli_user as _cli_user

    return _cli_user(getattr(args, "as_name", None))


def _open(args, **kw):
    from .store import open_store

    return open_store(getattr(args, "store", None), **kw)


def _is_pg(url: str) -> bool:
    return str(url).startswith(_PG_PREFIXES)


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


# -- restore -------------------------------------------------------------------------------------
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
    if _is_pg(target):
        safety, previous = _restore_postgis(backup, target, safety_dir)
    else:
        safety, previous = _restore_geopackage(backup, Path(str(target).removeprefix("file:")), safety_dir)
    from .store import open_store

    with open_store(target, boundaries=boundaries, taxonomy=taxonomy) as store:
        problems = store.check_integrity()
        if problems:  # pragma: no cover - the backup passed the same check before it was restored
            msg = f"the restored store fails its integrity check: {problems}; the previous store is at {safety}"
            raise P4gnError(msg)
        _after_restore(store, backup, safety, previous, user)
        return {"backup": str(backup), "target": _safe(target), "safety_copy": str(safety) if safety else None,
                "interventions": len(store.list(include_deleted=True)), "sites": len(store.list_sites()),
                "audit": len(store.audit_log())}


def _safe(url: str) -> str:
    if not _is_pg(url):
        return str(url)
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url.replace("postgresql+psycopg://", "postgresql://"))
    return f"postgresql://{info.get('host', '')}:{info.get('port', '')}/{info.get('dbname', '')}"


def _after_restore(store, backup: Path, safety: Path | None, previous: int, user: str) -> None:
    """Move the revision past every earlier one and write the restore to the audit log."""
    from .store._logic import utcnow

    pg = _is_pg(store.url)
    mark = "%s" if pg else "?"
    with store._write() as cur:  # the store's own write transaction and audit primitive
        cur.execute("SELECT value FROM p4gn_meta WHERE key = 'revision'")
        restored = int(cur.fetchone()[0])
        new = max(restored, previous) + 1
        cur.execute(f"UPDATE p4gn_meta SET value = {mark} WHERE key = 'revision'", (str(new),))
        after = json.dumps({"backup": backup.name, "safety_copy": safety.name if safety else None,
                            "revision": new}, sort_keys=True, ensure_ascii=False)
        store._insert_audit(cur, [("store", "store", "restore", user, utcnow(), None, after)])


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
    from .store.geopackage import GeoPackageStore, _register_functions, is_damaged

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
    from .store.geopackage import is_damaged

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
    return make_conninfo(**info), schema, env


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


# -- commands ------------------------------------------------------------------------------------
def _cmd_backup(args: argparse.Namespace) -> int:
    user = cli_user(args)
    services.authorize(user, "backup")  # before opening anything
    with _open(args) as store:
        out = services.backup_store(store, user, args.out)
    print(f"backup of {_safe(store.url)} written to {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


def _confirm(args, target: str) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        msg = "restore replaces the whole store: add --yes to confirm"
        raise ValidationError(msg)
    answer = input(f"Replace the store {_safe(target)} by {args.backup}? Type 'yes': ")
    if answer.strip().lower() != "yes":
        msg = "restore cancelled"
        raise ValidationError(msg)


def _cmd_restore(args: argparse.Namespace) -> int:
    from . import settings

    user = cli_user(args)
    services.authorize(user, "restore_backup")
    target = str(args.store or settings.store_url)
    _confirm(args, target)
    done = services.restore_store(user, args.backup, target, safety_dir=args.safety_dir)
    print(f"restored {done['target']} from {done['backup']}: {done['interventions']} interventions, "
          f"{done['sites']} sites, {done['audit']} audit entries; integrity ok")
    if done["safety_copy"]:
        print(f"the store as it was before: {done['safety_copy']}")
    return 0


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(v) -> str:
    text = "" if v is None else str(v)
    return "'" + text if text.startswith(_FORMULA) else text


def _cmd_audit(args: argparse.Namespace) -> int:
    user = cli_user(args)
    with _open(args) as store:
        log = services.audit_log(store, user, entity=args.entity, since_seq=args.since)
    log = log.astype(object).where(log.notna(), None)  # no "nan" for an empty before/after
    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout  # noqa: SIM115
    try:
        if args.format == "json":
            rows = log.to_dict("records")
            for r in rows:
                for k in ("before", "after"):
                    r[k] = json.loads(r[k]) if isinstance(r[k], str) else None
            json.dump(rows, out, ensure_ascii=False, indent=1, default=str)
            out.write("\n")
        else:
            w = csv.writer(out)
            w.writerow(log.columns)
            for row in log.itertuples(index=False):
                w.writerow([_cell(v) for v in row])
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"{len(log)} audit entries written to {args.out}", file=sys.stderr)
    return 0


def _read_password(args) -> str | None:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    if getattr(args, "password", False):
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            msg = "the two passwords differ"
            raise ValidationError(msg)
        return first
    return None


def _cmd_user(args: argparse.Namespace) -> int:
    user = cli_user(args)
    if args.user_command == "list":
        users = services.list_users(user)
        from .auth import load_users

        local = {n for n, e in load_users().items() if e.get("password_hash")}
        for u in users:
            print(f"{u.name}\t{u.role}\t{'local password' if u.name in local else 'sign-in provider'}")
        return 0
    if args.user_command == "add":
        services.add_user(user, args.name, args.role, password=_read_password(args))
        print(f"added {args.name} as {args.role}")
    elif args.user_command == "set-role":
        services.set_role(user, args.name, args.role)
        print(f"{args.name} is now {args.role}")
    elif args.user_command == "passwd":
        password = _read_password(args)
        if password is None:
            msg = "give the new password with --password (asked) or --password-stdin"
            raise ValidationError(msg)
        services.set_password(user, args.name, password)
        print(f"password of {args.name} set")
    elif args.user_command == "remove":
        if args.name == user.name:
            raise PermissionDenied("you cannot remove yourself; ask another administrator")
        services.remove_user(user, args.name)
        print(f"removed {args.name}")
    return 0


def register(sub) -> None:
    from .cli import add_store_argument

    p = sub.add_parser("backup", help="write a consistent copy of the store while it is in use (admins)")
    p.add_argument("out", help="the backup file (.gpkg for a GeoPackage store, a pg_dump archive for PostGIS)")
    add_store_argument(p)
    add_user_argument(p)
    p.set_defaults(func=_cmd_backup)

    p = sub.add_parser("restore", help="replace the store by a backup, after checking it (admins)")
    p.add_argument("backup", help="a file written by `geo-p4gn backup`")
    add_store_argument(p)
    add_user_argument(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--safety-dir", metavar="DIR",
                   help="where to keep the store as it was before (default: beside the store or the backup)")
    p.set_defaults(func=_cmd_restore)

    p = sub.add_parser("audit", help="export the audit log (admins)")
    add_store_argument(p)
    add_user_argument(p)
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--entity", choices=("intervention", "site", "store", "taxonomy"), help="only this kind of entry")
    p.add_argument("--since", type=int, default=0, metavar="SEQ", help="only entries after this sequence number")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("user", help="manage users and roles (admins)")
    usub = p.add_subparsers(dest="user_command", required=True)
    roles = tuple(services.ROLES)
    q = usub.add_parser("list", help="list users and roles")
    add_user_argument(q)
    q = usub.add_parser("add", help="add a user: an identity of the sign-in provider, or a local account")
    q.add_argument("name", help="e-mail or sign-in subject, or a local account name")
    q.add_argument("--role", choices=roles, required=True)
    add_user_argument(q)
    _password_arguments(q)
    q = usub.add_parser("set-role", help="change a user's role")
    q.add_argument("name")
    q.add_argument("role", choices=roles)
    add_user_argument(q)
    q = usub.add_parser("passwd", help="set a local account's password (your own, or anyone's as an admin)")
    q.add_argument("name")
    add_user_argument(q)
    _password_arguments(q)
    q = usub.add_parser("remove", help="remove a user")
    q.add_argument("name")
    add_user_argument(q)
    p.set_defaults(func=_cmd_user)

    _register_taxonomy(sub)


def _password_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--password", action="store_true", help="a local account: ask for its password")
    g.add_argument("--password-stdin", action="store_true", help="a local account: read its password from stdin")


# -- taxonomy ------------------------------------------------------------------------------------
def _read_toml_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        msg = f"{path}: not UTF-8 text"
        raise ValidationError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror or exc})"
        raise P4gnError(msg) from None


def _print_taxonomy(tax, path: Path) -> None:
    from .taxonomy import GROUPS

    counts = ", ".join(f"{len(getattr(tax, g))} {g}" for g in GROUPS)
    print(f"{path} (year {tax.year if tax.year is not None else '-'}): {counts}")
    for group in GROUPS:
        print(f"\n[{group}]")
        print("key\tid\ten\tactive")
        for t in getattr(tax, group):
            print(f"{t.key}\t{t.id}\t{t.en}\t{'yes' if t.active else 'no'}")


def _cmd_taxonomy(args: argparse.Namespace) -> int:
    from .taxonomy import diff_taxonomy, load_taxonomy, taxonomy_dict, taxonomy_path

    path = Path(args.taxonomy_file) if args.taxonomy_file else taxonomy_path()
    if args.taxonomy_command == "show":
        tax = load_taxonomy(path)
        if args.json:
            print(json.dumps({"path": str(path), **taxonomy_dict(tax)}, ensure_ascii=False, indent=1))
        else:
            _print_taxonomy(tax, path)
        return 0
    user = cli_user(args)
    services.authorize(user, "manage_taxonomy")  # before opening anything
    with _open(args) as store:
        if args.taxonomy_command == "add":
            term = services.add_taxonomy_term(store, user, args.group, args.key, args.id_label, args.en_label,
                                              active=not args.inactive, rank=args.rank, color=args.color,
                                              path=path)
            print(f"added {args.group} {term.key!r}: {term.id} / {term.en}")
        elif args.taxonomy_command == "label":
            term = services.edit_taxonomy_labels(store, user, args.group, args.key, id_label=args.id_label,
                                                 en_label=args.en_label, active=args.active, path=path)
            print(f"{args.group} {term.key!r}: {term.id} / {term.en}{'' if term.active else ' (inactive)'}")
        else:  # set
            text = _read_toml_file(args.file)
            old = load_taxonomy(path)
            new = services.replace_taxonomy(store, user, text, path=path)
            changes = diff_taxonomy(old, new)
            summary = "; ".join(f"{what}: {', '.join(keys)}" for what, keys in changes.items() if keys)
            print(f"{path} replaced by {args.file}: {summary or 'no entry changed'}")
    return 0


def _register_taxonomy(sub) -> None:
    from .cli import add_store_argument
    from .taxonomy import GROUPS

    def common(q, store: bool = True) -> None:
        q.add_argument("--taxonomy-file", metavar="FILE",
                       help="the taxonomy file (default: <GEO_P4GN_DATA>/interventions/taxonomy.toml)")
        if store:
            add_store_argument(q)
            add_user_argument(q)

    p = sub.add_parser("taxonomy", help="show or change the intervention types, actors and IKRN categories "
                       "(changes: admins)")
    tsub = p.add_subparsers(dest="taxonomy_command", required=True)
    q = tsub.add_parser("show", help="list the taxonomy")
    q.add_argument("--json", action="store_true", help="as JSON")
    common(q, store=False)
    q = tsub.add_parser("add", help="add a type, actor or IKRN category")
    q.add_argument("group", choices=GROUPS)
    q.add_argument("key", help="lowercase snake-case, e.g. tes_urine (stored with every record: choose well)")
    q.add_argument("--id", dest="id_label", required=True, metavar="LABEL", help="the Bahasa Indonesia label")
    q.add_argument("--en", dest="en_label", required=True, metavar="LABEL", help="the English label")
    q.add_argument("--inactive", action="store_true", help="do not offer it in forms yet")
    q.add_argument("--rank", type=int, help="IKRN categories: 1 is the worst")
    q.add_argument("--color", metavar="#RRGGBB", help="IKRN categories: the map colour")
    common(q)
    q = tsub.add_parser("label", help="change the labels of an entry, or whether forms offer it (never its key)")
    q.add_argument("group", choices=GROUPS)
    q.add_argument("key")
    q.add_argument("--id", dest="id_label", metavar="LABEL", help="the new Bahasa Indonesia label")
    q.add_argument("--en", dest="en_label", metavar="LABEL", help="the new English label")
    g = q.add_mutually_exclusive_group()
    g.add_argument("--active", dest="active", action="store_const", const=True, help="offer it in forms")
    g.add_argument("--inactive", dest="active", action="store_const", const=False, help="stop offering it")
    common(q)
    q = tsub.add_parser("set", help="replace the whole taxonomy file by FILE, after checking it (keys used by "
                        "stored records cannot go)")
    q.add_argument("file", metavar="FILE.toml")
    common(q)
    p.set_defaults(func=_cmd_taxonomy)
