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

Restore is :mod:`geo_p4gn.store.restore`, called through :func:`geo_p4gn.services.restore_store`.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
from pathlib import Path

from .. import services, settings
from .._errors import P4gnError, PermissionDenied, ValidationError
from ..auth import load_users
from ..spreadsheet import neutralise
from ..taxonomy import GROUPS, diff_taxonomy, load_taxonomy, taxonomy_dict, taxonomy_path
from .common import _open, _safe, add_store_argument, add_user_argument, cli_user


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


def _cell(v) -> str:
    return neutralise("" if v is None else str(v))


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

    counts = ", ".join(f"{len(getattr(tax, g))} {g}" for g in GROUPS)
    print(f"{path} (year {tax.year if tax.year is not None else '-'}): {counts}")
    for group in GROUPS:
        print(f"\n[{group}]")
        print("key\tid\ten\tactive")
        for t in getattr(tax, group):
            print(f"{t.key}\t{t.id}\t{t.en}\t{'yes' if t.active else 'no'}")


def _cmd_taxonomy(args: argparse.Namespace) -> int:

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
