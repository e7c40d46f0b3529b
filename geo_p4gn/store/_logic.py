"""The store's flows, written once for every SQL backend.

A backend supplies a handful of primitives (a write transaction, insert/update/select of rows, the
audit insert); :class:`SqlStoreLogic` supplies idempotent add, atomic batches, optimistic edits, soft
delete and restore, sites, history and the frames the rest of the package reads.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import datetime as dt
import json
import operator
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from .. import _json, settings
from .._errors import ConflictError, NotFoundError, ValidationError
from ..boundaries import ASSIGNED, _raise_for
from ..records import (
    BATCH_COLUMNS,
    FIELDS,
    Intervention,
    RecordColumns,
    content_hashes,
    geometry_points,
    validate_record,
)
from ..sites import SITE_FIELDS, validate_site
from .base import AUDIT_FIELDS, AddOutcome, BatchResult, SiteOutcome

if TYPE_CHECKING:
    from ..boundaries import Boundaries
    from ..filters import Filters
    from ..taxonomy import Taxonomy

#: Record columns kept in the database besides FIELDS.
HASH_FIELDS = ("content_hash", "created_hash")
#: Columns of a stored site row besides SITE_FIELDS.
SITE_META = ("created_by", "created_at", "updated_by", "updated_at", "version")
_CHUNK = 500
#: The dtype of the records frame's ``date`` and ``end_date`` columns: converted once, when the store is
#: read, so that filters, coverage, timelines and exports never parse dates again (issue 16).
DATE_DTYPE = "datetime64[ms]"
#: Text columns of the records frame (pandas ``str``, NaN when missing).
TEXT_COLUMNS = ("id", "type_key", "actor_key", "organisation", "site_id", "kelurahan_code", "notes", "created_by",
                "created_at", "updated_by", "updated_at")
#: Above this share of the visible records changed since the last read, a full read is cheaper than a refresh.
_REFRESH_SHARE = 0.05
#: How the ``after`` of a new record's audit entry begins. The entry holds who made the record and when (its
#: own columns), the record's id and its content hash, ``{"created_hash": "..."}``, written by the database
#: from the rows just inserted (one ``INSERT ... SELECT``, no text made per record in Python). The content at
#: creation is not copied again: it is the stored row while the record is at version 1 and, after that, the
#: ``before`` of its first change (every change writes its whole ``before``); :meth:`SqlStoreLogic.history`
#: and :meth:`SqlStoreLogic.audit_log` put it back in the entry they return, and the hash proves it. A copy
#: of every new record made the audit 44 of a 100k-row import's 122 MB and about a third of its time (issue 16).
COMPACT_CREATE = '{"created_hash"'
#: Above this many such entries still at version 1, their content is found by one read of every record.
_EXPAND_READ_ALL = 5000


def utcnow() -> str:
    """UTC now in the GeoPackage DATETIME form (YYYY-MM-DDTHH:MM:SS.SSSZ)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def snapshots(rows: Sequence[dict]) -> list[str]:
    """JSON texts of rows for the audit log: every field but the hashes, geometry as full-precision WKT
    (computed in one vectorised call).

    Encoded with orjson: an import writes one snapshot per row, and the standard library's encoder
    took 1.4 s of a 100k-row import against about 0.2 s (measured with ``bench/bench_import.py``).
    """
    wkts = shapely.to_wkt(np.array([r["geometry"] for r in rows], dtype=object), rounding_precision=-1)
    dumps, opts = orjson.dumps, orjson.OPT_SERIALIZE_NUMPY
    out = []
    for row, wkt in zip(rows, wkts, strict=True):
        d = row.copy()
        for k in HASH_FIELDS:
            d.pop(k, None)
        d["geometry"] = wkt
        out.append(dumps(d, default=_json.default, option=opts).decode())
    return out


def snapshot(row: dict) -> str:
    return snapshots([row])[0]


def record_rows(recs: Sequence[Intervention], codes: Sequence[str]) -> list[dict[str, Any]]:
    """Stored rows of records, with the kelurahan the store assigned and the content hash."""
    rows, get = [], operator.attrgetter(*FIELDS)
    for rec, code, h in zip(recs, codes, content_hashes(recs), strict=True):
        row = dict(zip(FIELDS, get(rec)))
        row["kelurahan_code"] = code
        row["content_hash"] = h
        rows.append(row)
    return rows


#: Rows written per chunk by a batch (the whole batch is still one transaction).
ROW_CHUNK = 10_000


class HashColumn:
    """The content hashes of a batch, made a slice at a time when a backend writes that slice (200 000
    hashes held at once are 22 MB); the last slice is kept, so ``content_hash`` and ``created_hash`` of a
    chunk are hashed once."""

    __slots__ = ("_batch", "_last")

    def __init__(self, batch: RecordColumns) -> None:
        self._batch = batch
        self._last: tuple[tuple[int, int] | None, Any] = (None, None)

    def __len__(self) -> int:
        return len(self._batch)

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key:key + 1][0] if key >= 0 else self[len(self) + key]
        start, stop, _ = key.indices(len(self))
        if self._last[0] != (start, stop):
            self._last = ((start, stop), np.array(self._batch.content_hashes_slice(start, stop), dtype=object))
        return self._last[1]


def new_row_columns(batch: RecordColumns, codes: np.ndarray, user: str, now: str) -> dict[str, Any]:
    """The stored columns (FIELDS and HASH_FIELDS) of new records, one array (or :class:`HashColumn`,
    :class:`~geo_p4gn.records.GeometryColumn`) each: what a backend's ``_insert_records`` writes, a slice
    at a time."""
    n = len(batch)
    cols: dict[str, Any] = {f: batch.column(f) for f in FIELDS if f in BATCH_COLUMNS}
    cols["kelurahan_code"] = np.asarray(codes, dtype=object)
    for f, v in (("created_by", user), ("created_at", now), ("updated_by", user), ("updated_at", now),
                 ("deleted", False), ("version", 1)):
        one = np.empty(1, dtype=object)
        one[0] = v
        cols[f] = np.broadcast_to(one, (n,))  # one value for every row: a read-only view, no array of n
    cols["content_hash"] = cols["created_hash"] = HashColumn(batch)
    return cols


def row_columns(rows: Sequence[dict]) -> dict[str, np.ndarray]:
    """Stored rows (dicts) as the columns ``_insert_records`` takes."""
    out = {}
    for f in (*FIELDS, *HASH_FIELDS):
        arr = np.empty(len(rows), dtype=object)
        arr[:] = [r[f] for r in rows]
        out[f] = arr
    return out


def iso_days(col: np.ndarray) -> np.ndarray:
    """Days (``date`` objects, ISO text or None) as ISO text, each distinct day converted once."""
    codes, uniques = pd.factorize(np.asarray(col, dtype=object), use_na_sentinel=True)
    iso = [u if isinstance(u, str) else u.isoformat() for u in uniques]
    return np.array([*iso, None], dtype=object)[codes]


def row_record(row: dict) -> Intervention:
    kw = {f: row[f] for f in FIELDS}
    for f in ("date", "end_date"):
        if isinstance(kw[f], str):
            kw[f] = dt.date.fromisoformat(kw[f])
    kw["deleted"] = bool(kw["deleted"])
    kw["notes"] = kw["notes"] or ""
    if isinstance(kw["geometry"], str):
        kw["geometry"] = shapely.from_wkt(kw["geometry"])
    return Intervention(**kw)


def _user_raw(rec: Intervention) -> dict[str, Any]:
    """An Intervention as the raw dict validate_record reads (to apply edits)."""
    return {
        "id": rec.id, "date": rec.date, "end_date": rec.end_date, "type": rec.type_key,
        "actor": rec.actor_key, "organisation": rec.organisation, "site_id": rec.site_id,
        "participants": rec.participants, "notes": rec.notes, "geometry": rec.geometry,
    }


class SqlStoreLogic:
    """Mixin with the store's flows. Backends implement the ``_`` primitives below."""

    url: str

    def __init__(self, *, boundaries=None, taxonomy=None) -> None:
        self._boundaries = boundaries
        self._taxonomy = taxonomy
        self._visible: _Snapshot | None = None  # the visible records as last read (see list())
        self._visible_lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    # -- lazily loaded reference data ----------------------------------------------------------
    @property
    def boundaries(self) -> Boundaries:
        if self._boundaries is None:
            from ..boundaries import load_boundaries  # the default only when none is given: it costs seconds

            self._boundaries = load_boundaries()
        return self._boundaries

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            from ..taxonomy import load_taxonomy  # likewise, when the caller gave none

            self._taxonomy = load_taxonomy()
        return self._taxonomy

    @taxonomy.setter
    def taxonomy(self, value: Taxonomy) -> None:
        """Check records against another taxonomy from now on (after an administrator changed the file)."""
        self._taxonomy = value

    # -- primitives each backend implements ----------------------------------------------------
    def _write(self) -> contextlib.AbstractContextManager:  # yields a cursor in one write transaction
        raise NotImplementedError

    def _read(self) -> contextlib.AbstractContextManager:  # yields a cursor for reading
        raise NotImplementedError

    def _select_records_raw(self, cur, ids: Sequence[str] | None, include_deleted: bool
                            ) -> tuple[Sequence[str], list[tuple], np.ndarray]:
        """(column names, row tuples without geometry, geometries) of the selected records, in ``fid`` order;
        the first column is ``fid`` (the row's position in the table), then the stored columns."""
        raise NotImplementedError

    def _select_records(self, cur, ids: Sequence[str] | None, include_deleted: bool) -> list[dict]:
        cols, values, geoms = self._select_records_raw(cur, ids, include_deleted)
        rows = []
        for v, g in zip(values, geoms, strict=True):
            row = dict(zip(cols, v, strict=True), geometry=g)
            del row["fid"]
            row["deleted"] = bool(row["deleted"])
            rows.append(row)
        return rows

    def _insert_records(self, cur, cols: dict[str, np.ndarray]) -> None:
        """Insert new records given as columns (:func:`new_row_columns`: every stored column and the
        geometry, one array each), a chunk of :data:`ROW_CHUNK` rows at a time."""
        raise NotImplementedError

    def _update_record(self, cur, row: dict) -> None:
        raise NotImplementedError

    def _select_sites(self, cur, ids: Sequence[str] | None) -> list[dict]:
        raise NotImplementedError

    def _insert_site(self, cur, row: dict) -> None:
        raise NotImplementedError

    def _update_site(self, cur, row: dict) -> None:
        raise NotImplementedError

    def _insert_audit(self, cur, entries: Iterable[tuple]) -> None:
        raise NotImplementedError

    def _max_fid(self, cur) -> int:
        """The largest record fid (0 in an empty store): the batch written next gets the fids above it."""
        cur.execute("SELECT coalesce(max(fid), 0) FROM interventions")
        return int(cur.fetchone()[0])

    def _audit_creates(self, cur, after_fid: int, n: int, user: str, now: str) -> None:
        """One ``create`` entry (:data:`COMPACT_CREATE`) for each of the ``n`` records above ``after_fid``, in
        fid order, made by the database from the rows themselves; anything but ``n`` entries is an error
        (writers are serialised, so the rows above ``after_fid`` are this batch's)."""
        raise NotImplementedError

    def _bump_revision(self, cur) -> None:
        raise NotImplementedError

    _PH: str  # the driver's parameter placeholder
    _AUDIT_SELECT: str  # the audit columns (AUDIT_FIELDS) as the backend selects them

    def _select_audit(self, cur, entity: str | None, entity_id: str | None, since_seq: int,
                      contents: bool = True) -> list[tuple]:
        clauses: list[str] = [f"seq > {self._PH}"]
        params: list[object] = [since_seq]
        for column, value in (("entity", entity), ("entity_id", entity_id)):
            if value:
                clauses.append(f"{column} = {self._PH}")
                params.append(value)
        cur.execute(f"SELECT {self._AUDIT_SELECT} FROM audit WHERE {' AND '.join(clauses)} ORDER BY seq", params)
        rows = cur.fetchall()
        return self._expand_creates(cur, rows) if contents else rows

    def _expand_creates(self, cur, rows: list[tuple]) -> list[tuple]:
        """``rows`` (audit entries as selected) with each compact create entry (:data:`COMPACT_CREATE`)
        given the record's whole content at creation: the ``before`` of the record's first change, or the
        stored row when it has not changed since. An entry whose record is gone stays as stored."""
        todo = {str(r[2]): i for i, r in enumerate(rows)
                if r[3] == "create" and r[1] == "intervention" and r[7] and r[7].startswith(COMPACT_CREATE)}
        if not todo:
            return rows
        ids = builtins.list(todo)
        where, params = "", []
        if len(ids) <= _CHUNK:  # one record's history, or a short log: only its records' entries
            where, params = f" AND entity_id IN ({', '.join([self._PH] * len(ids))})", ids
        cur.execute(f"SELECT {self._AUDIT_SELECT} FROM audit WHERE entity = 'intervention' AND action <> 'create' "
                    f"AND before IS NOT NULL{where} ORDER BY seq", params)
        content: dict[str, str] = {}
        for r in cur.fetchall():
            if str(r[2]) in todo:
                content.setdefault(str(r[2]), r[6])
        rest = [rid for rid in ids if rid not in content]
        # still at version 1: the stored row is the content at creation (many: one read of every record)
        parts = ([rest[k:k + _CHUNK] for k in range(0, len(rest), _CHUNK)] if len(rest) <= _EXPAND_READ_ALL
                 else [None])
        for part in parts:
            stored = self._select_records(cur, part, include_deleted=True)
            if part is None:
                stored = [r for r in stored if r["id"] in todo and r["id"] not in content]
            if stored:
                content.update(zip((r["id"] for r in stored), snapshots(stored), strict=True))
        out = builtins.list(rows)
        for rid, i in todo.items():
            if rid in content:
                out[i] = (*out[i][:7], content[rid])
        return out

    # -- shared checks -------------------------------------------------------------------------
    def _assign(self, recs: Sequence[Intervention]) -> list[str]:
        """Each record's kelurahan from its geometry with the boundaries' rule, in bulk (the record's own
        ``kelurahan_code`` is never trusted)."""
        if not len(recs):
            return []
        batch = RecordColumns.from_records(recs)
        ids = batch.ids
        tax = self.taxonomy
        known = {(t, a) for t in tax.type_keys for a in tax.actor_keys}
        for i, pair in enumerate(zip(batch.column("type_key"), batch.column("actor_key"), strict=True), 1):
            if pair not in known:
                msg = (f"record {i} ({ids[i - 1]}): type {pair[0]!r} or actor {pair[1]!r} is not in the "
                       "taxonomy")
                raise ValidationError(msg)
        geoms = batch.column("geometry")
        points, x, y = geometry_points(geoms)
        codes = np.full(len(batch), None, dtype=object)
        if points.any():
            px, py = x[points], y[points]
            res = self.boundaries.assign(px, py)
            bad = np.flatnonzero(~res["status"].isin(ASSIGNED).to_numpy())
            if len(bad):
                j = np.flatnonzero(points)[bad[0]]
                _raise_for(res.iloc[bad[0]], float(px[bad[0]]), float(py[bad[0]]), f"record {j + 1} ({ids[j]})")
            code_of, uniques = pd.factorize(res["kelurahan_code"])  # one string per kelurahan, not per record
            codes[points] = np.append(np.asarray(uniques, dtype=object), [None])[code_of]
        out: list[str] = codes.tolist()
        for j in np.flatnonzero(~points).tolist():
            out[j] = self.boundaries.locate(geoms[j], f"record {j + 1} ({ids[j]})")
        return out

    # -- interventions -------------------------------------------------------------------------
    def add(self, rec: Intervention, *, user: str) -> AddOutcome:
        """Store a new record. Same id and content again: ``"unchanged"``; other content: ConflictError."""
        result = self.add_many([rec], user=user)
        return "created" if result.created else "unchanged"

    def add_many(self, recs: Sequence[Intervention], *, user: str) -> BatchResult:
        """Store a batch in one transaction: every record, or none (any conflict aborts the batch).

        ``recs`` may be a :class:`~geo_p4gn.records.RecordColumns` (what the importer makes): the batch is
        then checked, hashed and written column by column, in chunks, with no per-record object."""
        batch = RecordColumns.from_records(recs)
        n = len(batch)
        codes = np.array(self._assign(batch), dtype=object)
        now = utcnow()
        ids = batch.ids
        keep = np.ones(n, dtype=bool)
        index = pd.Index(ids, dtype=object)
        repeated = index.duplicated(keep="first") if n else np.zeros(0, dtype=bool)
        if repeated.any():  # the same id twice: a repeat of the same content is no new record
            twice = np.flatnonzero(index.duplicated(keep=False))
            seen: dict[str, str] = {}
            for i, h in zip(twice.tolist(), batch.take(twice).content_hashes(), strict=True):
                rid = ids[i]
                if rid not in seen:
                    seen[rid] = h
                elif seen[rid] != h:
                    msg = f"record {rid}: appears twice in the batch with different content"
                    raise ConflictError(msg)
            keep = ~repeated
        del index
        unchanged = int(n - keep.sum())
        with self._write() as cur:
            rows = np.flatnonzero(keep)
            existing: dict[str, tuple] = {}
            want = ids[rows].tolist()
            cur.execute("SELECT 1 FROM interventions LIMIT 1")
            empty = cur.fetchone() is None  # a first import: no id to look up
            for k in range(0, 0 if empty else len(want), _CHUNK):
                for old in self._select_records(cur, want[k:k + _CHUNK], include_deleted=True):
                    existing[old["id"]] = (old["content_hash"], old["created_hash"])
            if existing:
                found = np.array([i for i in rows.tolist() if ids[i] in existing], dtype=np.int64)
                conflicts = [ids[i] for i, h in zip(found.tolist(), batch.take(found).content_hashes(), strict=True)
                             if h not in existing[ids[i]]]
                if conflicts:
                    msg = (f"{len(conflicts)} record(s) already stored with different content (not overwritten): "
                           + ", ".join(conflicts[:5]) + (" ..." if len(conflicts) > 5 else ""))
                    raise ConflictError(msg)
                rows = np.array([i for i in rows.tolist() if ids[i] not in existing], dtype=np.int64)
            unchanged += len(want) - len(rows)
            if len(rows):
                whole = len(rows) == n  # (a first import: no copy of the batch)
                new = new_row_columns(batch if whole else batch.take(rows), codes if whole else codes[rows],
                                      user, now)
                last = self._max_fid(cur)
                self._insert_records(cur, new)
                self._audit_creates(cur, last, len(rows), user, now)
                self._bump_revision(cur)
        return BatchResult(created=len(rows), unchanged=unchanged)

    def _current(self, cur, rec_id: str, include_deleted: bool = True) -> dict:
        rows = self._select_records(cur, [rec_id], include_deleted=include_deleted)
        if not rows:
            msg = f"no intervention with id {rec_id}"
            raise NotFoundError(msg)
        return rows[0]

    def get(self, rec_id: str, *, include_deleted: bool = False) -> Intervention:
        with self._read() as cur:
            return row_record(self._current(cur, rec_id, include_deleted))

    def update(self, rec_id: str, changes: dict, *, user: str, expected_version: int | None = None
               ) -> Intervention:
        """Edit a record: validate the merged content, keep the previous version in the history.

        ``changes`` uses the input keys of :func:`~geo_p4gn.records.validate_record` (date, type,
        actor, organisation, participants, notes, site_id, geometry or lon/lat ...). With
        ``expected_version`` the edit is refused when someone else changed the record meanwhile.
        """
        current = self.get(rec_id)
        if expected_version is not None and current.version != expected_version:
            msg = f"record {rec_id}: changed by someone else (version {current.version}, expected {expected_version})"
            raise ConflictError(msg)
        raw = _user_raw(current)
        if "lon" in changes or "lat" in changes:
            raw.pop("geometry")
        raw.update({k: v for k, v in changes.items() if k != "id"})
        new = validate_record(raw, taxonomy=self.taxonomy)
        row = record_rows([new], self._assign([new]))[0]
        if row["content_hash"] == current.content_hash():
            return current
        now = utcnow()
        with self._write() as cur:
            old = self._current(cur, rec_id, include_deleted=False)
            if old["version"] != current.version:
                msg = f"record {rec_id}: changed by someone else while editing (version {old['version']})"
                raise ConflictError(msg)
            row.update(created_by=old["created_by"], created_at=old["created_at"], updated_by=user,
                       updated_at=now, deleted=False, version=old["version"] + 1,
                       created_hash=old["created_hash"])
            self._update_record(cur, row)
            self._insert_audit(cur, [("intervention", rec_id, "update", user, now, snapshot(old), snapshot(row))])
            self._bump_revision(cur)
        return row_record(row)

    def _set_deleted(self, rec_id: str, user: str, deleted: bool) -> None:
        now = utcnow()
        with self._write() as cur:
            old = self._current(cur, rec_id, include_deleted=True)
            if bool(old["deleted"]) == deleted:
                return
            row = dict(old, deleted=deleted, updated_by=user, updated_at=now, version=old["version"] + 1)
            self._update_record(cur, row)
            action = "delete" if deleted else "restore"
            self._insert_audit(cur, [("intervention", rec_id, action, user, now, snapshot(old), snapshot(row))])
            self._bump_revision(cur)

    def delete(self, rec_id: str, *, user: str) -> None:
        """Soft delete: the record stays, hidden from lists and coverage, and can be restored."""
        self._set_deleted(rec_id, user, True)

    def restore(self, rec_id: str, *, user: str) -> None:
        self._set_deleted(rec_id, user, False)

    def list(self, filters: Filters | None = None, *, include_deleted: bool = False) -> gpd.GeoDataFrame:
        """Records as a GeoDataFrame (columns ``FIELDS``, in the order they were stored), filtered with
        :class:`~geo_p4gn.filters.Filters`. ``date`` and ``end_date`` are ``datetime64`` (NaT: no end day).

        The visible records are kept from one call to the next and refreshed from the audit log: after a
        write only the records changed since the last read are read again (a full read happens the first
        time, after a restore, or when many records changed). The frame returned is a shallow copy (pandas
        copy-on-write): changing it never changes what the store keeps.
        """
        if include_deleted:
            frame = self._read_all()
        else:
            frame = self._visible_frame().copy(deep=False)
        if filters is not None and len(frame):
            sites = self.list_sites() if filters.ikrn else None
            frame = frame[filters.record_mask(frame, sites).to_numpy()].reset_index(drop=True)
        return frame

    # -- the records frame, read once and refreshed ------------------------------------------------------
    def _revision(self, cur) -> str:
        cur.execute("SELECT value FROM p4gn_meta WHERE key = 'revision'")
        return str(cur.fetchone()[0])

    def _audit_mark(self, cur) -> tuple:
        """The last audit entry (seq, entity, entity_id, action, at): where a refresh starts from."""
        cur.execute("SELECT seq, entity, entity_id, action, at FROM audit ORDER BY seq DESC LIMIT 1")
        row = cur.fetchone()
        return (0, None, None, None, None) if row is None else (int(row[0]), *map(str, row[1:]))

    def _fast_read(self) -> tuple[dict, np.ndarray, np.ndarray] | None:
        """A backend's faster full read of the visible records: (columns, geometries, fids), or None."""
        return None

    def _read_all(self, include_deleted: bool = True) -> gpd.GeoDataFrame:
        with self._read() as cur:
            cols, values, geoms = self._select_records_raw(cur, None, include_deleted)
        frame, _ = _records_frame(_columns(cols, values), geoms)
        return frame

    def _full_snapshot(self) -> _Snapshot:
        """Every visible record: the backend's fast read when it has one, brought up to date with what
        changed while it ran (the audit entries after the mark read before it), else one SQL read."""
        with self._read() as cur:
            revision, mark = self._revision(cur), self._audit_mark(cur)
        fast = self._fast_read()
        if fast is not None:
            frame, fids = _records_frame(fast[0], fast[1], fids=fast[2])
            # a record created while the file was read may be in it already: no assume_new
            refreshed = self._refresh(_Snapshot(revision, mark, frame, fids), assume_new=False)
            if refreshed is not None:
                return refreshed
        with self._read() as cur:
            revision, mark = self._revision(cur), self._audit_mark(cur)
            cols, values, geoms = self._select_records_raw(cur, None, False)
        frame, fids = _records_frame(_columns(cols, values), geoms)
        return _Snapshot(revision, mark, frame, fids)

    def _refresh(self, snap: _Snapshot, *, assume_new: bool = True) -> _Snapshot | None:
        """``snap`` brought up to the store's current revision from the audit log, or None when only a
        full read will do (a restore, a history that is not the one ``snap`` was read from, many changes).

        Every change to a record writes an audit entry in the same transaction, and writers are serialised
        (``BEGIN IMMEDIATE``, an advisory lock), so the entries after ``snap``'s last one name every record
        changed since. ``assume_new``: a record created since is not in ``snap`` (true when ``snap`` was
        read in one transaction with its mark)."""
        with self._read() as cur:
            revision = self._revision(cur)
            if revision == snap.revision:
                return snap
            seq = snap.mark[0]
            cur.execute(f"SELECT seq, entity, entity_id, action, at FROM audit WHERE seq >= {self._PH} "
                        "ORDER BY seq", (seq,))
            entries = cur.fetchall()
            if seq and (not entries or (int(entries[0][0]), *map(str, entries[0][1:])) != snap.mark):
                return None  # the entry it was read at is gone or another one: another history (a restore)
            entries = entries[1:] if seq else entries
            if any(e[1] == "store" for e in entries):
                return None
            changed = list(dict.fromkeys(e[2] for e in entries if e[1] == "intervention"))
            if len(changed) > max(1000, _REFRESH_SHARE * len(snap.frame)):
                return None
            mark = (int(entries[-1][0]), *map(str, entries[-1][1:])) if entries else snap.mark
            parts: tuple[list[Sequence[str]], list[tuple], list[Any]] = [], [], []
            for k in range(0, len(changed), _CHUNK):
                cols, values, geoms = self._select_records_raw(cur, changed[k:k + _CHUNK], True)
                parts[0].append(cols)
                parts[1].extend(values)
                parts[2].extend(geoms)
        if not changed:
            return _Snapshot(revision, mark, snap.frame, snap.fids)
        new, new_fids = _records_frame(_columns(parts[0][0], parts[1]), np.array(parts[2], dtype=object))
        visible = ~new["deleted"].to_numpy(dtype=bool)
        new, new_fids = new[visible], new_fids[visible]
        old, old_fids = snap.frame, snap.fids
        creates_only = all(e[3] == "create" for e in entries if e[1] == "intervention")
        if not (assume_new and creates_only):
            stay = ~old["id"].isin(changed).to_numpy(dtype=bool)
            if not stay.all():
                old, old_fids = old[stay], old_fids[stay]
        frame = pd.concat([old, new], ignore_index=True) if len(new) else old.reset_index(drop=True)
        fids = np.concatenate([old_fids, new_fids])
        if len(fids) > 1 and not (np.diff(fids) > 0).all():  # a restored or edited record: back in its place
            order = np.argsort(fids, kind="stable")
            frame, fids = frame.take(order).reset_index(drop=True), fids[order]
        return _Snapshot(revision, mark, frame, fids)

    def _visible_frame(self) -> gpd.GeoDataFrame:
        """The visible records at the store's current revision (shared: treat as read-only)."""
        with self._visible_lock:
            snap = self._visible
            new = self._refresh(snap) if snap is not None else None
            if new is None:
                self._visible = None  # the old frame is not kept alive while the new one is read
                del snap
                new = self._full_snapshot()
            self._visible = new
            return new.frame

    def history(self, rec_id: str) -> pd.DataFrame:
        """The audit entries of one record, oldest first."""
        with self._read() as cur:
            rows = self._select_audit(cur, "intervention", rec_id, 0)
        return pd.DataFrame(rows, columns=list(AUDIT_FIELDS))

    def versions(self, rec_id: str) -> builtins.list[Intervention]:
        """Every version the record has had, oldest first (from the audit log)."""
        out = []
        for after in self.history(rec_id)["after"]:
            out.append(row_record(json.loads(after)))
        return out

    def audit_log(self, *, entity: str | None = None, since_seq: int = 0, contents: bool = True) -> pd.DataFrame:
        """The audit entries after ``since_seq``, oldest first. Without ``contents`` a new record's entry
        keeps its stored ``after`` (:data:`COMPACT_CREATE`, the content hash): for a listing that shows no
        ``before``/``after``, read in a fraction of the time (100k creates: 2.7 s with the contents)."""
        with self._read() as cur:
            rows = self._select_audit(cur, entity, None, since_seq, contents)
        return pd.DataFrame(rows, columns=list(AUDIT_FIELDS))

    def log_event(self, entity: str, entity_id: str, action: str, user: str, before: object = None,
                  after: object = None) -> None:
        """Append one audit entry about a change kept outside the store's tables (e.g. ``"taxonomy"``, the
        taxonomy file), in its own write transaction. ``before``/``after``: JSON-able data, JSON text or None.
        The revision moves too, so caches keyed on :meth:`data_version` drop what they computed before."""
        if entity in ("intervention", "site") or not all(isinstance(v, str) and v for v in (entity, entity_id,
                                                                                             action, user)):
            msg = f"log_event: {entity!r} entries are written by the store itself, or an argument is empty"
            raise ValidationError(msg)

        def dumps(v):
            if v is None or isinstance(v, str):
                return v
            return json.dumps(v, sort_keys=True, ensure_ascii=False, default=_json.default)

        with self._write() as cur:
            self._insert_audit(cur, [(entity, entity_id, action, user, utcnow(), dumps(before), dumps(after))])
            self._bump_revision(cur)

    def mark_restored(self, *, backup: str, safety_copy: str | None, previous: int, user: str) -> int:
        """After :mod:`geo_p4gn.store.restore` wrote a backup into this store: move the revision past both
        the restored one and ``previous`` (the store's before the restore), so caches keyed on
        :meth:`data_version` never serve the old data, and write the restore to the audit log. Returns the
        new revision."""
        with self._write() as cur:
            cur.execute("SELECT value FROM p4gn_meta WHERE key = 'revision'")
            new = max(int(cur.fetchone()[0]), int(previous)) + 1
            cur.execute(f"UPDATE p4gn_meta SET value = {self._PH} WHERE key = 'revision'", (str(new),))
            after = json.dumps({"backup": backup, "safety_copy": safety_copy, "revision": new}, sort_keys=True,
                               ensure_ascii=False)
            self._insert_audit(cur, [("store", "store", "restore", user, utcnow(), None, after)])
        return new

    # -- sites ---------------------------------------------------------------------------------
    def upsert_site(self, site: dict, *, user: str) -> SiteOutcome:
        """Add or edit a site (validated, kelurahan assigned); every change is audited."""
        row = validate_site(site, taxonomy=self.taxonomy, boundaries=self.boundaries, row=f"site {site.get('id')}")
        now = utcnow()
        with self._write() as cur:
            outcome: SiteOutcome
            found = self._select_sites(cur, [row["id"]])
            if found:
                old = found[0]
                if snapshot({k: old[k] for k in SITE_FIELDS}) == snapshot(row):
                    return "unchanged"
                row.update(created_by=old["created_by"], created_at=old["created_at"], updated_by=user,
                           updated_at=now, version=old["version"] + 1)
                self._update_site(cur, row)
                self._insert_audit(cur, [("site", row["id"], "update", user, now, snapshot(old), snapshot(row))])
                outcome = "updated"
            else:
                row.update(created_by=user, created_at=now, updated_by=user, updated_at=now, version=1)
                self._insert_site(cur, row)
                self._insert_audit(cur, [("site", row["id"], "create", user, now, None, snapshot(row))])
                outcome = "created"
            self._bump_revision(cur)
        return outcome

    def get_site(self, site_id: str) -> dict:
        with self._read() as cur:
            rows = self._select_sites(cur, [site_id])
        if not rows:
            msg = f"no site with id {site_id!r}"
            raise NotFoundError(msg)
        return rows[0]

    def list_sites(self) -> gpd.GeoDataFrame:
        with self._read() as cur:
            rows = self._select_sites(cur, None)
        frame = _frame(rows, SITE_FIELDS + SITE_META)
        frame["approximate"] = frame["approximate"].astype(bool)
        return frame


def _as_date(v):
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    """The visible records as read at ``revision``, the last audit entry then (``mark``) and their fids."""

    revision: str
    mark: tuple
    frame: gpd.GeoDataFrame
    fids: np.ndarray


def _columns(cols: Sequence[str], values: list[tuple]) -> dict[str, np.ndarray]:
    """Row tuples as one object array per column."""
    if not values:
        return {c: np.array([], dtype=object) for c in cols}
    arrays = list(zip(*values, strict=True))
    return {c: np.array(a, dtype=object) for c, a in zip(cols, arrays, strict=True)}


def as_dates(values) -> np.ndarray:
    """Days (``datetime.date``, ISO text, numpy or pandas dates, None) as ``DATE_DTYPE``; each distinct
    value converted once."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values.astype(DATE_DTYPE)
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    days = pd.to_datetime(pd.Index([_as_date(u) for u in uniques], dtype=object)).to_numpy(dtype=DATE_DTYPE)
    return np.append(days, np.datetime64("NaT", "ms"))[codes]


def _records_frame(data: dict, geoms, fids=None) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The records frame (columns FIELDS, the dtypes every reader gets) from columns, and the fids."""
    fids = np.asarray(data["fid"] if fids is None else fids, dtype=np.int64)
    n = len(fids)
    cols = {}
    for f in FIELDS:
        if f == "geometry":
            continue
        v = data[f]
        if f in ("date", "end_date"):
            cols[f] = as_dates(v)
        elif f in TEXT_COLUMNS:
            cols[f] = v if isinstance(v, pd.api.extensions.ExtensionArray) and v.dtype == "str" else pd.array(
                np.asarray(v, dtype=object), dtype="str")
        elif f == "participants" and isinstance(v, pd.api.extensions.ExtensionArray):
            cols[f] = v
        elif f == "participants":
            cols[f] = pd.array(v, dtype="Int64")
        elif f == "deleted":
            cols[f] = np.asarray(v).astype(bool)
        elif f == "version":
            cols[f] = np.asarray(v).astype("int64")
    data_frame = pd.DataFrame(cols, index=pd.RangeIndex(n), copy=False)
    frame = gpd.GeoDataFrame(data_frame, geometry=gpd.GeoSeries(geoms, index=data_frame.index, crs=settings.crs),
                             crs=settings.crs)
    return frame, fids


def _frame(rows: list[dict], fields: Sequence[str]) -> gpd.GeoDataFrame:
    cols = [f for f in fields if f != "geometry"]
    data = pd.DataFrame([{c: r[c] for c in cols} for r in rows], columns=cols)
    geoms = [r["geometry"] for r in rows]
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=settings.crs), crs=settings.crs)
