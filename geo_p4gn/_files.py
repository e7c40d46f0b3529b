"""Writing a file all at once, and one lock around a read-change-write: the two file rules of geo_p4gn.

:func:`replacing` hands out a temporary path in the target's folder for any writer (GDAL, SQLite,
``pg_dump``, openpyxl, plain ``write``); when the block ends normally the temporary file is flushed to
disk and renamed over the target, and the folder is flushed too. Readers see the old file or the new one,
never half of it; on any error the temporary file is removed and an earlier file at the target is kept.
:func:`atomic_write` does that for bytes or text already in memory.

Mode bits: with ``mode`` the new file gets exactly those; without it, a file that is replaced keeps its
permissions, and a new one gets the usual ``0o666`` less the umask.

:func:`locked` holds an exclusive ``flock`` on the file's folder, so that two processes' read-change-write
of a file there never overwrite each other; no lock file is left behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


def _name_target(exc: OSError, tmp: Path, path: Path) -> None:
    """Make an error about the temporary file name the file the caller asked for."""
    if exc.filename is None or str(exc.filename) == str(tmp):
        exc.filename = str(path)
    if exc.filename2 is not None and str(exc.filename2) == str(tmp):
        exc.filename2 = str(path)


def temporary_name(path: str | os.PathLike) -> Path:
    """A fresh name beside ``path`` for its next version, hidden and ending in the same suffix (writers
    that choose the format by the extension keep working): ``.<name>.<random>.partial<suffix>``.

    >>> p = temporary_name("/data/out.gpkg")
    >>> p.parent.as_posix(), p.name.startswith(".out.gpkg."), p.name.endswith(".partial.gpkg")
    ('/data', True, True)
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial{path.suffix}")


@contextlib.contextmanager
def replacing(path: str | os.PathLike, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path (not yet created) beside ``path``; write the new file there. On a normal exit
    it is flushed to disk, given its mode (see the module docstring) and renamed over ``path``; on an error
    it is removed and ``path`` is left as it was. An ``OSError`` about the temporary file names ``path``."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        if mode is None and path.exists():
            mode = path.stat().st_mode & 0o7777
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            _name_target(exc, tmp, path)
        raise
    _fsync_folder(path.parent)


def atomic_write(path: str | os.PathLike, data: bytes | str, *, mode: int | None = None,
                 encoding: str = "utf-8") -> None:
    """Write ``data`` (text is encoded with ``encoding``, newlines as given) to ``path`` all at once.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", "satu\\n", mode=0o600)
    >>> (folder / "a.txt").read_text(), oct((folder / "a.txt").stat().st_mode & 0o777)
    ('satu\\n', '0o600')
    >>> atomic_write(folder / "a.txt", b"dua")  # a replaced file keeps its mode
    >>> (folder / "a.txt").read_bytes(), oct((folder / "a.txt").stat().st_mode & 0o777)
    (b'dua', '0o600')
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt']
    """
    body = data.encode(encoding) if isinstance(data, str) else bytes(data)
    # private until its mode is set: a file meant to be private is never readable by others, even briefly
    private = mode is not None or Path(path).exists()
    with replacing(path, mode=mode) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)


@contextlib.contextmanager
def locked(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on the folder of ``path`` (``flock``; none where there is no ``fcntl``)
    while a read-change-write of the file runs. The folder must exist; closing the handle releases the
    lock, so a crashed process never leaves it held.

    Two ``locked`` blocks on files of one folder exclude each other, even in one process: never nest them.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not a POSIX system
        yield
        return
    fd = os.open(Path(path).parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
