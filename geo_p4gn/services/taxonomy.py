"""Taxonomy administration: the data file of intervention types, actors and IKRN categories."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import taxonomy as tx
from .._errors import ValidationError
from .._files import atomic_write, locked
from ..identity import User, authorize
from ..store.base import Store

# -- taxonomy (the data file of types, actors and IKRN categories) ------------------------------------
#: Longest taxonomy file accepted by :func:`replace_taxonomy` (characters).
MAX_TAXONOMY_CHARS = 1_000_000


def _refuse_removing_used_keys(store: Store, old: tx.Taxonomy, new: tx.Taxonomy) -> None:
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


def _change_taxonomy(store: Store, user: User, path: str | Path | None, action: str,
                     change: Callable[[str, tx.Taxonomy], tuple[str, str, Any, Any]]) -> tx.Taxonomy:
    """Read the taxonomy file under a lock, ``change(text, taxonomy)`` -> ``(new_text, entity_id, before,
    after)``, check the result strictly (and that no used key goes), write it atomically, audit it, and
    give the store the new taxonomy. Returns the new taxonomy (the old one when nothing changed)."""
    path = Path(path) if path else tx.taxonomy_path()
    with locked(path):
        old_text = path.read_text(encoding="utf-8")
        old = tx.load_taxonomy(path)
        new_text, entity_id, before, after = change(old_text, old)
        new = tx.parse_taxonomy(new_text, "the new taxonomy")
        if new_text == old_text:
            new = old
        else:
            _refuse_removing_used_keys(store, old, new)
            atomic_write(path, new_text)
            try:
                store.log_event("taxonomy", entity_id, action, user.name, before, after)
            except BaseException:
                atomic_write(path, old_text)  # no change without its audit entry
                raise
    store.taxonomy = new  # the store's lazily loaded taxonomy: records are now checked against the new one
    return new


def add_taxonomy_term(store: Store, user: User, group: str, key: str, id_label: str, en_label: str, *,
                      active: bool = True, rank: int | None = None, color: str | None = None,
                      path: str | Path | None = None) -> tx.Term:
    """Add a term to ``group`` (``types``, ``actors`` or ``ikrn``) of the taxonomy file (admins).

    ``key``: lowercase snake-case, new in its group; both labels non-empty. ``path``: the taxonomy file
    (default :func:`geo_p4gn.taxonomy.taxonomy_path`, the file :func:`~geo_p4gn.taxonomy.load_taxonomy`
    reads). The file keeps its comments; the change is in the audit log (entity ``taxonomy``). Returns
    the new :class:`~geo_p4gn.taxonomy.Term`.
    """
    authorize(user, "manage_taxonomy")
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


def edit_taxonomy_labels(store: Store, user: User, group: str, key: str, *, id_label: str | None = None,
                         en_label: str | None = None, active: bool | None = None,
                         path: str | Path | None = None) -> tx.Term:
    """Change the labels (and whether forms offer it: ``active``) of one term (admins); its key never
    changes. Arguments left None stay as they are. Returns the term as it is now."""
    authorize(user, "manage_taxonomy")
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


def replace_taxonomy(store: Store, user: User, toml_text: str, *, path: str | Path | None = None
                     ) -> tx.Taxonomy:
    """Replace the whole taxonomy file by ``toml_text`` (admins), e.g. for a new year.

    The text must pass :func:`geo_p4gn.taxonomy.parse_taxonomy` (valid, unique snake-case keys, non-empty
    labels), and every key used by a stored record (deleted ones included) or, for IKRN, by a site must
    still be there: labels may change, keys in use never. Returns the new taxonomy.
    """
    authorize(user, "manage_taxonomy")
    if not isinstance(toml_text, str) or len(toml_text) > MAX_TAXONOMY_CHARS:
        msg = f"the new taxonomy must be TOML text of at most {MAX_TAXONOMY_CHARS:,} characters"
        raise ValidationError(msg)
    tx.parse_taxonomy(toml_text, "the new taxonomy")  # the reasons before taking the lock

    def change(text, old):
        return toml_text, "taxonomy", tx.taxonomy_dict(old), tx.taxonomy_dict(tx.parse_taxonomy(toml_text))

    return _change_taxonomy(store, user, path, "replace", change)
