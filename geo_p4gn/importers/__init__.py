"""Import interventions from CSV, XLSX, GeoJSON and KoboToolbox/ODK exports.

The package, by step: :mod:`~geo_p4gn.importers.limits` (refuse hostile files before any parser sees
them), :mod:`~geo_p4gn.importers.read` (a file as a :class:`RawTable`), :mod:`~geo_p4gn.importers.columns`
(which column is which field), :mod:`~geo_p4gn.importers.check` (rows into records or reasons),
:mod:`~geo_p4gn.importers.reconcile` (against the store: new, duplicate, conflict; the import itself) and
:mod:`~geo_p4gn.importers.rejects` (the rejects file).

Reading
-------
:func:`read_rows` reads a file as it is, whatever its suffix says (the content decides):

- CSV: comma, semicolon or tab separated (chosen from the header line), UTF-8 with or without a BOM.
  A file in another encoding is refused with advice ("save as CSV UTF-8"). Quoted cells may span lines.
- XLSX: the first sheet (read with pandas and openpyxl); the header is the first non-empty row.
  Formulas are read as their last computed value.
- GeoJSON: a FeatureCollection (or one Feature) in longitude/latitude (RFC 7946). Each feature's
  properties are the columns; point features give lat/lon, polygons are kept as area-wide records.

Row numbers
-----------
Every reason names the row **as a spreadsheet shows it**: the header is row 1, so the first data row is
row 2 (in a CSV without line breaks inside cells this is also the line number). Blank rows keep their
numbers and are skipped. A GeoJSON file names features instead: ``feature 1`` is the first feature.
The rejects file repeats the number in its ``_row`` column.

Columns
-------
Columns are matched by name, ignoring case, spaces and a group prefix (``group/field``), in English or
Indonesian: id; date / tanggal; end_date / tanggal_selesai; type / jenis (a key or either label); actor /
aktor (key or label); organisation / organisasi; site_id / lokasi / situs (a site's id, name or alias);
participants / peserta; notes / catatan; lat / lintang and lon / bujur (decimal point or decimal comma);
geometry (WKT). The full list is ``COLUMN_NAMES``. Other columns are ignored and listed in the report.
Two columns meaning the same thing (``date`` and ``tanggal``) make the file ambiguous: it is refused.

KoboToolbox / ODK exports work as they are: the id comes from ``meta/instanceID`` (``uuid:...``) or
``_uuid``; the location from a geopoint column (``"lat lon altitude accuracy"``, e.g. ``lokasi`` -- a
column whose values are geopoints is a location, not a site) or from its ``_lokasi_latitude`` /
``_lokasi_longitude`` columns; when the form has no date field the day is taken from ``today``, else
``start``, else ``_submission_time`` (which Kobo gives in UTC: converted to WIB, UTC+7). Kobo's own
numeric ``_id`` is ignored.

Validation and speed
--------------------
The rules are :func:`geo_p4gn.records.validate_record`'s. To import 100 000 rows in seconds the rows are
not validated one by one: each column is converted once per distinct value with the same functions
validate_record uses (``parse_date``, ``parse_number``, ``check_notes``, ``Taxonomy.resolve_*``), rows
that pass every field are built directly, and every other row is given to validate_record itself, whose
message becomes the reason. A test checks that both paths agree. Locations are then checked in one bulk
:meth:`~geo_p4gn.boundaries.Boundaries.assign` (polygons with :meth:`~geo_p4gn.boundaries.Boundaries.locate`):
points outside DKI Jakarta or with latitude and longitude swapped are rejected with the reason.

Memory: the valid records are held as columns (:class:`~geo_p4gn.records.RecordColumns`: one array per
field, points as two float arrays), never as one :class:`~geo_p4gn.records.Intervention` per row
(``checked.records[i]`` makes one when asked). Cells become Python objects only for the rows
validate_record decides and the rows of the rejects file; the store hashes, writes and audits the batch
a chunk at a time, still in one transaction. A valid 18 MB CSV of 199,000 rows needs under 10x its
size above an idle process (``bench/bench_hostile_memory.py``; issue 10).

Ids, duplicates and conflicts
-----------------------------
A row's id is made once, when the row is read: the file's id when it has one, else an id made from the
row's content and its source (:func:`content_ids`: a UUID5 of the cells of the columns read, the file's
name without its folder, and which copy of that content in the file it is). Rows are then compared with
the store: the same id with the same content is a duplicate (counted, nothing written, and counted again
in the report's ``stored``, a dry run too); the same id with different content is a conflict (rejected,
never overwritten). So re-importing a file, with ids or without, is idempotent: the same file imported
again adds nothing. Two identical rows of one file stay two records. The same rows under another file
name are another source and are stored again: the duplicate review (``geo-p4gn duplicates``) flags them.
The rejects file carries the ids made for its rows (in the file's id column, or in a new ``id`` column):
fixing the rejects file and importing it -- even twice -- stores each row once.

Rejects file
------------
A CSV with the file's own columns (and ``id`` when the file had none), then the row, the column (named by
the file's own header, never an internal key such as ``site_id``) and the reason, in the user's language:
``_baris``, ``_kolom``, ``_alasan`` in Bahasa Indonesia (the default), ``_row``, ``_field``, ``_reason`` in
English (``lang="en"``; :mod:`~geo_p4gn.importers.reasons` translates each known reason through the
catalogue's ``reject.*`` keys). It is importable as it is: the importer ignores those columns in either
language. Cells that a spreadsheet would run as a formula get a leading
apostrophe, which the importer removes again.

Examples
--------
>>> table = read_rows("tests/fixtures/import/basic.csv")  # doctest: +SKIP
>>> report = import_file(store, "tests/fixtures/import/basic.csv", user="budi")  # doctest: +SKIP
>>> report.summary()  # doctest: +SKIP
{'accepted': 3, 'rejected': 1, 'duplicates': 0, 'conflicts': 0}
"""

from __future__ import annotations

from ..spreadsheet import neutralise
from . import limits
from ._common import (
    COLUMN_NAMES,
    KOBO_DATE_COLUMNS,
    PY_WHITESPACE,
    REJECT_COLUMNS,
    Progress,
    normalise_column,
)
from .check import (
    Checked,
    Reject,
    check_table,
    content_ids,
    new_ids,
)
from .columns import (
    REQUIRED,
    ColumnMap,
    map_columns,
)
from .read import (
    MAX_REASON_CHARS,
    QUOTE_CHARS,
    RawTable,
    read_rows,
)
from .reconcile import (
    ImportReport,
    import_file,
)
from .rejects import (
    write_rejects,
)

__all__ = [
    "COLUMN_NAMES",
    "KOBO_DATE_COLUMNS",
    "MAX_REASON_CHARS",
    "PY_WHITESPACE",
    "QUOTE_CHARS",
    "REJECT_COLUMNS",
    "REQUIRED",
    "Checked",
    "ColumnMap",
    "ImportReport",
    "Progress",
    "RawTable",
    "Reject",
    "check_table",
    "content_ids",
    "import_file",
    "limits",
    "map_columns",
    "neutralise",
    "new_ids",
    "normalise_column",
    "read_rows",
    "write_rejects",
]
