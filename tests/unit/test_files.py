"""geo_p4gn._files: a file is replaced all at once or not at all, with sensible mode bits; one folder lock."""

from __future__ import annotations

import errno
import fcntl
import os
import stat

import pytest

from geo_p4gn import _files
from geo_p4gn._files import atomic_write, locked, replacing


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def test_atomic_write_text_and_bytes_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "a.toml"
    atomic_write(target, "satu\r\ndua é\n")
    assert target.read_bytes() == "satu\r\ndua é\n".encode()  # newlines as given
    atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in tmp_path.iterdir()] == ["a.toml"]


def test_mode_bits(tmp_path):
    new = tmp_path / "new.txt"
    atomic_write(new, "x")
    assert _mode(new) == 0o666 & ~_umask()  # a new file: the usual mode
    private = tmp_path / "users.toml"
    atomic_write(private, "x", mode=0o600)
    assert _mode(private) == 0o600
    private.chmod(0o640)
    atomic_write(private, "y")  # a replaced file keeps its mode
    assert _mode(private) == 0o640
    atomic_write(private, "z", mode=0o644)  # unless told otherwise
    assert _mode(private) == 0o644


def test_a_private_file_is_never_readable_by_others_even_before_the_rename(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(_mode(src))
        real_replace(src, dst)

    monkeypatch.setattr(_files.os, "replace", spy)
    atomic_write(tmp_path / "users.toml", "secret", mode=0o600)
    assert seen == [0o600]


def test_an_error_while_writing_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    # the writer fails inside replacing(): both statements belong in the block
    with pytest.raises(RuntimeError, match="writer failed"), replacing(target) as tmp:  # noqa: PT012
        tmp.write_text("half of the new fi")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failed_rename_keeps_the_old_file_and_names_the_target(tmp_path, monkeypatch):
    target = tmp_path / "out.html"
    target.write_text("old")

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(src))

    monkeypatch.setattr(_files.os, "replace", full)
    with pytest.raises(OSError, match="No space left") as info:
        atomic_write(target, "new")
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(target)  # the file the caller asked for, not the temporary one
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]


def test_replacing_gives_a_fresh_hidden_name_with_the_same_suffix(tmp_path):
    target = tmp_path / "export.xlsx"
    with replacing(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".export.xlsx.") and tmp.suffix == ".xlsx"
        assert not tmp.exists()  # writers that refuse an existing file (GDAL) can use it
        with replacing(target) as other:
            assert other != tmp
            other.write_text("inner")
        tmp.write_text("outer")
    assert target.read_text() == "outer"


def test_a_writer_that_writes_nothing_is_an_error_and_the_old_file_stays(tmp_path):
    target = tmp_path / "b.gpkg"
    target.write_text("old")
    with pytest.raises(FileNotFoundError) as info, replacing(target):
        pass
    assert info.value.filename == str(target)
    assert target.read_text() == "old"


def test_locked_excludes_another_holder_and_is_released(tmp_path):
    target = tmp_path / "taxonomy.toml"

    def try_lock() -> bool:
        fd = os.open(tmp_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    with locked(target):
        assert not try_lock()
    assert try_lock()
    with pytest.raises(ValueError, match="released on error too"), locked(target):
        raise ValueError("released on error too")
    assert try_lock()
    assert [p.name for p in tmp_path.iterdir()] == []  # no lock file


def test_locked_needs_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError), locked(tmp_path / "missing" / "users.toml"):
        pass
