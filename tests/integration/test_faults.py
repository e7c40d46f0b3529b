"""Faults give a clear message, never a traceback (issue 10, section 4).

Each fault is made for real: a full disk and a read-only mount are small tmpfs mounts (root, as in CI;
elsewhere these tests skip and say why), a read-only file is ``chattr +i`` (root) or mode 0444, a
damaged store is a copy with a few of its pages overwritten. Every command then exits with status 1 and
a message naming the file and what to do, and no stored record is lost.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from geo_p4gn.cli import main
from geo_p4gn.importers import import_file
from geo_p4gn.seed import seed_store
from geo_p4gn.store import open_store

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "import"
RECORDS = 300


def _csv(path: Path, n: int, tag: str) -> Path:
    rows = ["id,date,type,actor,organisation,notes,lat,lon"]
    rows += [f"{uuid.uuid4()},2024-08-17,deklarasi,komunitas,Karang Taruna {tag} {i:05d} {'RW 07 ' * 12},"
             f"Pagelaran seni nomor {i},-6.151539,106.760338" for i in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sound(tmp_path_factory, boundaries, taxonomy) -> Path:
    """A sound store: the seed sites and starter records plus RECORDS imported ones (many pages)."""
    folder = tmp_path_factory.mktemp("sound")
    path = folder / "store.gpkg"
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        seed_store(store)
        report = import_file(store, _csv(folder / "in.csv", RECORDS, "a"), user="budi")
        assert report.summary()["accepted"] == RECORDS
    return path


def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def _ids(path: Path, boundaries, taxonomy) -> set[str]:
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as store:
        assert store.check_integrity() == []
        return set(store.list(include_deleted=True)["id"])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cli(capsys):
    """``geo-p4gn ARGS`` in this process: (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        rc = main([str(a) for a in args])
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        return rc, out.out, out.err

    return run


# -- real small disks ------------------------------------------------------------------------------
def _sh(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False)


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(size)``: a fresh tmpfs of that size (``"1m"``) mounted in tmp_path; unmounted afterwards."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("a real full or read-only disk needs a tmpfs mount, which needs root (CI runs as root)")
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        out = _sh("mount", "-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs", str(folder))
        if out.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here ({out.stderr.strip()}); CI runs as root")
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        _sh("mount", "-o", "remount,rw", str(folder))
        if _sh("umount", str(folder)).returncode != 0:
            _sh("umount", "-l", str(folder))


def _remount(folder: Path, mode: str) -> None:
    out = _sh("mount", "-o", f"remount,{mode}", str(folder))
    assert out.returncode == 0, out.stderr


def _fill(folder: Path, leave: int) -> Path:
    """Fill the disk holding ``folder`` until only about ``leave`` bytes are free."""
    st = os.statvfs(folder)
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        todo = st.f_bavail * st.f_frsize - leave
        while todo > 0:
            fh.write(b"\0" * min(todo, 1 << 16))
            todo -= 1 << 16
    return filler


# -- a full disk -------------------------------------------------------------------------------------
def test_import_on_a_full_disk_writes_nothing_and_says_so(tmpfs, cli, sound, tmp_path, boundaries, taxonomy):
    disk = tmpfs("2m")
    store = _copy(sound, disk / "store.gpkg")
    before = _ids(store, boundaries, taxonomy)
    filler = _fill(disk, 256 * 1024)
    rc, _, err = cli("import", _csv(tmp_path / "more.csv", 3000, "b"), "--store", store)
    assert rc == 1
    assert f"the disk holding the store file {store} is full" in err
    assert "nothing was written" in err and "free space on that disk" in err
    filler.unlink()
    assert _ids(store, boundaries, taxonomy) == before  # nothing lost, nothing half-written
    rc, _, err = cli("import", FIX / "basic.csv", "--store", store)  # once there is room, it works again
    assert rc == 0, err
    assert len(_ids(store, boundaries, taxonomy)) == len(before) + 3


def test_backup_to_a_full_disk_leaves_no_partial_and_keeps_the_earlier_backup(tmpfs, cli, sound, tmp_path):
    disk = tmpfs("256k")
    store = _copy(sound, tmp_path / "store.gpkg")
    earlier = disk / "backup.gpkg"
    earlier.write_bytes(b"the earlier backup")
    rc, _, err = cli("backup", earlier, "--store", store)
    assert rc == 1
    assert f"the disk holding {earlier} is full" in err and "no backup was written" in err
    assert f"{earlier} is unchanged" in err
    assert sorted(p.name for p in disk.iterdir()) == ["backup.gpkg"]  # no .backup.gpkg.partial
    assert earlier.read_bytes() == b"the earlier backup"


@pytest.mark.parametrize("fmt", ["csv", "geojson", "html"])
def test_export_to_a_full_disk_leaves_nothing_and_says_so(tmpfs, cli, sound, fmt):
    disk = tmpfs("64k")
    out = disk / f"out.{fmt}"
    rc, _, err = cli("export", fmt, out, "--store", sound)
    assert rc == 1, err
    assert f"the disk holding {out} is full" in err and "free space on that disk" in err
    assert "Traceback" not in err
    assert list(disk.iterdir()) == []  # no partial file left behind


def test_postgis_backup_to_a_full_disk_leaves_no_partial(tmpfs, cli, pg_url, boundaries, taxonomy):
    from tests.integration.conftest import pg_schema_url

    url = pg_schema_url(pg_url)
    with open_store(url, boundaries=boundaries, taxonomy=taxonomy) as store:
        seed_store(store)
    disk = tmpfs("256k")
    earlier = disk / "backup.dump"
    earlier.write_bytes(b"the earlier backup")
    _fill(disk, 0)
    rc, _, err = cli("backup", earlier, "--store", url)
    assert rc == 1
    assert f"the disk holding {earlier} is full" in err and f"{earlier} is unchanged" in err
    assert sorted(p.name for p in disk.iterdir()) == ["backup.dump", "filler"]
    assert earlier.read_bytes() == b"the earlier backup"


@pytest.mark.parametrize(("fault", "message"), [
    (OSError(errno.ENOSPC, "No space left on device", "/mnt/usb/out.csv"), "the disk holding /mnt/usb/out.csv is full"),
    (OSError(errno.EROFS, "Read-only file system", "/mnt/usb/out.csv"), "/mnt/usb/out.csv is on a read-only file"),
    (sqlite3.OperationalError("database or disk is full"), "the disk holding the store file STORE is full"),
])
def test_main_is_the_one_place_that_turns_any_fault_into_a_message(monkeypatch, cli, tmp_path, fault, message):
    """A fault no command handled still ends as a message and exit status 1; a bug still raises."""
    from geo_p4gn.cli import coverage as cli_coverage
    def boom(args):
        raise fault

    monkeypatch.setattr(cli_coverage, "_cmd_coverage", boom)
    store = tmp_path / "store.gpkg"
    rc, _, err = cli("coverage", "--store", store)
    assert rc == 1
    assert err.startswith("geo-p4gn: error: " + message.replace("STORE", str(store)))

    def bug(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli_coverage, "_cmd_coverage", bug)
    with pytest.raises(KeyError):
        main(["coverage", "--store", str(store)])


# -- read-only -------------------------------------------------------------------------------------
def _reads_work_writes_refused(cli, store: Path, tmp_path: Path, n: int) -> None:
    rc, out, err = cli("export", "csv", tmp_path / "out.csv", "--store", store)
    assert rc == 0, err
    assert f"{n} records" in out
    for command in (("coverage", "--level", "site"), ("gaps",), ("audit",)):
        rc, out, err = cli(*command, "--store", store)
        assert rc == 0, err
        assert out.count("\n") > 1
    backup = tmp_path / "backup.gpkg"
    rc, _, err = cli("backup", backup, "--store", store)
    assert rc == 0, err
    rc, _, err = cli("import", FIX / "basic.csv", "--store", store)
    assert rc == 1
    assert f"the store file {store} is read-only" in err and "nothing was written" in err


def test_read_only_mount_reads_work_and_writes_say_read_only(tmpfs, cli, sound, tmp_path, boundaries, taxonomy):
    disk = tmpfs("2m")
    store = _copy(sound, disk / "store.gpkg")
    before = _ids(store, boundaries, taxonomy)
    _remount(disk, "ro")
    _reads_work_writes_refused(cli, store, tmp_path, len(before))
    assert _ids(tmp_path / "backup.gpkg", boundaries, taxonomy) == before  # the backup holds every record
    assert _ids(store, boundaries, taxonomy) == before
    _remount(disk, "rw")
    assert sorted(p.name for p in disk.iterdir()) == ["store.gpkg"]  # nothing was written there
    assert _ids(store, boundaries, taxonomy) == before


def test_read_only_mount_with_unmerged_changes_says_so(tmpfs, cli, sound, tmp_path):
    disk = tmpfs("2m")
    work = _copy(sound, tmp_path / "store.gpkg")
    writer = sqlite3.connect(work, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE p4gn_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")
        assert Path(f"{work}-wal").stat().st_size > 0
        store = _copy(work, disk / "store.gpkg")  # as a machine that stopped before merging its -wal
        _copy(Path(f"{work}-wal"), disk / "store.gpkg-wal")
    finally:
        writer.close()
    _remount(disk, "ro")
    rc, _, err = cli("export", "csv", tmp_path / "out.csv", "--store", store)
    assert rc == 1
    assert f"the store file {store} is on a read-only disk" in err and "store.gpkg-wal" in err


@pytest.fixture
def read_only_file(tmp_path):
    """``read_only_file(path)``: make the file read-only for this process (chattr +i as root, else 0444)."""
    made: list[Path] = []

    def make(path: Path) -> Path:
        if os.geteuid() == 0:
            out = _sh("chattr", "+i", str(path)) if shutil.which("chattr") else None
            if out is None or out.returncode != 0:
                pytest.skip("root writes any file with mode 0444, and chattr +i is not available here")
        else:
            path.chmod(0o444)
        made.append(path)
        assert not os.access(path, os.W_OK)
        return path

    yield make
    for path in made:
        if os.geteuid() == 0:
            _sh("chattr", "-i", str(path))
        path.chmod(0o644)


def test_read_only_store_file_reads_work_and_writes_say_read_only(read_only_file, cli, sound, tmp_path,
                                                                  boundaries, taxonomy):
    folder = tmp_path / "ro"
    folder.mkdir()
    store = _copy(sound, folder / "store.gpkg")
    before = _ids(store, boundaries, taxonomy)
    digest = _sha(store)
    read_only_file(store)
    _reads_work_writes_refused(cli, store, tmp_path, len(before))
    assert _sha(store) == digest
    assert _ids(tmp_path / "backup.gpkg", boundaries, taxonomy) == before


# -- a damaged store ---------------------------------------------------------------------------------
def _damage(path: Path, pages: str = "leaves") -> Path:
    """Overwrite a few pages: three leaves of the interventions table in the middle (its last leaf, where
    new rows go, stays sound), or the file's first page (its header)."""
    conn = sqlite3.connect(path)
    try:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        leaves = [r[0] for r in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'interventions' AND pagetype = 'leaf' ORDER BY pageno")]
    finally:
        conn.close()
    assert len(leaves) >= 6
    chosen = leaves[2:5] if pages == "leaves" else [1]
    rng = random.Random(10)
    with open(path, "r+b") as fh:
        for page in chosen:
            fh.seek((page - 1) * size)
            fh.write(rng.randbytes(size))
    return path


@pytest.fixture
def damaged(sound, tmp_path, boundaries, taxonomy):
    good = tmp_path / "good-backup.gpkg"
    with open_store(sound, boundaries=boundaries, taxonomy=taxonomy) as store:
        store.backup(str(good))
    store = _damage(_copy(sound, tmp_path / "store.gpkg"))
    return store, good


def _says_damaged(err: str, store: Path) -> None:
    assert f"the store file {store} is damaged" in err or f"the store file {store} fails its integrity check" in err
    assert f"geo-p4gn restore BACKUP --store {store}" in err


@pytest.mark.parametrize("command", [("export", "csv", "OUT"), ("export", "geojson", "OUT"), ("coverage",),
                                     ("gaps",)])
def test_reading_a_damaged_store_says_damaged(damaged, cli, tmp_path, command):
    store, _ = damaged
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    rc, _, err = cli(*args, "--store", store)
    assert rc == 1
    _says_damaged(err, store)


def test_import_refuses_a_damaged_store_and_writes_nothing(damaged, cli):
    store, _ = damaged
    digest = _sha(store)
    rc, _, err = cli("import", FIX / "basic.csv", "--store", store)
    assert rc == 1
    _says_damaged(err, store)
    assert "nothing was written" in err
    assert _sha(store) == digest
    assert not Path(f"{store}-wal").exists() or Path(f"{store}-wal").stat().st_size == 0
    rc, out, _ = cli("import", FIX / "basic.csv", "--json", "--store", store)
    assert rc == 1
    assert f"the store file {store} is damaged" in json.loads(out)["error"]
    assert _sha(store) == digest


def test_backup_refuses_a_damaged_store_and_keeps_the_earlier_backup(damaged, cli):
    store, good = damaged
    digest = _sha(good)
    rc, _, err = cli("backup", good, "--store", store)
    assert rc == 1
    _says_damaged(err, store)
    assert f"no backup was written; {good} is unchanged" in err
    assert _sha(good) == digest
    assert not list(good.parent.glob(f".{good.name}*"))  # no temporary copy left behind


def test_restore_refuses_a_damaged_backup_and_restores_a_good_one(damaged, cli, sound, tmp_path, boundaries,
                                                                  taxonomy):
    store, good = damaged
    everything = _ids(good, boundaries, taxonomy)
    other = _copy(sound, tmp_path / "other.gpkg")
    digest = _sha(other)
    rc, _, err = cli("restore", store, "--yes", "--store", other)  # the damaged file offered as a backup
    assert rc == 1
    assert f"the backup {store} fails the integrity check" in err and "the store was not changed" in err
    assert _sha(other) == digest
    # the way out: restore the last good backup onto the damaged store; every record is back
    rc, _, err = cli("restore", good, "--yes", "--store", store, "--safety-dir", tmp_path / "aside")
    assert rc == 0, err
    assert _ids(store, boundaries, taxonomy) == everything
    assert len(everything) == RECORDS + 6
    assert [p.suffix for p in (tmp_path / "aside").iterdir()] == [".gpkg"]  # the damaged file, kept aside


def test_a_store_with_a_damaged_header_is_named(sound, cli, tmp_path):
    store = _damage(_copy(sound, tmp_path / "store.gpkg"), pages="header")
    rc, _, err = cli("export", "csv", tmp_path / "out.csv", "--store", store)
    assert rc == 1
    assert f"{store} is not a geo_p4gn GeoPackage store: it is not an SQLite file" in err
    assert f"geo-p4gn restore BACKUP --store {store}" in err


def test_the_command_itself_prints_no_traceback(damaged):
    store, _ = damaged
    env = {k: v for k, v in os.environ.items() if k != "GEO_P4GN_USER"}
    out = subprocess.run([sys.executable, "-m", "geo_p4gn", "coverage", "--store", str(store)], cwd=ROOT,
                         capture_output=True, text=True, env=env, check=False, timeout=300)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith(f"geo-p4gn: error: the store file {store} is damaged")


# -- --site with an area -----------------------------------------------------------------------------
@pytest.mark.parametrize("area", [("--kota", "31.73"), ("--kelurahan", "31.73.01.1004"),
                                  ("--kecamatan", "31.73.01")])
def test_site_with_an_area_filter_through_the_commands(sound, cli, tmp_path, area):
    store = _copy(sound, tmp_path / "store.gpkg")
    rc, out, err = cli("coverage", "--level", "site", "--site", "kampung-ambon", *area, "--store", store)
    assert rc == 0, err
    assert [line.split(",")[1] for line in out.splitlines()[1:]] == ["kampung-ambon"]
    rc, out, err = cli("gaps", "--site", "kampung-ambon", *area, "--store", store)
    assert rc == 0, err
    with open_store(store) as s:
        at_site = int((s.list()["site_id"] == "kampung-ambon").sum())  # the site lies in every area above
    assert at_site > 0
    rc, out, err = cli("export", "csv", tmp_path / "out.csv", "--site", "kampung-ambon", *area, "--store", store)
    assert rc == 0, err
    assert f": {at_site} records" in out
