"""The service layer: every action a person can take, each checked against their role first.

The app's pages and the ``geo-p4gn`` command are thin entry points over these functions, so a page that
is bypassed (a crafted request, a script, the CLI) gets the same answer as the UI: permissions live here,
never only in hidden buttons. Each function takes the store and a :class:`User` (a verified identity
already mapped to a role, see :mod:`geo_p4gn.auth`), calls :func:`authorize`, then the store.

Roles
-----
``petugas`` (field team)
    records interventions; corrects or deletes their OWN records created within the last
    :data:`geo_p4gn.settings.own_edit_days` days; sees their own records and the site registry.
``perencana`` (planner)
    reads everything; exports for internal use (not the public exports).
``pimpinan`` (manager)
    planner + public exports + the site registry + importing files.
``admin``
    everything: users and roles, taxonomy, any edit or delete, restoring deleted records, the audit
    log, backups and restores.

:data:`ROLE_ACTIONS` is the whole matrix; ``tests/unit/test_auth_matrix.py`` walks every cell.

Nothing here keeps state between calls: no module-level caches, no current user. Frames returned are
fresh objects; an app that caches them must key the cache on the user's role and name (see
:func:`cache_scope`).

Examples
--------
>>> petugas = User("ani@example.org", "petugas")
>>> can(petugas, "record"), can(petugas, "export")
(True, False)
>>> authorize(petugas, "export")
Traceback (most recent call last):
...
geo_p4gn._errors.PermissionDenied: ani@example.org (petugas, field team) may not export data for internal use
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from .._errors import NotFoundError, PermissionDenied, ValidationError
from ..filters import Filters
from ..identity import (  # noqa: F401 - the services are the door: callers take these from here too
    ACTIONS,
    OWN_ACTIONS,
    ROLE_ACTIONS,
    ROLES,
    SINGLE_USER,
    User,
    allowed_actions,
    authorize,
    cache_scope,
    can,
)
from ..records import Intervention, validate_record


def _authorize_record_change(user: User, own: str, anyone: str, rec: Intervention,
                             now: dt.datetime | None) -> None:
    if anyone in allowed_actions(user):
        return
    authorize(user, own, record=rec, now=now)


# -- interventions -------------------------------------------------------------------------------
def record_intervention(store, user: User, raw: dict) -> tuple[Intervention, str]:
    """Validate and store one new intervention made by ``user``; return it and ``"created"``/``"unchanged"``.

    ``raw`` is the form's dict (see :func:`geo_p4gn.records.validate_record`); its ``id`` is made when the
    form opens, so a double submit stores one record. The record's who/when come from the store.
    """
    authorize(user, "record")
    rec = validate_record(raw, taxonomy=store.taxonomy, locate=store.boundaries.locate)
    outcome = store.add(rec, user=user.name)
    stored = store.get(rec.id, include_deleted=True)
    if stored.created_by != user.name and "read" not in allowed_actions(user):
        return rec, outcome  # the same content stored earlier by someone else: do not show who
    return stored, outcome


def sees_authors(user: User) -> bool:
    """Whether the user may see who created and edited any record (``created_by``, ``updated_by``, the
    record history): administrators only. Everyone else sees it for the records they made themselves."""
    return "audit_read" in allowed_actions(user)


def _without_authors(frame, user: User):
    """The records frame with who created and edited each record left out, for readers who are not admins.

    Per role, not per person (the app shares one cached frame among the people of a role); a field team's
    frame holds their own records only, so it keeps the names."""
    if sees_authors(user) or "read" not in allowed_actions(user):
        return frame
    for col in ("created_by", "updated_by"):
        if col in frame.columns:
            frame[col] = None
    return frame


def get_intervention(store, user: User, rec_id: str, *, include_deleted: bool = False) -> Intervention:
    """One record. Field teams get only their own (others are "not found", leaking nothing); readers who are
    not admins get others' records without who created or edited them."""
    if include_deleted:
        authorize(user, "restore")
    if "read" in allowed_actions(user):
        rec = store.get(rec_id, include_deleted=include_deleted)
        if sees_authors(user) or rec.created_by == user.name:
            return rec
        return dataclasses.replace(rec, created_by=None, updated_by=None)
    authorize(user, "read_own")
    rec = store.get(rec_id, include_deleted=include_deleted)
    if rec.created_by != user.name:
        msg = f"no intervention with id {rec_id}"
        raise NotFoundError(msg)
    return rec


def edit_intervention(store, user: User, rec_id: str, changes: dict, expected_version: int | None = None, *,
                      now: dt.datetime | None = None) -> Intervention:
    """Edit a record (``changes`` as in :meth:`Store.update`); own recent records, or any with ``edit_any``."""
    rec = store.get(rec_id)
    _authorize_record_change(user, "edit_own", "edit_any", rec, now)
    return store.update(rec_id, changes, user=user.name, expected_version=expected_version)


def delete_intervention(store, user: User, rec_id: str, *, now: dt.datetime | None = None) -> None:
    """Soft-delete a record: own recent records, or any with ``delete_any``. Admins can restore it."""
    rec = store.get(rec_id)
    _authorize_record_change(user, "delete_own", "delete_any", rec, now)
    store.delete(rec_id, user=user.name)


def restore_intervention(store, user: User, rec_id: str) -> None:
    """Undo a soft delete (admins)."""
    authorize(user, "restore")
    store.restore(rec_id, user=user.name)


def list_interventions(store, user: User, filters: Filters | None = None, *, include_deleted: bool = False):
    """Records as a GeoDataFrame: all of them for roles that ``read``; a field team's own otherwise.

    ``include_deleted`` (to find what to restore) needs ``restore``.
    """
    if include_deleted:
        authorize(user, "restore")
    if "read" in allowed_actions(user):
        return _without_authors(store.list(filters, include_deleted=include_deleted), user)
    authorize(user, "read_own")
    frame = store.list(filters, include_deleted=include_deleted)
    return frame[frame["created_by"] == user.name].reset_index(drop=True)


def record_history(store, user: User, rec_id: str):
    """The audit entries of one record (who created and edited it, when, before and after): administrators,
    and the person who made the record. Planners and managers read records, not who made them."""
    if not sees_authors(user):
        rec = get_intervention(store, user, rec_id)  # a field team: own record, else "not found"
        if rec.created_by != user.name:
            msg = (f"{user.label} may not see who created and edited record {rec_id}: only the person who "
                   "made it and administrators may")
            raise PermissionDenied(msg)
    return store.history(rec_id)


# -- sites ---------------------------------------------------------------------------------------
def list_sites(store, user: User):
    authorize(user, "read_sites")
    return store.list_sites()


def upsert_site(store, user: User, site: dict) -> str:
    """Add or edit a site (managers, admins); returns ``"created"``, ``"updated"`` or ``"unchanged"``."""
    authorize(user, "manage_sites")
    return store.upsert_site(site, user=user.name)


def site_history(store, user: User, site_id: str):
    """The audit entries of one site (whoever may change the registry)."""
    authorize(user, "manage_sites")
    log = store.audit_log(entity="site")
    return log[log["entity_id"] == site_id].reset_index(drop=True)


# -- audit, backup -------------------------------------------------------------------------------
def audit_log(store, user: User, *, entity: str | None = None, since_seq: int = 0):
    """The audit log (admins). It is append-only for everyone: no service edits it."""
    authorize(user, "audit_read")
    return store.audit_log(entity=entity, since_seq=since_seq)


def backup_store(store, user: User, out: str | Path) -> Path:
    """A consistent copy of the store at ``out`` while others keep writing (admins)."""
    authorize(user, "backup")
    out = Path(out)
    store.backup(str(out))
    return out


def restore_store(user: User, backup: str | Path, target: str, *, boundaries=None, taxonomy=None,
                  safety_dir: str | Path | None = None) -> dict:
    """Replace the store at ``target`` by ``backup`` (admins), after checking the backup; the store as it
    was is kept aside. See :func:`geo_p4gn.cli.admin.restore_from`."""
    authorize(user, "restore_backup")
    from ..store.restore import restore_from

    return restore_from(backup, target, user=user.name, boundaries=boundaries, taxonomy=taxonomy,
                        safety_dir=safety_dir)


# -- coverage ------------------------------------------------------------------------------------
def _coverage_inputs(store, user: User, filters: Filters | None):
    """Records (every filter is applied by coverage; the store only trims what lies after the window) and
    sites, for roles that read every record."""
    authorize(user, "read")
    filters = filters or Filters()
    records = list_interventions(store, user, Filters(date_to=filters.date_to))
    return records, list_sites(store, user), filters


def coverage_table(store, user: User, level: str = "kelurahan", filters: Filters | None = None, *,
                   as_of: dt.date | None = None, areas=None, taxonomy=None):
    """The coverage table of :func:`geo_p4gn.coverage.coverage_table` over the store (planners and up).
    ``areas`` (the kelurahan table) and ``taxonomy`` default to the store's."""
    from .. import coverage

    records, sites, filters = _coverage_inputs(store, user, filters)
    return coverage.coverage_table(records, sites, store.boundaries.kelurahan if areas is None else areas,
                                   store.taxonomy if taxonomy is None else taxonomy, level, filters, as_of=as_of)


def gap_list(store, user: User, filters: Filters | None = None, *, levels=("site", "kelurahan"),
             as_of: dt.date | None = None, areas=None, taxonomy=None):
    """The ranked gap list of :func:`geo_p4gn.coverage.gap_list` over the store (planners and up)."""
    from .. import coverage

    records, sites, filters = _coverage_inputs(store, user, filters)
    return coverage.gap_list(records, sites, store.boundaries.kelurahan if areas is None else areas,
                             store.taxonomy if taxonomy is None else taxonomy, filters, levels=tuple(levels),
                             as_of=as_of)


# -- setting up a store --------------------------------------------------------------------------
def seed_actions(starter: bool) -> tuple[str, ...]:
    """What :func:`seed_store` needs: adding the seed sites changes the registry; the starter records are
    an import."""
    return ("manage_sites", "import") if starter else ("manage_sites",)


def seed_store(store, user: User, *, starter: bool = True) -> dict[str, int]:
    """Add the seed sites (and the cited starter interventions) as ``user`` (managers, admins); idempotent.
    Returns what was created (:func:`geo_p4gn.seed.seed_store`)."""
    for action in seed_actions(starter):
        authorize(user, action)
    from .. import seed

    return seed.seed_store(store, starter=starter, user=user.name)


def grant_app_role(store, user: User, role: str) -> list[str]:
    """Let the database role ``role`` use a PostGIS store without owning it (admins); returns the
    statements run. Refused for a GeoPackage store."""
    authorize(user, "manage_database")
    if not hasattr(store, "grant_app_role"):
        msg = "db grant-app-role needs a PostGIS store (a postgresql:// URL in --store or GEO_P4GN_STORE)"
        raise ValidationError(msg)
    return list(store.grant_app_role(role))


# -- import and export ---------------------------------------------------------------------------
def import_file(store, user: User, path: str | Path, **kw: Any):
    """Import a CSV, XLSX or GeoJSON file (managers, admins) after the upload limits are checked.

    Keyword arguments go to :func:`geo_p4gn.importers.import_file` (``dry_run``, ``rejects_path``,
    ``progress``), except ``name``: the user's file name, for the limits' messages. The limits are
    checked first, by streaming, so a 1 GB file or a zip bomb is refused before any parser sees it.
    """
    authorize(user, "import")
    from .. import limits

    limits.check_upload(path, name=kw.pop("name", None))
    from .. import importers

    return importers.import_file(store, path, user=user.name, **kw)


def _export_action(public: bool) -> str:
    return "export_public" if public else "export"


def export_records(store, user: User, out: str | Path, fmt: str, filters: Filters | None = None,
                   public: bool = False, **kw: Any):
    """Write the (filtered) records as csv/xlsx/geojson/gpkg (:func:`geo_p4gn.render.data.export_records`;
    ``kw``: hxl, lang); returns the number of records written. ``public`` exports need ``export_public``."""
    authorize(user, _export_action(public))
    from ..render import data as export_data

    kw.setdefault("boundaries", store.boundaries)
    kw.setdefault("taxonomy", store.taxonomy)
    return export_data.export_records(store, out, fmt, filters, public=public, **kw)


def export_html(store, user: User, out: str | Path | None, filters: Filters | None = None, public: bool = False,
                **kw: Any) -> str:
    """The shareable HTML map (:func:`geo_p4gn.render.html.export_html`), written to ``out`` unless None;
    returns the page. Internal maps need ``export``, public ones ``export_public``. ``kw``: lang, metric,
    tiles, as_of."""
    authorize(user, _export_action(public))
    from ..render import html as _export_html

    kw.setdefault("boundaries", store.boundaries)
    kw.setdefault("taxonomy", store.taxonomy)
    return _export_html.export_html(store, out, filters, public=public, **kw)


# -- users (delegates to auth) -------------------------------------------------------------------
def add_user(user: User, name: str, role: str, *, password: str | None = None, path=None) -> None:
    authorize(user, "manage_users")
    from .. import auth

    auth.add_user(name, role, password=password, path=path)


def set_role(user: User, name: str, role: str, *, path=None) -> None:
    authorize(user, "manage_users")
    from .. import auth

    auth.set_role(name, role, path=path)


def set_password(user: User, name: str, password: str, *, path=None) -> None:
    """Admins set anyone's password; everyone may change their own."""
    if name != user.name:
        authorize(user, "manage_users")
    from .. import auth

    auth.set_password(name, password, path=path)


def remove_user(user: User, name: str, *, path=None) -> None:
    authorize(user, "manage_users")
    from .. import auth

    auth.remove_user(name, path=path)


def list_users(user: User, *, path=None) -> list[User]:
    authorize(user, "manage_users")
    from .. import auth

    return auth.list_users(path=path)


# -- taxonomy (the data file of types, actors and IKRN categories) ------------------------------------
#: Longest taxonomy file accepted by :func:`replace_taxonomy` (characters).
MAX_TAXONOMY_CHARS = 1_000_000


def _refuse_removing_used_keys(store, old, new) -> None:
    """Raise ValidationError when a key of ``old`` missing from ``new`` is used by a stored record (deleted
    ones included) or, for IKRN categories, by a site."""
    removed = {g: [t.key for t in getattr(old, g) if t.key not in {n.key for n in getattr(new, g)}]
               for g in ("types", "actors", "ikrn")}
    if not any(removed.values()):
        return
    problems = []
    if removed["types"] or removed["actors"]:
        recs = store.list(include_deleted=True)
        for group, column in (("types", "type_key"), ("actors", "actor_key")):
            counts = recs[column].value_counts().to_dict() if len(recs) else {}
            problems += [f"{group} key {k!r} is used by {counts[k]} stored record(s) (deleted ones included)"
                         for k in removed[group] if counts.get(k)]
    if removed["ikrn"]:
        sites = store.list_sites()
        counts = sites["ikrn"].value_counts().to_dict() if len(sites) else {}
        problems += [f"ikrn key {k!r} is used by {counts[k]} site(s)" for k in removed["ikrn"] if counts.get(k)]
    if problems:
        msg = ("; ".join(problems) + ": a key in use can never be removed or renamed. Keep the key and "
               "change its labels, or set active = false to stop offering it")
        raise ValidationError(msg)


def _change_taxonomy(store, user: User, path, action: str, change):
    """Read the taxonomy file under a lock, ``change(text, taxonomy)`` -> ``(new_text, entity_id, before,
    after)``, check the result strictly (and that no used key goes), write it atomically, audit it, and
    give the store the new taxonomy. Returns the new taxonomy (the old one when nothing changed)."""
    from .. import taxonomy as tx

    path = Path(path) if path else tx.taxonomy_path()
    with tx.locked(path):
        old_text = path.read_text(encoding="utf-8")
        old = tx.load_taxonomy(path)
        new_text, entity_id, before, after = change(old_text, old)
        new = tx.parse_taxonomy(new_text, "the new taxonomy")
        if new_text == old_text:
            new = old
        else:
            _refuse_removing_used_keys(store, old, new)
            tx.write_text_atomically(path, new_text)
            try:
                store.log_event("taxonomy", entity_id, action, user.name, before, after)
            except BaseException:
                tx.write_text_atomically(path, old_text)  # no change without its audit entry
                raise
    store.taxonomy = new  # the store's lazily loaded taxonomy: records are now checked against the new one
    return new


def add_taxonomy_term(store, user: User, group: str, key: str, id_label: str, en_label: str, *,
                      active: bool = True, rank: int | None = None, color: str | None = None,
                      path: str | Path | None = None):
    """Add a term to ``group`` (``types``, ``actors`` or ``ikrn``) of the taxonomy file (admins).

    ``key``: lowercase snake-case, new in its group; both labels non-empty. ``path``: the taxonomy file
    (default :func:`geo_p4gn.taxonomy.taxonomy_path`, the file :func:`~geo_p4gn.taxonomy.load_taxonomy`
    reads). The file keeps its comments; the change is in the audit log (entity ``taxonomy``). Returns
    the new :class:`~geo_p4gn.taxonomy.Term`.
    """
    authorize(user, "manage_taxonomy")
    from .. import taxonomy as tx

    tx.check_group(group)
    term = tx.Term(key=tx.check_key(key), id=tx.check_label(id_label, f"{group} {key!r} label 'id'"),
                   en=tx.check_label(en_label, f"{group} {key!r} label 'en'"), active=active, rank=rank,
                   color=color)

    def change(text, old):
        if key in {t.key for t in getattr(old, group)}:
            msg = (f"{group}: key {key!r} already exists ({old.label(group, key)}); choose another key, or "
                   "change the labels of that one")
            raise ValidationError(msg)
        return tx.add_term_text(text, group, term), f"{group}.{key}", None, dataclasses.asdict(term)

    new = _change_taxonomy(store, user, path, "create", change)
    return new.term(group, key)


def edit_taxonomy_labels(store, user: User, group: str, key: str, *, id_label: str | None = None,
                         en_label: str | None = None, active: bool | None = None,
                         path: str | Path | None = None):
    """Change the labels (and whether forms offer it: ``active``) of one term (admins); its key never
    changes. Arguments left None stay as they are. Returns the term as it is now."""
    authorize(user, "manage_taxonomy")
    from .. import taxonomy as tx

    tx.check_group(group)
    changes: dict[str, Any] = {}
    if id_label is not None:
        changes["id"] = tx.check_label(id_label, f"{group} {key!r} label 'id'")
    if en_label is not None:
        changes["en"] = tx.check_label(en_label, f"{group} {key!r} label 'en'")
    if active is not None:
        changes["active"] = bool(active)
    if not changes:
        msg = f"{group} {key!r}: nothing to change (give a label or active)"
        raise ValidationError(msg)

    def change(text, old):
        try:
            term = old.term(group, key)
        except KeyError:
            msg = f"{group}: no entry with key {key!r} (keys: {', '.join(t.key for t in getattr(old, group))})"
            raise ValidationError(msg) from None
        edited = dataclasses.replace(term, **changes)
        if edited == term:
            return text, "", None, None
        return (tx.edit_term_text(text, group, key, changes), f"{group}.{key}", dataclasses.asdict(term),
                dataclasses.asdict(edited))

    new = _change_taxonomy(store, user, path, "update", change)
    return new.term(group, key)


def replace_taxonomy(store, user: User, toml_text: str, *, path: str | Path | None = None):
    """Replace the whole taxonomy file by ``toml_text`` (admins), e.g. for a new year.

    The text must pass :func:`geo_p4gn.taxonomy.parse_taxonomy` (valid, unique snake-case keys, non-empty
    labels), and every key used by a stored record (deleted ones included) or, for IKRN, by a site must
    still be there: labels may change, keys in use never. Returns the new taxonomy.
    """
    authorize(user, "manage_taxonomy")
    from .. import taxonomy as tx

    if not isinstance(toml_text, str) or len(toml_text) > MAX_TAXONOMY_CHARS:
        msg = f"the new taxonomy must be TOML text of at most {MAX_TAXONOMY_CHARS:,} characters"
        raise ValidationError(msg)
    tx.parse_taxonomy(toml_text, "the new taxonomy")  # the reasons before taking the lock

    def change(text, old):
        return toml_text, "taxonomy", tx.taxonomy_dict(old), tx.taxonomy_dict(tx.parse_taxonomy(toml_text))

    return _change_taxonomy(store, user, path, "replace", change)
