"""IKRN history: BNN's yearly grades per kelurahan, as data, and what they mean for coverage.

BNN grades each desa/kelurahan every year (Bahaya, Waspada, Siaga, Aman: the taxonomy's ``ikrn`` keys); since
2024 by questionnaire, the results sent to each kota by letter. No kelurahan-level results are public: the
product ships none and imports what an office holds (``geo-p4gn ikrn import FILE``).

The file (CSV or XLSX; CSV lines starting with ``#`` are comments) has one row per kelurahan and year, with the
columns ``year`` (tahun), ``kelurahan`` (a code ``31.73.01.1004`` or a name, matched without case, accents,
spaces or prefix as in :func:`geo_p4gn.filters.resolve_filters`), ``category`` (kategori: a key or a label of
the taxonomy's IKRN group) and ``source`` (sumber: the letter it comes from). A row that cannot be read is an
error naming the row and the field; nothing is imported then.

**Not surveyed is not Aman.** A kelurahan with no grade for a year is *unknown* for that year: it never reads
as safe. :func:`sites_for_year` gives the sites of an ungraded kelurahan no category (``unknown`` in every
table), never the lowest one.

**The grade of year Y is the one used for a window in year Y** (:func:`window_year`: both ends of the window in
one calendar year): the IKRN filter, the coverage tables' ``ikrn`` column, the gap order and the Bahaya share
then use each site's kelurahan grade of that year. With no grades imported for that year (or a window that is
not within one year), the sites' own categories are used, as before, and :func:`basis` says so.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import ValidationError
from .filters import Filters, normalise_name

#: Columns of the grades frame (``Store.ikrn_grades()``, :func:`read_grades`).
GRADE_FIELDS = ("year", "kelurahan_code", "category", "source")
#: Header names accepted for each field (compared without case, spaces and punctuation).
HEADERS = {
    "year": ("year", "tahun"),
    "kelurahan": ("kelurahan", "kelurahan_code", "kode_kelurahan", "kelurahan_name", "nama_kelurahan", "desa"),
    "category": ("category", "kategori", "ikrn", "grade", "status"),
    "source": ("source", "sumber", "surat", "source_letter", "letter"),
}
#: Columns of :func:`history`.
HISTORY_COLUMNS = ("kelurahan_code", "name", "year", "category", "source")
#: Columns of :func:`before_after`.
BEFORE_AFTER_COLUMNS = ("kelurahan_code", "name", "grade_before", "grade_after", "change", "interventions",
                        "types_done", "types", "actors_done", "actors", "organisations")


def _key(text) -> str:
    return "".join(ch for ch in str(text).casefold() if ch.isalnum())


def _table(path: Path) -> tuple[list[str], list[list]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = pd.read_excel(path, dtype=object, header=None)
        rows = [["" if pd.isna(v) else v for v in r] for r in frame.itertuples(index=False)]
    else:
        text = path.read_bytes().decode("utf-8-sig")
        lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t") if lines else csv.excel
        rows = list(csv.reader(io.StringIO("\n".join(lines)), dialect))
    rows = [r for r in rows if any(str(v).strip() for v in r)]
    if not rows:
        msg = f"{path.name}: no header row (expected year, kelurahan, category, source)"
        raise ValidationError(msg)
    return [str(h).strip() for h in rows[0]], rows[1:]


def read_grades(path, *, areas: pd.DataFrame, taxonomy) -> pd.DataFrame:
    """The grades in the file at ``path`` (:data:`GRADE_FIELDS`), kelurahan names resolved with ``areas`` (the
    kelurahan table: ``code``, ``name``) and categories with the taxonomy. Raises
    :class:`~geo_p4gn.ValidationError` naming the row (as numbered in a spreadsheet: the header is row 1) and
    the column of every cell it cannot read (the first 20), and for a kelurahan graded twice for a year."""
    path = Path(path)
    header, rows = _table(path)
    where: dict[str, int] = {}
    for field, names in HEADERS.items():
        for i, h in enumerate(header):
            if _key(h) in {_key(n) for n in names}:
                where.setdefault(field, i)
    missing = [f for f in ("year", "kelurahan", "category") if f not in where]
    if missing:
        msg = f"{path.name}: no column for {', '.join(missing)} (the header has: {', '.join(header)})"
        raise ValidationError(msg)
    codes = set(areas["code"].astype(str))
    by_name: dict[str, set[str]] = {}
    for code, name in zip(areas["code"].astype(str), areas["name"].astype(str), strict=True):
        by_name.setdefault(normalise_name(name), set()).add(code)
    problems, out, seen = [], [], {}
    for n, row in enumerate(rows, start=2):
        def cell(field, row=row):
            i = where.get(field)
            return str(row[i]).strip() if i is not None and i < len(row) else ""

        col = {f: header[i] for f, i in where.items()}
        year_text, kel, cat, src = cell("year"), cell("kelurahan"), cell("category"), cell("source")
        try:
            year = int(float(year_text))
            if not 2000 <= year <= 2100 or float(year_text) != year:
                raise ValueError(year_text)
        except ValueError:
            problems.append(f"row {n}, {col['year']}: {year_text!r} is not a year")
            year = None
        code = kel if kel in codes else None
        if code is None:
            found = by_name.get(normalise_name(kel), set()) if kel else set()
            if len(found) == 1:
                code = next(iter(found))
            else:
                why = "is shared by several kelurahan: give the code" if found else "is no kelurahan code or name"
                problems.append(f"row {n}, {col['kelurahan']}: {kel!r} {why}")
        try:
            category = taxonomy.resolve_ikrn(cat) if cat else None
        except (KeyError, ValueError, ValidationError):
            category = None
        if category is None:
            problems.append(f"row {n}, {col['category']}: {cat!r} is not an IKRN category "
                            f"({', '.join(taxonomy.ikrn_keys)}); leave a kelurahan that was not surveyed out")
        if year is not None and code is not None:
            if (year, code) in seen:
                problems.append(f"row {n}, {col['kelurahan']}: {kel!r} is graded for {year} on row "
                                f"{seen[year, code]} already")
            seen[year, code] = n
        out.append((year, code, category, src or None))
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        msg = f"{path.name}: nothing imported: " + "; ".join(problems[:20]) + more
        raise ValidationError(msg)
    return pd.DataFrame(out, columns=list(GRADE_FIELDS)).astype({"year": "int64"})


def window_year(filters: Filters | None) -> int | None:
    """The calendar year a window lies in (both ends in it), else None.

    >>> import datetime as dt
    >>> window_year(Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31)))
    2024
    >>> window_year(Filters(date_from=dt.date(2024, 6, 1), date_to=dt.date(2025, 5, 31))) is None
    True
    """
    if filters is None or filters.date_from is None or filters.date_to is None:
        return None
    return filters.date_from.year if filters.date_from.year == filters.date_to.year else None


def basis(grades: pd.DataFrame, filters: Filters | None) -> dict:
    """Which IKRN categories a window uses: ``{"year", "source", "graded"}``; ``source`` is ``"grades"`` (the
    grades of ``year``, ``graded`` kelurahan of them), ``"sites"`` with ``reason`` ``"no_window_year"`` (the
    window is not within one year) or ``"no_grades"`` (none imported for that year)."""
    year = window_year(filters)
    if year is None:
        return {"year": None, "source": "sites", "reason": "no_window_year", "graded": 0}
    n = int((grades["year"] == year).sum()) if len(grades) else 0
    if not n:
        return {"year": year, "source": "sites", "reason": "no_grades", "graded": 0}
    return {"year": year, "source": "grades", "reason": None, "graded": n}


def sites_for_year(sites: pd.DataFrame, grades: pd.DataFrame, year: int) -> pd.DataFrame:
    """The sites with ``ikrn`` set to their kelurahan's grade of ``year``; a site whose kelurahan was not graded
    that year gets none (unknown, never Aman)."""
    g = grades[grades["year"] == year]
    grade = dict(zip(g["kelurahan_code"].astype(str), g["category"], strict=True))
    out = sites.copy()
    out["ikrn"] = pd.Series([grade.get(str(k)) for k in out["kelurahan_code"]], index=out.index, dtype=object)
    return out


def sites_for_window(sites: pd.DataFrame, grades: pd.DataFrame, filters: Filters | None) -> pd.DataFrame:
    """:func:`sites_for_year` for the window's year when grades of that year are imported, else ``sites``."""
    b = basis(grades, filters)
    return sites_for_year(sites, grades, b["year"]) if b["source"] == "grades" else sites


def history(grades: pd.DataFrame, areas: pd.DataFrame, kelurahan: str | None = None) -> pd.DataFrame:
    """The grade history per kelurahan (:data:`HISTORY_COLUMNS`), by code then year; ``kelurahan`` (a code)
    narrows it. Only years with a grade are listed: a year missing is a year not surveyed."""
    names = dict(zip(areas["code"].astype(str), areas["name"].astype(str), strict=True))
    g = grades if kelurahan is None else grades[grades["kelurahan_code"] == kelurahan]
    out = pd.DataFrame({"kelurahan_code": g["kelurahan_code"].astype(object),
                        "name": g["kelurahan_code"].map(names).astype(object), "year": g["year"].astype("int64"),
                        "category": g["category"].astype(object), "source": g["source"].astype(object)})
    return out.sort_values(["kelurahan_code", "year"], kind="stable").reset_index(drop=True)[list(HISTORY_COLUMNS)]


def before_after(records: pd.DataFrame, grades: pd.DataFrame, areas: pd.DataFrame, taxonomy, year: int
                 ) -> pd.DataFrame:
    """For the kelurahan graded in ``year`` and ``year + 1``: the interventions they received in ``year`` (each
    counted once when its days overlap the year; soft-deleted ones never) against the grade change.

    Columns :data:`BEFORE_AFTER_COLUMNS`: ``change`` is ``worse`` (a category nearer the top of the taxonomy's
    order, Bahaya first), ``better`` or ``same``; ``types`` and ``actors`` are the keys done, comma-separated
    in taxonomy order; ``organisations`` counts distinct names (without case or extra spaces). Sorted by code.
    """
    rank = {k: i for i, k in enumerate(taxonomy.ikrn_keys)}
    a = grades[grades["year"] == year].set_index("kelurahan_code")["category"]
    b = grades[grades["year"] == year + 1].set_index("kelurahan_code")["category"]
    both = sorted(set(a.index) & set(b.index))
    names = dict(zip(areas["code"].astype(str), areas["name"].astype(str), strict=True))
    recs = records
    if len(recs):
        window = Filters(date_from=pd.Timestamp(year, 1, 1).date(), date_to=pd.Timestamp(year, 12, 31).date())
        keep = np.array(window.record_mask(recs), dtype=bool)  # a writable copy
        if "deleted" in recs:
            keep &= ~recs["deleted"].fillna(False).to_numpy(dtype=bool)
        recs = recs[keep & recs["kelurahan_code"].isin(both).to_numpy(dtype=bool)]
    rows = []
    for code in both:
        r = recs[recs["kelurahan_code"] == code] if len(recs) else recs
        types = [k for k in taxonomy.type_keys if k in set(r["type_key"])] if len(r) else []
        actors = [k for k in taxonomy.actor_keys if k in set(r["actor_key"])] if len(r) else []
        orgs = {" ".join(str(o).casefold().split()) for o in r["organisation"].dropna()} if len(r) else set()
        ra, rb = rank.get(a[code], len(rank)), rank.get(b[code], len(rank))
        change = "same" if ra == rb else ("worse" if rb < ra else "better")
        rows.append((code, names.get(code), a[code], b[code], change, len(r), len(types), ",".join(types),
                     len(actors), ",".join(actors), len(orgs)))
    out = pd.DataFrame(rows, columns=list(BEFORE_AFTER_COLUMNS))
    for c in ("interventions", "types_done", "actors_done", "organisations"):
        out[c] = out[c].astype(np.int64)
    return out


def with_year(filters: Filters | None, year: int) -> Filters:
    """``filters`` with the window set to the whole of ``year``."""
    return dataclasses.replace(filters or Filters(), date_from=pd.Timestamp(year, 1, 1).date(),
                               date_to=pd.Timestamp(year, 12, 31).date())
