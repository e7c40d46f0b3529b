"""Duplicate reviews in the store: a manager's decision on a flagged pair, kept on every SQL backend.

A decision is a row of ``duplicate_reviews``:

- ``decision = 'duplicate'``: ``record_id`` reports the same event as ``other_id`` (the record kept). A record
  is a duplicate of at most one other; the record kept may not itself be a duplicate, and a record that is
  kept for others may not be marked a duplicate (no chains: unmark first). Confirmed duplicates are left out
  of every coverage figure (:func:`geo_p4gn.duplicates.without_confirmed`).
- ``decision = 'distinct'``: keep both, the pair is two events (``record_id < other_id``).

Each decision, each change of one and each undo ("unmark") writes an audit entry (entity ``duplicate``,
entity id ``<record_id>/<other_id>``, actions ``mark_duplicate``, ``keep_both``, ``unmark``) in the same
transaction, and moves the store's revision (caches keyed on :meth:`data_version` are dropped). The records
themselves are never changed: an unmark restores every figure.

The table is created by both backends' schema code and, for a store made before it existed, at open
(:data:`REVIEWS_DDL`, the backends' ``_migrate``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from .._errors import NotFoundError, ValidationError
from ._logic import utcnow

#: Columns of :meth:`DuplicateReviews.duplicate_reviews`, in order.
REVIEW_FIELDS = ("record_id", "other_id", "decision", "decided_by", "decided_at")
DECISIONS = ("duplicate", "distinct")

#: The table, for SQLite and PostgreSQL alike; ``{fid}`` is the backend's integer key column.
REVIEWS_DDL = (
    "CREATE TABLE IF NOT EXISTS duplicate_reviews ({fid}, record_id TEXT NOT NULL, other_id TEXT NOT NULL, "
    "decision TEXT NOT NULL CHECK (decision IN ('duplicate', 'distinct')), decided_by TEXT NOT NULL, "
    "decided_at TEXT NOT NULL, UNIQUE (record_id, other_id), CHECK (record_id <> other_id))"
)


class DuplicateReviews:
    """Mixin of :class:`~geo_p4gn.store._logic.SqlStoreLogic`: the review decisions (see the module docstring)."""

    _PH: str
    # Provided by SqlStoreLogic, the class every store combines this mixin with (declared for the type checker).
    _read: Callable[..., Any]
    _write: Callable[..., Any]
    _insert_audit: Callable[..., None]
    _bump_revision: Callable[..., None]
    _select_records_raw: Callable[..., Any]
    #: Extra tables this store object found missing and could not create (a read-only store made before them).
    _missing_tables: frozenset[str] = frozenset()

    def _need_table(self, table: str) -> None:
        if table in self._missing_tables:
            msg = (f"the store {getattr(self, 'url', '')} has no {table} table yet (it was made by an older "
                   "version and is read-only here): open it once where it is writable, or as the tables' owner")
            raise ValidationError(msg)

    def _review_rows(self, cur, where: str = "", params: tuple = ()) -> list[tuple[str, ...]]:
        cur.execute(f"SELECT {', '.join(REVIEW_FIELDS)} FROM duplicate_reviews {where} ORDER BY fid", params)
        return [tuple(str(v) for v in row) for row in cur.fetchall()]

    def duplicate_reviews(self) -> pd.DataFrame:
        """Every decision, oldest first: :data:`REVIEW_FIELDS`."""
        if "duplicate_reviews" in self._missing_tables:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REVIEW_FIELDS})
        with self._read() as cur:
            rows = self._review_rows(cur)
        return pd.DataFrame(rows, columns=list(REVIEW_FIELDS), dtype=object)

    def confirmed_duplicates(self) -> frozenset[str]:
        """The ids of the records confirmed as duplicates of another (left out of coverage)."""
        reviews = self.duplicate_reviews()
        return frozenset(reviews.loc[reviews["decision"] == "duplicate", "record_id"])

    def _visible_ids(self, cur, ids) -> set[str]:
        _, values, _ = self._select_records_raw(cur, list(ids), False)
        return {str(v[1]) for v in values}  # (fid, id, ...)

    def review_duplicate(self, record_id: str, other_id: str, decision: str, *, user: str) -> str:
        """Decide on a pair: ``"duplicate"`` (``record_id`` is a duplicate of ``other_id``) or ``"distinct"``
        (keep both). Returns ``"created"``, ``"updated"`` (another decision on the record or pair replaced) or
        ``"unchanged"``. Refuses unknown or deleted records and chains (see the module docstring)."""

        self._need_table("duplicate_reviews")
        record_id, other_id = str(record_id).strip().lower(), str(other_id).strip().lower()
        if decision not in DECISIONS:
            msg = f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}"
            raise ValidationError(msg)
        if record_id == other_id:
            msg = f"record {record_id} cannot be a duplicate of itself"
            raise ValidationError(msg)
        if decision == "distinct" and other_id < record_id:
            record_id, other_id = other_id, record_id
        ph = self._PH
        now = utcnow()
        with self._write() as cur:
            missing = sorted({record_id, other_id} - self._visible_ids(cur, (record_id, other_id)))
            if missing:
                msg = f"no intervention with id {', '.join(missing)} (or it is deleted)"
                raise NotFoundError(msg)
            pair = self._review_rows(cur, f"WHERE (record_id = {ph} AND other_id = {ph}) OR (record_id = {ph} AND "
                                     f"other_id = {ph})", (record_id, other_id, other_id, record_id))
            replaced = list(pair)
            if decision == "duplicate":
                if any(r[0] == record_id and r[2] == "duplicate" and r[1] == other_id for r in pair):
                    return "unchanged"
                mine = self._review_rows(cur, f"WHERE record_id = {ph} AND decision = 'duplicate'", (record_id,))
                replaced += [r for r in mine if r not in replaced]
                of_other = self._review_rows(cur, f"WHERE record_id = {ph} AND decision = 'duplicate'", (other_id,))
                of_other = [r for r in of_other if r[1] != record_id]
                if of_other:
                    msg = (f"record {other_id} is itself marked as a duplicate of {of_other[0][1]}: mark {record_id} "
                           f"as a duplicate of {of_other[0][1]} instead")
                    raise ValidationError(msg)
                kept_for = self._review_rows(cur, f"WHERE other_id = {ph} AND decision = 'duplicate'", (record_id,))
                kept_ids = [r[0] for r in kept_for if r[0] != other_id]
                if kept_ids:
                    msg = (f"record {record_id} is kept as the original of {', '.join(kept_ids)}: unmark "
                           f"{'that' if len(kept_ids) == 1 else 'those'} first")
                    raise ValidationError(msg)
                action = "mark_duplicate"
            else:
                if any(r[2] == "distinct" for r in pair):
                    return "unchanged"
                action = "keep_both"
            entries = []
            for r in replaced:
                cur.execute(f"DELETE FROM duplicate_reviews WHERE record_id = {ph} AND other_id = {ph}", (r[0], r[1]))
            cur.execute(f"INSERT INTO duplicate_reviews ({', '.join(REVIEW_FIELDS)}) VALUES ({', '.join([ph] * 5)})",
                        (record_id, other_id, decision, user, now))
            after = dict(zip(REVIEW_FIELDS, (record_id, other_id, decision, user, now), strict=True))
            before = [dict(zip(REVIEW_FIELDS, r, strict=True)) for r in replaced]
            entries.append(("duplicate", f"{record_id}/{other_id}", action, user, now,
                            _dumps(before[0] if len(before) == 1 else before or None), _dumps(after)))
            self._insert_audit(cur, entries)
            self._bump_revision(cur)
        return "updated" if replaced else "created"

    def unreview_duplicate(self, record_id: str, other_id: str | None = None, *, user: str) -> int:
        """Undo decisions: ``record_id``'s duplicate mark, or with ``other_id`` whatever was decided on that
        pair (a keep-both too). Each undone decision is audited (``unmark``); returns how many. None to undo
        raises :class:`~geo_p4gn.NotFoundError`."""

        self._need_table("duplicate_reviews")
        record_id = str(record_id).strip().lower()
        ph = self._PH
        now = utcnow()
        with self._write() as cur:
            if other_id is None:
                rows = self._review_rows(cur, f"WHERE record_id = {ph} AND decision = 'duplicate'", (record_id,))
            else:
                other_id = str(other_id).strip().lower()
                rows = self._review_rows(cur, f"WHERE (record_id = {ph} AND other_id = {ph}) OR (record_id = {ph} "
                                         f"AND other_id = {ph})", (record_id, other_id, other_id, record_id))
            if not rows:
                what = f"record {record_id}" + (f" and record {other_id}" if other_id else " as a duplicate")
                msg = f"nothing to unmark: no review decision on {what}"
                raise NotFoundError(msg)
            entries = []
            for r in rows:
                cur.execute(f"DELETE FROM duplicate_reviews WHERE record_id = {ph} AND other_id = {ph}", (r[0], r[1]))
                entries.append(("duplicate", f"{r[0]}/{r[1]}", "unmark", user, now,
                                _dumps(dict(zip(REVIEW_FIELDS, r, strict=True))), None))
            self._insert_audit(cur, entries)
            self._bump_revision(cur)
        return len(rows)


def _dumps(value) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
