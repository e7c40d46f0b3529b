"""Upload limits: refuse oversized or hostile files quickly, by streaming, before any parser sees them.

:func:`check_upload` looks at a file the way the importer will (by its content, not its name) and
refuses it with an :class:`UploadLimitError` naming the limit when it is:

- larger than :data:`max_upload_bytes` (decided from ``stat``: a 1 GB file is never opened);
- a CSV with more than :data:`max_rows` data rows, a row (any row, not only the header) of more than
  :data:`max_columns` cells, or a cell longer than :data:`max_cell_chars` bytes. Rows are counted as the
  reader splits them: a line ends at LF, CRLF or a lone CR, outside quotes;
- an XLSX (a zip) with more than :data:`max_zip_entries` entries, a central directory larger than
  needed for them, an entry name that is absolute or climbs out (``..``, ``\\``, a drive), more than
  :data:`max_zip_uncompressed` bytes once uncompressed, an entry compressed more than
  :data:`max_zip_ratio` times (a zip bomb); an XML part -- whatever its name or encoding -- that is not
  well-formed or has a DTD or entity declarations (the "billion laughs"; parsed with defusedxml); a
  sheet -- wherever it is stored -- of more than :data:`max_rows` rows (counted as the reader numbers
  them: ``<row r="900000">`` is row 900 000) or with a cell past column :data:`max_columns`; a cell
  or shared string longer than :data:`max_cell_chars` characters, or shared strings taking more than
  :data:`max_strings_ratio` times the file's size once read;
- a GeoJSON nested deeper than :data:`max_json_depth` or with more than :data:`max_rows` features
  (every element of a features array counts, object or not).

The importer (:func:`geo_p4gn.importers.read_rows`) runs the same check before it parses a file, and
counts the rows it has read against :data:`max_rows` again, by the same measure it stores them.

Memory stays bounded whatever the file: it is read in chunks of :data:`CHUNK` bytes; zip entries are
decompressed in chunks, and Python's ``zipfile`` (which openpyxl reads with) never returns more than
an entry's declared size, so checking declared sizes bounds what the parser will see, and the streamed
pass checks each entry's CRC too.

The limits are plain module variables, overridable by environment variables read here:

GEO_P4GN_MAX_UPLOAD_MB
    Largest upload in megabytes (default 50). Also set Streamlit's ``server.maxUploadSize`` and the
    reverse proxy's body limit to this (docs/deployment.md), so a larger upload never reaches memory.
GEO_P4GN_MAX_ROWS
    Most data rows (default 200 000).

Examples
--------
>>> safe_name("../../etc/passwd.csv")
'passwd.csv'
"""

from __future__ import annotations

import contextlib
import dataclasses
import lzma
import os
import re
import shutil
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .. import settings
from .._errors import ValidationError

#: Largest upload (bytes).
max_upload_bytes: int = settings.max_upload_bytes
#: Most data rows (CSV lines, sheet rows, GeoJSON features); a header and an HXL row come on top.
max_rows: int = settings.max_rows
#: Most columns (cells) in any row: a CSV row, a sheet row (the column of its last cell).
max_columns: int = 200
#: Longest cell (Excel's own limit: 32 767 characters); a CSV cell is measured in bytes, quotes included.
max_cell_chars: int = 32_767
#: Most memory the shared strings of an XLSX may take once read (characters + 64 bytes a string), as a
#: multiple of the file's size; openpyxl holds them all while it reads the sheet.
max_strings_ratio: float = 8.0
#: Most entries in an XLSX (a workbook from Excel or LibreOffice has 10-40).
max_zip_entries: int = 500
#: Most bytes of an XLSX once uncompressed (100 000 rows x 8 columns: 46 MB).
max_zip_uncompressed: int = 300_000_000
#: Highest compression ratio of one entry larger than :data:`ZIP_RATIO_FLOOR` (real sheets: 5-20).
max_zip_ratio: float = 100.0
#: Entries smaller than this (uncompressed) are not ratio-checked: they cannot be a bomb.
ZIP_RATIO_FLOOR = 1_000_000
#: Deepest JSON nesting (a GeoJSON MultiPolygon FeatureCollection needs 7).
max_json_depth: int = 32
#: Longest file name.
max_name_chars: int = 200
#: Read size.
CHUNK = 1 << 20

#: File name suffixes accepted from a browser upload.
UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".geojson", ".json")


class UploadLimitError(ValidationError):
    """An upload breaks a limit; ``limit`` names it (e.g. ``"max_upload_bytes"``)."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclasses.dataclass(frozen=True)
class UploadInfo:
    """What :func:`check_upload` found: the kind (``csv``, ``xlsx``, ``geojson``), size and row count
    (an upper bound for CSV: a cell with a line break counts twice)."""

    kind: str
    size: int
    rows: int


def _refuse(label: str, what: str, limit: str) -> None:
    msg = f"{label}: {what} (limit {limit} = {globals()[limit]:,}); nothing was imported"
    raise UploadLimitError(msg, limit)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


# -- names ---------------------------------------------------------------------------------------
def safe_name(name: str) -> str:
    """A file name from a browser made safe to use in a folder: the last path part, no control
    characters, no leading dots, at most :data:`max_name_chars` characters."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C").strip().lstrip(".").strip()
    if not text:
        msg = f"file name {name!r}: nothing usable is left of it"
        raise ValidationError(msg)
    if len(text) > max_name_chars:
        stem, dot, suffix = text.rpartition(".")
        text = (stem[: max_name_chars - len(suffix) - 1] + dot + suffix) if dot and len(suffix) < 10 \
            else text[:max_name_chars]
    return text


def check_zip_name(name: str, label: str) -> None:
    """Refuse a zip entry name that is absolute or leaves the archive's folder."""
    bad = (
        not name or "\x00" in name or "\\" in name or name.startswith("/")
        or re.match(r"[A-Za-z]:", name) is not None or ".." in name.split("/")
    )
    if bad:
        msg = f"{label}: the archive holds an entry named {name[:100]!r}, a path that leaves the archive"
        raise UploadLimitError(msg, "zip_entry_path")


# -- the check -----------------------------------------------------------------------------------
#: Files already checked: (path, size, mtime, inode, limits) -> UploadInfo, so that the importer's own
#: check after the services' one costs nothing.
_CHECKED: dict[tuple, UploadInfo] = {}


def _limits_key() -> tuple:
    return (max_upload_bytes, max_rows, max_columns, max_cell_chars, max_strings_ratio, max_zip_entries,
            max_zip_uncompressed, max_zip_ratio, max_json_depth, CHUNK)


def check_upload(path: str | os.PathLike, *, name: str | None = None) -> UploadInfo:
    """Refuse ``path`` when it breaks a limit; return what was found. ``name`` (the user's file name)
    is used in messages. Kinds are told by content, as the importer does."""
    path = Path(path)
    label = safe_name(name) if name else path.name
    try:
        st = path.stat()
    except OSError as exc:
        msg = f"{label}: cannot be read ({exc.strerror or exc})"
        raise ValidationError(msg) from exc
    if not path.is_file():
        msg = f"{label}: not a regular file"
        raise ValidationError(msg)
    if st.st_size > max_upload_bytes:
        _refuse(label, f"{_mb(st.st_size)} is larger than the upload limit of {_mb(max_upload_bytes)}",
                "max_upload_bytes")
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, _limits_key())
    if key in _CHECKED:
        return _CHECKED[key]
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):  # as the importer decides
        info = UploadInfo("xlsx", st.st_size, _check_zip(path, st.st_size, label))
    elif _first_char(path) == b"{":
        info = UploadInfo("geojson", st.st_size, _check_json(path, label))
    else:
        info = UploadInfo("csv", st.st_size, _check_csv(path, label))
    while len(_CHECKED) >= 16:
        _CHECKED.pop(next(iter(_CHECKED)))
    _CHECKED[key] = info
    return info


def _first_char(path: Path) -> bytes:
    with open(path, "rb") as fh:
        chunk = fh.read(CHUNK)
        chunk = chunk.removeprefix(b"\xef\xbb\xbf")
        while chunk:
            stripped = chunk.lstrip(b" \t\r\n")
            if stripped:
                return stripped[:1]
            chunk = fh.read(CHUNK)
    return b""


# -- CSV -----------------------------------------------------------------------------------------
def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the first non-blank line (outside quotes) holds most of."""
    for line in text[:65536].splitlines():
        if line.strip():
            bare = re.sub(r'"[^"]*"', "", line)
            counts = {d: bare.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=lambda d: (counts[d], d == ","))
            return best if counts[best] else ","
    return ","


def _check_csv(path: Path, label: str) -> int:
    with open(path, "rb") as fh:
        head = fh.read(65536)
        fh.seek(0)
        return scan_csv(iter(lambda: fh.read(CHUNK), b""), sniff_delimiter(head.decode("utf-8", "replace")),
                        label, path.stat().st_size)


def scan_csv(chunks, delimiter: str, label: str, size: int) -> int:
    """Count the rows of a CSV given as byte chunks and refuse it when it breaks a limit; return the
    number of rows after the header (an upper bound: blank rows count).

    The reader pads every row to the widest, so rows x widest cells must not pass ``size`` (the file's
    bytes) + 10 000: a real cell takes at least a byte (its delimiter or line end), padding takes none.

    Rows and cells are split as the reader splits them: outside double quotes (a doubled quote inside
    quotes toggles twice), a row ends at LF, CRLF or a lone CR, a cell at ``delimiter``. Vectorised:
    only the positions of quotes, line ends and delimiters are looked at.
    """
    d = ord(delimiter)
    padded_cells_limit = size + 10_000
    widest_all = 1
    in_quote = 0  # quote parity before the chunk
    cells = 1  # cells of the row in progress
    cell_len = 0  # bytes of the cell in progress
    rows = 0  # rows ended so far
    prev_cr = False  # the previous chunk ended with a CR outside quotes (a CRLF may straddle them)
    last_end = True  # the last byte seen ended a row (or nothing was seen)
    first = True
    for chunk in chunks:
        if first:
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")
            first = False
        if not chunk:
            continue
        b = np.frombuffer(chunk, dtype=np.uint8)
        q = b == 34
        before = (np.cumsum(q) - q + in_quote) & 1  # quote parity before each byte
        outside = before == 0
        lf = (b == 10) & outside
        cr = (b == 13) & outside
        ends = lf | cr
        ends[1:] &= ~(cr[:-1] & lf[1:])  # CRLF: one end, at the CR
        if prev_cr and lf[0]:
            ends[0] = False
        seps = np.flatnonzero(((b == d) & outside) | ends)
        is_end = ends[seps]
        # cell lengths: between consecutive separators (the first continues the previous chunk's cell)
        lengths = np.diff(seps, prepend=-1) - 1
        if len(seps):
            lengths[0] += cell_len
            longest = int(lengths.max())
            if longest > max_cell_chars:
                k = int(np.argmax(lengths))
                row = rows + int(np.count_nonzero(is_end[:k])) + 1
                _refuse(label, f"row {row:,} has a cell of {longest:,} bytes", "max_cell_chars")
            cell_len = len(b) - 1 - int(seps[-1])
        else:
            cell_len += len(b)
        if cell_len > max_cell_chars:
            _refuse(label, f"row {rows + 1:,} has a cell of more than {cell_len:,} bytes", "max_cell_chars")
        # cells per row: delimiters between row ends, plus one
        end_at = np.flatnonzero(is_end)
        if len(end_at):
            per_row = np.diff(end_at, prepend=-1)  # separators up to and including each end
            per_row[0] += cells - 1
            widest = int(per_row.max())
            after = len(seps) - 1 - int(end_at[-1])
            cells = after + 1
        else:
            widest = 0
            cells += len(seps)
        for n, at_row in ((widest, None), (cells, rows + len(end_at) + 1)):
            if n > max_columns:
                row = at_row or rows + int(np.argmax(per_row)) + 1
                what = f"the header has {n:,} columns" if row == 1 else f"row {row:,} has {n:,} cells"
                _refuse(label, what, "max_columns")
        rows += len(end_at)
        widest_all = max(widest_all, widest, cells)
        if rows * widest_all > padded_cells_limit:
            _refuse(label, f"{rows:,} rows padded to the widest row ({widest_all:,} cells) make more cells "
                           f"than the file has bytes", "max_columns")
        if rows > max_rows + 2:
            _refuse(label, f"more than {max_rows + 2:,} lines", "max_rows")
        in_quote = (in_quote + int(np.count_nonzero(q))) & 1
        prev_cr = bool(cr[-1])
        last_end = bool(cr[-1] or lf[-1])
    rows += not last_end
    if rows > max_rows + 2:
        _refuse(label, f"more than {max_rows + 2:,} lines", "max_rows")
    return max(rows - 1, 0)


# -- GeoJSON -------------------------------------------------------------------------------------
def _check_json(path: Path, label: str) -> int:
    """Nesting depth and feature count of a JSON file: a streaming bracket count that skips strings
    (escapes included), vectorised over the positions of quotes, backslashes, brackets and commas only.

    Features are objects at depth 3 (``{"features": [{...}]}``); every element of an array at depth 2
    counts against :data:`max_rows` too, whatever it is (``[0, 0, 0, ...]`` is a million rows to read).
    """
    depth, in_string, carry = 0, 0, 0  # carry: backslashes ending the previous chunk
    deepest, features, elements = 0, 0, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            b = np.frombuffer(chunk, dtype=np.uint8)
            bsp = np.flatnonzero(b == 92)
            runs = np.zeros(len(bsp), dtype=np.int64)
            if len(bsp):  # length of the backslash run ending at each backslash
                k = np.arange(len(bsp))
                starts = np.maximum.accumulate(np.where(np.diff(bsp, prepend=-2) != 1, k, 0))
                runs = k - starts + 1 + np.where(bsp[starts] == 0, carry, 0)
            qp = np.flatnonzero(b == 34)
            before = np.searchsorted(bsp, qp - 1)
            hit = (before < len(bsp)) & (bsp[np.minimum(before, len(bsp) - 1)] == qp - 1) if len(bsp) else \
                np.zeros(len(qp), dtype=bool)
            escaped = hit & (runs[np.minimum(before, max(len(bsp) - 1, 0))] % 2 == 1) if len(bsp) else hit
            if len(qp) and qp[0] == 0 and carry % 2 == 1:
                escaped[0] = True
            real = qp[~escaped]
            bp = np.flatnonzero((b == 123) | (b == 91) | (b == 125) | (b == 93))
            bp = bp[(np.searchsorted(real, bp) + in_string) % 2 == 0]
            cp = np.flatnonzero(b == 44)
            cp = cp[(np.searchsorted(real, cp) + in_string) % 2 == 0]
            levels = np.empty(0, dtype=np.int64)
            if len(bp):
                is_open = (b[bp] == 123) | (b[bp] == 91)
                levels = depth + np.cumsum(np.where(is_open, 1, -1))
                deepest = max(deepest, int(levels.max()))
                features += int(np.count_nonzero((b[bp] == 123) & (levels == 3)))
                # an element at depth 3 opens with the container at depth 2 or follows a comma at depth 2
                elements += int(np.count_nonzero(is_open & (levels == 2)))
            if len(cp):  # the depth at each comma: after the last bracket before it
                k = np.searchsorted(bp, cp) - 1
                at = np.where(k >= 0, levels[np.maximum(k, 0)] if len(levels) else depth, depth)
                elements += int(np.count_nonzero(at == 2))
            if len(bp):
                depth = int(levels[-1])
            in_string = (in_string + len(real)) % 2
            carry = int(runs[-1]) if len(bsp) and bsp[-1] == len(b) - 1 else 0
            if deepest > max_json_depth:
                _refuse(label, f"JSON nested more than {max_json_depth} levels deep", "max_json_depth")
            if max(features, elements) > max_rows:
                _refuse(label, f"more than {max_rows:,} features", "max_rows")
    return features


# -- XLSX (zip) ----------------------------------------------------------------------------------
_EOCD = struct.Struct("<4s4H2LH")
#: What a damaged archive raises in zipfile and its decompressors.
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, RuntimeError, zlib.error,
               lzma.LZMAError, struct.error)
_COLUMN = re.compile(r"\$?([A-Za-z]{1,3})\$?\d*")
#: Byte-order marks and the first bytes of ``<`` (after optional white space) in the encodings XML allows.
_XML_STARTS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
               (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _looks_like_xml(head: bytes) -> bool:
    """Whether an entry's first bytes are XML in any encoding (a BOM, or ``<`` after white space)."""
    for bom, _ in _XML_STARTS:
        if head.startswith(bom):
            return True
    for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        try:
            text = head[: len(head) - len(head) % 4].decode(enc)
        except UnicodeDecodeError:
            continue
        if text.lstrip(" \t\r\n").startswith("<"):
            return True
    return False


def _check_zip(path: Path, size: int, label: str) -> int:
    # the end-of-central-directory record first: refuse a huge directory before zipfile reads it
    with open(path, "rb") as fh:
        tail_len = min(size, _EOCD.size + 65535)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        msg = f"{label}: starts like an XLSX (a zip) but is not a readable one"
        raise ValidationError(msg)
    _, _, _, _, entries, cd_size, _, _ = _EOCD.unpack(tail[at:at + _EOCD.size])
    if entries > max_zip_entries or entries == 0xFFFF:
        _refuse(label, f"the workbook holds {entries:,} entries", "max_zip_entries")
    if cd_size > max_zip_entries * 1024:
        _refuse(label, f"the workbook's directory is {cd_size:,} bytes", "max_zip_entries")
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        msg = f"{label}: not a readable XLSX ({exc})"
        raise ValidationError(msg) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_zip_entries:
            _refuse(label, f"the workbook holds {len(infos):,} entries", "max_zip_entries")
        total = 0
        for info in infos:
            check_zip_name(info.filename, label)
            total += info.file_size
            if total > max_zip_uncompressed:
                _refuse(label, f"more than {_mb(max_zip_uncompressed)} once uncompressed", "max_zip_uncompressed")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > ZIP_RATIO_FLOOR and ratio > max_zip_ratio:
                _refuse(label, f"entry {info.filename!r} is compressed {ratio:,.0f} times (a zip bomb?)",
                        "max_zip_ratio")
        part = _Part(label, size)
        for info in infos:  # every part, whatever its name: the workbook's relationships may point anywhere
            if not info.is_dir():
                _scan_part(zf, info, part)
    return max(part.rows - 1, 0)


class _Part:
    """What the parts of a workbook hold, gathered by a streaming XML parse (an ElementTree parser target):
    sheet rows (summed over the sheets, as the reader numbers them), the widest row, cell and shared
    string lengths. Refuses as soon as a limit is passed."""

    def __init__(self, label: str, size: int) -> None:
        self.label, self.size = label, size
        self.rows = 0  # rows of the sheets before this part
        self.strings_bytes = 0
        self.name = ""
        self.reset("")

    def reset(self, name: str) -> None:
        self.name = name
        self.root: str | None = None
        self.sheet_rows = 0  # the reader's number of the last row of this sheet
        self.row_cells = 0
        self.widest = 0
        self.xml_bytes = 0
        self.text = -1  # characters of the <v>/<t> in progress; -1 outside one
        self.depth = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        local = tag.rpartition("}")[2]
        self.depth += 1
        if self.root is None:
            self.root = local
        if self.root == "worksheet":
            if local == "row":
                r = attrib.get("r", "")
                self.sheet_rows = int(r) if r.isdigit() and len(r) < 9 else self.sheet_rows + 1
                self.row_cells = 0
                if self.sheet_rows & 1023 == 0:
                    self._check_padding()
                if self.rows + self.sheet_rows > max_rows + 2:
                    _refuse(self.label, f"more than {max_rows + 2:,} rows", "max_rows")
            elif local == "c":
                m = _COLUMN.fullmatch(attrib.get("r", ""))
                col = 0
                if m:
                    for ch in m[1].upper():
                        col = col * 26 + ord(ch) - 64
                self.row_cells = col if m else self.row_cells + 1
                if self.row_cells > self.widest:
                    self.widest = self.row_cells
                    self._check_padding()
                if self.row_cells > max_columns:
                    _refuse(self.label, f"row {self.sheet_rows:,} of part {self.name!r} has a cell in column "
                                        f"{self.row_cells:,}", "max_columns")
            elif local in ("v", "t"):
                self.text = 0
        elif self.root == "sst" and local in ("si", "t"):
            if local == "si":
                self.strings_bytes += 64
            self.text = 0

    def _check_padding(self) -> None:
        """The reader pads every row to the widest: refuse a sheet whose padded cells outnumber a quarter of
        its XML bytes (a real cell takes 15 bytes or more, ``<c><v>1</v></c>``)."""
        if self.sheet_rows * self.widest > self.xml_bytes / 4 + 10_000:
            _refuse(self.label, f"part {self.name!r}: {self.sheet_rows:,} rows padded to the widest row "
                                f"({self.widest:,} cells) make far more cells than the sheet holds", "max_columns")

    def data(self, text: str) -> None:
        if self.text < 0:
            return
        self.text += len(text)
        if self.text > max_cell_chars:
            _refuse(self.label, f"part {self.name!r} holds a cell text of more than {max_cell_chars:,} "
                                "characters", "max_cell_chars")
        if self.root == "sst":
            self.strings_bytes += len(text)
            if self.strings_bytes > max_strings_ratio * self.size:
                _refuse(self.label, f"the shared strings take more than {max_strings_ratio:g} times the file's "
                                    f"size ({_mb(self.strings_bytes)} of text)", "max_strings_ratio")

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.text = -1

    def close(self) -> None:
        if self.root == "worksheet":
            self.rows += self.sheet_rows


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, part: _Part) -> None:
    """Stream one entry (which verifies its CRC); an XML one, in any encoding, is parsed with a parser that
    forbids DTDs, entities and external references."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    label = part.label
    part.reset(info.filename)
    parser = None
    try:
        with zf.open(info) as fh:
            first = True
            while chunk := fh.read(CHUNK):
                if first:
                    first = False
                    if _looks_like_xml(chunk[:256]):
                        parser = DefusedXMLParser(target=part, forbid_dtd=True, forbid_entities=True,
                                                  forbid_external=True)
                if parser is not None:
                    part.xml_bytes += len(chunk)
                    parser.feed(chunk)
            if parser is not None:
                parser.close()
    except UploadLimitError:
        raise
    except DefusedXmlException:
        msg = f"{label}: part {info.filename!r} declares a DTD or entities, which a workbook never needs"
        raise UploadLimitError(msg, "xml_dtd") from None
    except ParseError as exc:
        msg = f"{label}: part {info.filename!r} is not well-formed XML ({exc})"
        raise ValidationError(msg) from None
    except _ZIP_ERRORS as exc:
        msg = f"{label}: part {info.filename!r} cannot be read ({exc})"
        raise ValidationError(msg) from None


# -- receiving an upload -------------------------------------------------------------------------
@contextlib.contextmanager
def received_upload(fileobj: BinaryIO, name: str, *, directory: str | os.PathLike | None = None
                    ) -> Iterator[Path]:
    """Copy an upload (a file object, e.g. Streamlit's ``UploadedFile``) to a private temporary file
    named after it, refusing it as soon as it passes :data:`max_upload_bytes`; check it with
    :func:`check_upload`; yield the path; delete it afterwards.

    >>> with received_upload(uploaded, uploaded.name) as path:  # doctest: +SKIP
    ...     report = services.import_file(store, user, path, dry_run=True)
    """
    clean = safe_name(name)
    if not clean.lower().endswith(UPLOAD_SUFFIXES):
        msg = f"{clean}: not a CSV, XLSX or GeoJSON file name ({', '.join(UPLOAD_SUFFIXES)})"
        raise UploadLimitError(msg, "upload_suffix")
    folder = Path(tempfile.mkdtemp(prefix="geo-p4gn-upload-", dir=directory))
    try:
        path = folder / clean
        copied = 0
        with open(path, "xb") as out:
            while chunk := fileobj.read(CHUNK):
                copied += len(chunk)
                if copied > max_upload_bytes:
                    _refuse(clean, f"larger than the upload limit of {_mb(max_upload_bytes)}", "max_upload_bytes")
                out.write(chunk)
        check_upload(path, name=clean)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
