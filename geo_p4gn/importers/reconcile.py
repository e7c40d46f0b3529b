from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from .._errors import ConflictError, NotFoundError
from ..records import Intervention, RecordColumns
from ._common import Progress, _bulk
from .check import Reject, _check_table, _reject
from .read import read_rows
from .rejects import write_rejects


# -- importing -----------------------------------------------------------------------------------
@dataclasses.dataclass
class ImportReport:
    """What an import did. Every data row is counted once: accepted (stored, or would be in a dry
    run), duplicates (already stored with the same content, or repeated in the file), rejected
    (invalid) or conflicts (same id as a stored or earlier row, other content). Rejected and conflict
    rows are listed in ``rejects`` and written to the rejects file."""

    path: str
    rows: int
    accepted: int
    rejected: int
    duplicates: int
    conflicts: int
    dry_run: bool
    rejects: list[Reject]
    columns: dict[str, str]
    ignored_columns: tuple[str, ...]
    rejects_path: str | None = None
    accepted_ids: list[str] = dataclasses.field(default_factory=list, repr=False)
    #: Of ``duplicates``, the rows that match a stored record (the rest repeat an earlier row of the file).
    stored: int = 0

    def summary(self) -> dict[str, int]:
        return {"accepted": self.accepted, "rejected": self.rejected, "duplicates": self.duplicates,
                "conflicts": self.conflicts}


def _existing(store, recs: Sequence[Intervention]) -> tuple[list[int], list[tuple[int, str]]]:
    """Which records the store already holds: (duplicate indexes, [(conflict index, reason)]).

    Same rule as the store: a record is unchanged when its content equals the stored record's current
    content or the content it was first stored with.
    """
    if not len(recs):
        return [], []
    if len(recs) > 200:  # one read of the ids instead of many lookups
        stored = pd.Index(store.list(include_deleted=True)["id"], dtype=object)
        ids = recs.ids if isinstance(recs, RecordColumns) else [r.id for r in recs]
        candidates = np.flatnonzero(pd.Index(ids, dtype=object).isin(stored)).tolist()
    else:
        candidates = list(range(len(recs)))
    dups, conflicts = [], []
    for i in candidates:
        rec = recs[i]
        try:
            old = store.get(rec.id, include_deleted=True)
        except NotFoundError:
            continue
        h = rec.content_hash()
        if h == old.content_hash():
            dups.append(i)
            continue
        versions = store.versions(rec.id)
        if versions and versions[0].content_hash() == h:
            dups.append(i)
            continue
        state = " (deleted)" if old.deleted else ""
        reason = (f"id: {rec.id} is already stored{state} with different content; "
                  "not overwritten (edit the stored record, or give this row a new id)")
        conflicts.append((i, reason))
    return dups, conflicts


@contextlib.contextmanager
def _system_allocator() -> Iterator[None]:
    """Arrow's allocations (pandas' str columns) from the system allocator while a file is imported.

    Arrow's default pool (mimalloc) keeps freed blocks for reuse: after an 18 MB CSV was read and checked
    it held about 45 MB that no column used any more, a quarter of the import's peak (issue 10: memory
    within ~10x the file). Each buffer returns to the pool it came from, so switching back is safe."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pandas' str columns come with pyarrow here
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def import_file(
    store,
    path: str | os.PathLike,
    *,
    user: str,
    dry_run: bool = False,
    rejects_path: str | os.PathLike | None = None,
    progress: Progress | None = None,
    taxonomy=None,
    boundaries=None,
    source: str | None = None,
    lang: str = "id",
) -> ImportReport:
    """Import a CSV/XLSX/GeoJSON/Kobo file into ``store``; return an :class:`ImportReport`.

    Valid rows are written with one ``store.add_many`` (one transaction: all of them or none).
    Invalid rows, and rows whose id is already stored with other content, are rejected with a reason
    and written to ``rejects_path`` (a CSV) when given. A file that cannot be read raises
    :class:`P4gnError` and changes nothing. With ``dry_run`` nothing is written to the store.
    ``progress(stage, done, total)`` is called as stages advance (read, validate, locate, write).
    ``taxonomy`` and ``boundaries`` default to the store's. ``source`` is the file's name as the user
    knows it (default ``path``): a row without an id gets an id made from its content and that name
    (:func:`~geo_p4gn.importers.check.content_ids`), so the same file imported again adds nothing, and
    the report (a dry run too) counts the rows that match stored records (``stored``). The rejects file
    is written in ``lang`` ("id", the default, or "en"; :meth:`Reject.reason_in` gives a reason in either).
    """
    with _bulk(), _system_allocator():
        return _import_file(store, path, user=user, dry_run=dry_run, rejects_path=rejects_path,
                            progress=progress, taxonomy=taxonomy, boundaries=boundaries,
                            source=str(path) if source is None else source, lang=lang)


def _import_file(store, path, *, user, dry_run, rejects_path, progress, taxonomy, boundaries,
                 source, lang="id") -> ImportReport:
    taxonomy = taxonomy or getattr(store, "taxonomy", None)
    boundaries = boundaries or getattr(store, "boundaries", None)
    if taxonomy is None:
        from ..taxonomy import load_taxonomy  # likewise, when the caller gave none

        taxonomy = load_taxonomy()
    if boundaries is None:
        from ..boundaries import load_boundaries  # the default only when none is given: it costs seconds

        boundaries = load_boundaries()
    if progress:
        progress("read", 0, 0)
    table = read_rows(path)
    n = len(table)
    if progress:
        progress("read", n, n)
        progress("validate", 0, n)
    checked = _check_table(table, taxonomy, boundaries, store.list_sites(), progress, source)
    rejects = list(checked.rejects)
    recs, positions = checked.records, checked.positions

    # the same id twice in the file: a repeat is a duplicate, other content a conflict
    duplicates = 0
    ids = recs.ids
    repeated = np.flatnonzero(pd.Index(ids, dtype=object).duplicated(keep=False)) if len(recs) else np.zeros(0, dtype=np.int64)
    if len(repeated):  # only these rows are hashed here (the store hashes the batch once)
        hashes = dict(zip(repeated.tolist(), recs.take(repeated).content_hashes(), strict=True))
        first: dict[str, int] = {}
        drop = set()
        for k in repeated.tolist():
            j = first.setdefault(ids[k], k)
            if j == k:
                continue
            drop.add(k)
            if hashes[j] == hashes[k]:
                duplicates += 1
            else:
                reason = (f"id: {ids[k]} is already used by {table.label(positions[j])} with different content; "
                          "not imported")
                rejects.append(_reject(table, checked.columns, positions[k], reason, conflict=True))
        keep = [k for k in range(len(recs)) if k not in drop]
        recs, positions = recs.take(keep), [positions[k] for k in keep]

    if progress:
        progress("write", 0, len(recs))
    accepted = stored = 0
    if dry_run:  # every id is checked: ids made from content match the records of an earlier import
        dups, conflicts = _existing(store, recs)
        drop = set(dups) | {i for i, _ in conflicts}
        for i, reason in conflicts:
            rejects.append(_reject(table, checked.columns, positions[i], reason, conflict=True))
        duplicates += len(dups)
        stored = len(dups)
        accepted = len(recs) - len(drop)
        stored_ids = [rid for k, rid in enumerate(recs.ids.tolist()) if k not in drop]
    else:
        batch = list(range(len(recs)))
        for _attempt in range(3):
            try:
                result = store.add_many(recs if len(batch) == len(recs) else recs.take(batch), user=user)
                break
            except ConflictError:
                # someone holds some of these ids with other content: find them and keep the rest
                cand = list(batch)
                _, conflicts = _existing(store, recs.take(cand))
                if not conflicts:
                    raise
                bad = {cand[i] for i, _ in conflicts}
                for i, reason in conflicts:
                    rejects.append(_reject(table, checked.columns, positions[cand[i]], reason, conflict=True))
                batch = [k for k in batch if k not in bad]
        else:  # pragma: no cover - three rounds of writers racing on the same ids
            msg = f"{path}: other writers keep storing the same ids; nothing imported, try again"
            raise ConflictError(msg)
        accepted, duplicates, stored = result.created, duplicates + result.unchanged, result.unchanged
        stored_ids = recs.ids[batch].tolist()
    if progress:
        progress("write", len(recs), len(recs))

    rejects.sort(key=lambda r: r.pos)
    report = ImportReport(
        path=str(path), rows=n, accepted=accepted,
        rejected=sum(not r.conflict for r in rejects), duplicates=duplicates,
        conflicts=sum(r.conflict for r in rejects), dry_run=dry_run, rejects=rejects,
        columns={k: table.header[i] for k, i in checked.columns.fields.items()},
        ignored_columns=checked.columns.ignored, accepted_ids=stored_ids, stored=stored,
    )
    if checked.columns.geopoint is not None:
        report.columns["lat/lon"] = table.header[checked.columns.geopoint]
    if rejects_path is not None:
        write_rejects(checked, rejects, rejects_path, lang)
        report.rejects_path = str(rejects_path)
    return report


