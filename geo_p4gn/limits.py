"""Upload limits: refuse oversized or hostile files quickly, by streaming, before any parser sees them.

:func:`check_upload` looks at a file the way the importer will (by its content, not its name) and
refuses it with an :class:`UploadLimitError` naming the limit when it is:

- larger than :data:`max_upload_bytes` (decided from ``stat``: a 1 GB file is never opened);
- a CSV with more than :data:`max_rows` data lines or :data:`max_columns` columns;
- an XLSX (a zip) with more than :data:`max_zip_entries` entries, a central directory larger than
  needed for them, an entry name that is absolute or climbs out (``..``, ``\\``, a drive), more than
  :data:`max_zip_uncompressed` bytes once uncompressed, an entry compressed more than
  :data:`max_zip_ratio` times (a zip bomb), an XML part with a DTD or entity declarations (the
  "billion laughs"), or a sheet of more than :data:`max_rows` rows;
- a GeoJSON nested deeper than :data:`max_json_depth` or with more than :data:`max_rows` features.

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

from ._errors import ValidationError

#: Largest upload (bytes).
max_upload_bytes: int = int(float(os.environ.get("GEO_P4GN_MAX_UPLOAD_MB", "50")) * 1_000_000)
#: Most data rows (CSV lines, sheet rows, GeoJSON features); a header and an HXL row come on top.
max_rows: int = int(os.environ.get("GEO_P4GN_MAX_ROWS", "200000"))
#: Most columns in a CSV header.
max_columns: int = 200
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
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):  # as the importer decides
        return UploadInfo("xlsx", st.st_size, _check_zip(path, st.st_size, label))
    first = _first_char(path)
    if first == b"{":
        return UploadInfo("geojson", st.st_size, _check_json(path, label))
    return UploadInfo("csv", st.st_size, _check_csv(path, label))


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


def _check_csv(path: Path, label: str) -> int:
    lines = 0
    last = b"\n"
    header_done = False
    header = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if not header_done:
                header += chunk
                cut = header.find(b"\n")
                if cut >= 0 or len(header) >= CHUNK:
                    header_done = True
                    _check_header(header[: cut if cut >= 0 else len(header)], label)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if lines > max_rows + 2:
                _refuse(label, f"more than {max_rows + 2:,} lines", "max_rows")
    if not header_done:
        _check_header(header, label)
    lines += last != b"\n"
    return max(lines - 1, 0)


def _check_header(line: bytes, label: str) -> None:
    line = re.sub(rb'"[^"]*"', b"", line)
    n = max(line.count(d) for d in (b",", b";", b"\t")) + 1
    if n > max_columns:
        _refuse(label, f"the header has {n:,} columns", "max_columns")


# -- GeoJSON -------------------------------------------------------------------------------------
def _check_json(path: Path, label: str) -> int:
    """Nesting depth and feature count of a JSON file: a streaming bracket count that skips strings
    (escapes included), vectorised over the positions of quotes, backslashes and brackets only."""
    depth, in_string, carry = 0, 0, 0  # carry: backslashes ending the previous chunk
    deepest, features = 0, 0
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
            if len(bp):
                is_open = (b[bp] == 123) | (b[bp] == 91)
                levels = depth + np.cumsum(np.where(is_open, 1, -1))
                deepest = max(deepest, int(levels.max()))
                features += int(np.count_nonzero((b[bp] == 123) & (levels == 3)))
                depth = int(levels[-1])
            in_string = (in_string + len(real)) % 2
            carry = int(runs[-1]) if len(bsp) and bsp[-1] == len(b) - 1 else 0
            if deepest > max_json_depth:
                _refuse(label, f"JSON nested more than {max_json_depth} levels deep", "max_json_depth")
            if features > max_rows:
                _refuse(label, f"more than {max_rows:,} features", "max_rows")
    return features


# -- XLSX (zip) ----------------------------------------------------------------------------------
_EOCD = struct.Struct("<4s4H2LH")
#: What a damaged archive raises in zipfile and its decompressors.
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, RuntimeError, zlib.error,
               lzma.LZMAError, struct.error)
_ROW = re.compile(rb"<(?:\w{1,8}:)?row[\s>/]")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


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
        rows = 0
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                rows += _scan_xml(zf, info, label, rows)
    return max(rows - 1, 0)


def _scan_xml(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, rows_before: int) -> int:
    """Stream one XML part: refuse DTDs and entities, count sheet rows, verify the CRC."""
    sheet = info.filename.startswith("xl/worksheets/")
    rows, tail, tag = 0, b"", None
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK):
                buf = tail + chunk
                if b"<!" in buf and _DTD.search(buf):
                    msg = f"{label}: part {info.filename!r} declares a DTD or entities, which a workbook never needs"
                    raise UploadLimitError(msg, "xml_dtd")
                if sheet and tag is None and (m := _ROW.search(buf)):
                    tag = m.group(0)[:-1]  # b"<row", or with the sheet's namespace prefix, b"<x:row"
                if tag is not None:  # a tag wholly inside the tail was counted with the previous chunk
                    rows += buf.count(tag) - tail.count(tag)
                    if rows_before + rows > max_rows + 2:
                        _refuse(label, f"more than {max_rows + 2:,} rows", "max_rows")
                tail = buf[-16:]
    except UploadLimitError:
        raise
    except _ZIP_ERRORS as exc:
        msg = f"{label}: part {info.filename!r} cannot be read ({exc})"
        raise ValidationError(msg) from None
    return rows


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
