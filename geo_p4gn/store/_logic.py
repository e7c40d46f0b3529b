"""The store's flows, written once for every SQL backend.

A backend supplies a handful of primitives (a write transaction, insert/update/select of rows, the
audit insert); :class:`SqlStoreLogic` supplies idempotent add, atomic batches, optimistic edits, soft
delete and restore, sites, history and the frames the rest of the package reads.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import json
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from .. import settings
from .._errors import ConflictError, NotFoundError, ValidationError
from ..boundaries import ASSIGNED, _raise_for
from ..records import FIELDS, Intervention, content_hashes, validate_record
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


def utcnow() -> str:
    """UTC now in the GeoPackage DATETIME form (YYYY-MM-DDTHH:MM:SS.SSSZ)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json_default(v: Any) -> Any:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    raise TypeError(type(v).__name__)


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
        out.append(dumps(d, default=_json_default, option=opts).decode())
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
            from ..boundaries import load_boundaries

            self._boundaries = load_boundaries()
        return self._boundaries

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            from ..taxonomy import load_taxonomy

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
        """(column names, row tuples without geometry, geometries) of the selected records."""
        raise NotImplementedError

    def _select_records(self, cur, ids: Sequence[str] | None, include_deleted: bool) -> list[dict]:
        cols, values, geoms = self._select_records_raw(cur, ids, include_deleted)
        rows = []
        for v, g in zip(values, geoms, strict=True):
            row = dict(zip(cols, v, strict=True), geometry=g)
            row["deleted"] = bool(row["deleted"])
            rows.append(row)
        return rows

    def _insert_records(self, cur, rows: list[dict]) -> None:
        raise NotImplementedError

    def _update_record(self, cur, row: dict) -> None:
        raise NotImplementedError

    def _select_sites(self, cur, ids: Sequence[str] | None) -> list[dict]:
        raise NotImplementedError

    def _insert_site(self, cur, row: dict) -> None:
        raise NotImplementedError

    def _update_site(self, cur, row: dict) -> None:
        raise NotImplementedError

    def _insert_audit(self, cur, entries: list[tuple]) -> None:
        raise NotImplementedError

    def _bump_revision(self, cur) -> None:
        raise NotImplementedError

    _PH: str  # the driver's parameter placeholder
    _AUDIT_SELECT: str  # the audit columns (AUDIT_FIELDS) as the backend selects them

    def _select_audit(self, cur, entity: str | None, entity_id: str | None, since_seq: int) -> list[tuple]:
        clauses: list[str] = [f"seq > {self._PH}"]
        params: list[object] = [since_seq]
        for column, value in (("entity", entity), ("entity_id", entity_id)):
            if value:
                clauses.append(f"{column} = {self._PH}")
                params.append(value)
        cur.execute(f"SELECT {self._AUDIT_SELECT} FROM audit WHERE {' AND '.join(clauses)} ORDER BY seq", params)
        return cur.fetchall()

    # -- shared checks -------------------------------------------------------------------------
    def _assign(self, recs: Sequence[Intervention]) -> list[str]:
        """Each record's kelurahan from its geometry with the boundaries' rule, in bulk (the record's own
        ``kelurahan_code`` is never trusted)."""
        if not recs:
            return []
        tax = self.taxonomy
        known = {(t, a) for t in tax.type_keys for a in tax.actor_keys}
        pairs = operator.attrgetter("type_key", "actor_key")
        for i, r in enumerate(recs, 1):
            if pairs(r) not in known:
                msg = f"record {i} ({r.id}): type {r.type_key!r} or actor {r.actor_key!r} is not in the taxonomy"
                raise ValidationError(msg)
        geoms = np.array([r.geometry for r in recs], dtype=object)
        points = shapely.get_type_id(geoms) == 0
        codes = np.full(len(recs), None, dtype=object)
        if points.any():
            pts = geoms[points]
            res = self.boundaries.assign(shapely.get_x(pts), shapely.get_y(pts))
            bad = np.flatnonzero(~res["status"].isin(ASSIGNED).to_numpy())
            if len(bad):
                j = np.flatnonzero(points)[bad[0]]
                _raise_for(res.iloc[bad[0]], pts[bad[0]].x, pts[bad[0]].y, f"record {j + 1} ({recs[j].id})")
            codes[points] = res["kelurahan_code"].to_numpy(dtype=object)
        out: list[str] = codes.tolist()
        for j in np.flatnonzero(~points).tolist():
            out[j] = self.boundaries.locate(geoms[j], f"record {j + 1} ({recs[j].id})")
        return out

    # -- interventions -------------------------------------------------------------------------
    def add(self, rec: Intervention, *, user: str) -> AddOutcome:
        """Store a new record. Same id and content again: ``"unchanged"``; other content: ConflictError."""
        result = self.add_many([rec], user=user)
        return "created" if result.created else "unchanged"

    def add_many(self, recs: Sequence[Intervention], *, user: str) -> BatchResult:
        """Store a batch in one transaction: every record, or none (any conflict aborts the batch)."""
        recs = list(recs)
        codes = self._assign(recs)
        now = utcnow()
        rows: list[dict] = []
        seen: dict[str, str] = {}
        for row in record_rows(recs, codes):
            if row["id"] in seen:
                if seen[row["id"]] != row["content_hash"]:
                    msg = f"record {row['id']}: appears twice in the batch with different content"
                    raise ConflictError(msg)
                continue
            seen[row["id"]] = row["content_hash"]
            row.update(created_by=user, created_at=now, updated_by=user, updated_at=now, deleted=False,
                       version=1, created_hash=row["content_hash"])
            rows.append(row)
        unchanged = len(recs) - len(rows)
        with self._write() as cur:
            existing = {}
            ids = [r["id"] for r in rows]
            for k in range(0, len(ids), _CHUNK):
                for old in self._select_records(cur, ids[k:k + _CHUNK], include_deleted=True):
                    existing[old["id"]] = old
            conflicts = [
                r["id"] for r in rows
                if r["id"] in existing and r["content_hash"] not in (
                    existing[r["id"]]["content_hash"], existing[r["id"]]["created_hash"])
            ]
            if conflicts:
                msg = (f"{len(conflicts)} record(s) already stored with different content (not overwritten): "
                       + ", ".join(conflicts[:5]) + (" ..." if len(conflicts) > 5 else ""))
                raise ConflictError(msg)
            new = [r for r in rows if r["id"] not in existing]
            unchanged += len(rows) - len(new)
            if new:
                self._insert_records(cur, new)
                self._insert_audit(cur, [("intervention", r["id"], "create", user, now, None, snap)
                                         for r, snap in zip(new, snapshots(new), strict=True)])
                self._bump_revision(cur)
        return BatchResult(created=len(new), unchanged=unchanged)

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
        """Records as a GeoDataFrame (columns ``FIELDS``), filtered with :class:`~geo_p4gn.filters.Filters`."""
        with self._read() as cur:
            cols, values, geoms = self._select_records_raw(cur, None, include_deleted)
        # column-wise: a frame of 100k records in a fraction of a second
        data = pd.DataFrame.from_records(values, columns=list(cols), nrows=len(values))
        for f in ("date", "end_date"):  # as datetime.date objects; each distinct day converted once
            days = {v: _as_date(v) for v in pd.unique(data[f].to_numpy(dtype=object))}
            data[f] = pd.Series([days[v] for v in data[f].to_numpy(dtype=object)], index=data.index, dtype=object)
        data["deleted"] = data["deleted"].astype(bool)
        data["participants"] = data["participants"].astype("Int64")
        data["version"] = data["version"].astype("int64")
        frame = gpd.GeoDataFrame(data[[f for f in FIELDS if f != "geometry"]],
                                 geometry=gpd.GeoSeries(geoms, index=data.index, crs=settings.crs), crs=settings.crs)
        if filters is not None and len(frame):
            sites = self.list_sites() if filters.ikrn else None
            frame = frame[filters.record_mask(frame, sites)]
        return frame.reset_index(drop=True)

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

    def audit_log(self, *, entity: str | None = None, since_seq: int = 0) -> pd.DataFrame:
        with self._read() as cur:
            rows = self._select_audit(cur, entity, None, since_seq)
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
            return json.dumps(v, sort_keys=True, ensure_ascii=False, default=_json_default)

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
    return dt.date.fromisoformat(v) if isinstance(v, str) else v


def _frame(rows: list[dict], fields: Sequence[str]) -> gpd.GeoDataFrame:
    cols = [f for f in fields if f != "geometry"]
    data = pd.DataFrame([{c: r[c] for c in cols} for r in rows], columns=cols)
    geoms = [r["geometry"] for r in rows]
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=settings.crs), crs=settings.crs)
