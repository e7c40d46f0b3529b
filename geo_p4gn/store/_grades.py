"""IKRN grades in the store: BNN's yearly category per kelurahan (:mod:`geo_p4gn.ikrn`), on every SQL backend.

One row of ``ikrn_grades`` per (year, kelurahan). An import is one transaction: rows new to the store are
created, rows whose category or source changed are updated, the same rows again change nothing (an import is
idempotent). Every created or updated row writes an audit entry (entity ``ikrn``, entity id
``<year>/<kelurahan code>``, actions ``create`` / ``update``, before and after) and the revision moves.
A kelurahan with no row for a year was not surveyed: unknown, never Aman.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from .._errors import ValidationError

#: Columns of :meth:`IkrnGrades.ikrn_grades`, in order.
GRADE_COLUMNS = ("year", "kelurahan_code", "category", "source", "imported_by", "imported_at")
GRADES_DDL = (
    "CREATE TABLE IF NOT EXISTS ikrn_grades ({fid}, year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100), "
    "kelurahan_code TEXT NOT NULL, category TEXT NOT NULL, source TEXT, imported_by TEXT NOT NULL, "
    "imported_at TEXT NOT NULL, UNIQUE (year, kelurahan_code))"
)


class IkrnGrades:
    """Mixin of the SQL stores: the IKRN grades (see the module docstring)."""

    _PH: str
    # Provided by SqlStoreLogic, the class every store combines this mixin with (declared for the type checker).
    _read: Callable[..., Any]
    _write: Callable[..., Any]
    _insert_audit: Callable[..., None]
    _bump_revision: Callable[..., None]
    _missing_tables: frozenset[str] = frozenset()

    def ikrn_grades(self) -> pd.DataFrame:
        """Every grade stored, by year then kelurahan code: :data:`GRADE_COLUMNS`."""
        if "ikrn_grades" in self._missing_tables:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "year" else object) for c in GRADE_COLUMNS})
        with self._read() as cur:
            cur.execute(f"SELECT {', '.join(GRADE_COLUMNS)} FROM ikrn_grades ORDER BY year, kelurahan_code")
            rows = cur.fetchall()
        frame = pd.DataFrame([(int(r[0]), *(None if v is None else str(v) for v in r[1:])) for r in rows],
                             columns=list(GRADE_COLUMNS))
        return frame.astype({"year": "int64"})

    def import_ikrn_grades(self, grades: pd.DataFrame, *, user: str) -> dict[str, int]:
        """Store ``grades`` (``year``, ``kelurahan_code``, ``category``, ``source``) in one transaction;
        returns ``{"created", "updated", "unchanged"}``."""
        from ._logic import utcnow  # _logic builds on this mixin: a top-level import would be circular

        if "ikrn_grades" in self._missing_tables:
            msg = (f"the store {getattr(self, 'url', '')} has no ikrn_grades table yet (made by an older version, "
                   "read-only here): open it once where it is writable, or as the tables' owner")
            raise ValidationError(msg)
        ph, now = self._PH, utcnow()
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        with self._write() as cur:
            cur.execute("SELECT year, kelurahan_code, category, source FROM ikrn_grades")
            stored = {(int(r[0]), str(r[1])): (str(r[2]), None if r[3] is None else str(r[3])) for r in cur.fetchall()}
            entries: list[tuple[str, str, str, str, str, str | None, str]] = []
            for g in grades.itertuples(index=False):
                key = (int(g.year), str(g.kelurahan_code))
                value = (str(g.category), None if g.source is None or pd.isna(g.source) else str(g.source))
                after = {"year": key[0], "kelurahan_code": key[1], "category": value[0], "source": value[1]}
                old = stored.get(key)
                if old == value:
                    counts["unchanged"] += 1
                    continue
                if old is None:
                    cur.execute(f"INSERT INTO ikrn_grades ({', '.join(GRADE_COLUMNS)}) VALUES ({', '.join([ph] * 6)})",
                                (*key, *value, user, now))
                    entries.append(("ikrn", f"{key[0]}/{key[1]}", "create", user, now, None, _dumps(after)))
                    counts["created"] += 1
                else:
                    cur.execute(f"UPDATE ikrn_grades SET category = {ph}, source = {ph}, imported_by = {ph}, "
                                f"imported_at = {ph} WHERE year = {ph} AND kelurahan_code = {ph}",
                                (*value, user, now, *key))
                    before = {"year": key[0], "kelurahan_code": key[1], "category": old[0], "source": old[1]}
                    entries.append(("ikrn", f"{key[0]}/{key[1]}", "update", user, now, _dumps(before), _dumps(after)))
                    counts["updated"] += 1
                stored[key] = value
            if entries:
                self._insert_audit(cur, entries)
                self._bump_revision(cur)
        return counts


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
