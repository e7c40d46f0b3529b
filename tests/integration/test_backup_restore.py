"""The backup drill: a backup taken while writer processes write, restored, holds every batch committed
before the backup started, each batch whole, and the store passes its integrity check (both backends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from geo_p4gn import P4gnError, services
from geo_p4gn.store import open_store
from geo_p4gn.store.restore import restore_from

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
SIZE = 25
WRITERS = 3


class Writer:
    """A `batches` worker of tests/integration/_workers.py; records when each commit line was read."""

    def __init__(self, url: str, tag: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.integration._workers", "batches", url, str(SIZE),
                                      tag], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=os.environ.copy())
        self.seen: list[tuple[float, str]] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("committed "):
                self.seen.append((time.monotonic(), line.split()[1]))

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=60)
        self.thread.join(timeout=60)
        self.proc.stdout.close()
        self.proc.stderr.close()


def _cli(*args: str, users: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GEO_P4GN_USERS": str(users)}
    env.pop("GEO_P4GN_USER", None)
    return subprocess.run([sys.executable, "-m", "geo_p4gn", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, check=False, timeout=600)


def test_backup_during_concurrent_writes_restores_every_committed_batch(store_url, boundaries, taxonomy, tmp_path):
    users = tmp_path / "no-users.toml"  # no users file: the CLI runs as the single local admin
    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        revision_before = int(store.data_version().rsplit(":", 1)[1])
    writers = [Writer(store_url, f"w{i}") for i in range(WRITERS)]
    try:
        deadline = time.monotonic() + 300
        while min(len(w.seen) for w in writers) < 3:  # every writer has committed a few batches
            assert time.monotonic() < deadline, "the writers did not start"
            assert all(w.proc.poll() is None for w in writers), writers[0].proc.stderr.read()
            time.sleep(0.05)
        started = time.monotonic()
        backup = tmp_path / "backup.bin"
        out = _cli("backup", str(backup), "--store", store_url, users=users)
        finished = time.monotonic()
        assert out.returncode == 0, out.stderr
        time.sleep(0.5)  # writing goes on after the backup
    finally:
        for w in writers:
            w.stop()
    before = {tag for w in writers for t, tag in w.seen if t < started}
    committed = {tag for w in writers for _, tag in w.seen}
    during = {tag for w in writers for t, tag in w.seen if started <= t <= finished}
    assert len(before) >= 3 * WRITERS
    assert committed - before, "no batch was committed after the backup started: the drill proved nothing"

    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        live = store.list()["organisation"].value_counts().to_dict()
    assert set(live.values()) == {SIZE} and committed <= set(live)

    out = _cli("restore", str(backup), "--store", store_url, "--yes", "--safety-dir", str(tmp_path), users=users)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].endswith("audit entries; integrity ok")

    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        assert store.check_integrity() == []
        frame = store.list()
        restored = frame["organisation"].value_counts().to_dict()
        log = store.audit_log()
        revision = int(store.data_version().rsplit(":", 1)[1])
    assert before <= set(restored), f"lost after restore: {sorted(before - set(restored))}"
    assert set(restored.values()) == {SIZE}, "a partial batch in the backup"
    assert set(restored) <= before | during, "the backup holds a batch committed after it finished"
    assert set(restored) < set(live), "the restore did not replace the store"
    assert len(frame) == SIZE * len(restored) and frame["id"].is_unique
    # every restored record has its audit entry, and the restore itself is audited last
    assert (log["action"] == "create").sum() == len(frame)
    last = log.iloc[-1]
    assert (last["entity"], last["entity_id"], last["action"], last["who"]) == \
        ("store", "store", "restore", services.SINGLE_USER.name)
    assert json.loads(last["after"])["backup"] == "backup.bin"
    assert revision > revision_before + len(committed)  # past every revision the live store had
    assert len(list(tmp_path.glob("*pre-restore*"))) == 1  # the store as it was is kept aside


def test_a_bad_backup_changes_nothing(store_url, boundaries, taxonomy, tmp_path):
    from geo_p4gn.records import validate_record

    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        store.add(validate_record({"date": "2024-08-17", "type": "deklarasi", "actor": "komunitas",
                                   "organisation": "RW 01", "lon": 106.758576, "lat": -6.152569},
                                  taxonomy=taxonomy), user="t")
        version = store.data_version()
    bad = tmp_path / "bad.backup"
    bad.write_bytes(b"SQLite format 3\x00" + os.urandom(5000))
    with pytest.raises(P4gnError, match="the store was not changed"):
        restore_from(bad, store_url, boundaries=boundaries, taxonomy=taxonomy, safety_dir=tmp_path)
    other = tmp_path / "other.gpkg"  # a valid GeoPackage, but not a geo_p4gn store
    import geopandas as gpd
    import shapely

    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(other, driver="GPKG")
    with pytest.raises(P4gnError, match="the store was not changed"):
        restore_from(other, store_url, boundaries=boundaries, taxonomy=taxonomy, safety_dir=tmp_path)
    with pytest.raises(P4gnError, match="^no backup file at "):
        restore_from(tmp_path / "missing", store_url, boundaries=boundaries, taxonomy=taxonomy)
    with open_store(store_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        assert store.data_version() == version
        assert len(store.list()) == 1 and store.check_integrity() == []
    assert list(tmp_path.glob("*pre-restore*")) == []


def test_restore_into_a_new_place(boundaries, taxonomy, tmp_path):
    """A GeoPackage backup restored where no store exists yet (a new laptop)."""
    from geo_p4gn.records import validate_record

    with open_store(str(tmp_path / "old.gpkg"), boundaries=boundaries, taxonomy=taxonomy) as store:
        store.add(validate_record({"date": "2024-08-17", "type": "deklarasi", "actor": "komunitas",
                                   "organisation": "RW 01", "lon": 106.758576, "lat": -6.152569},
                                  taxonomy=taxonomy), user="t")
        services.backup_store(store, services.SINGLE_USER, tmp_path / "b.gpkg")
    done = restore_from(tmp_path / "b.gpkg", str(tmp_path / "new" / "p4gn.gpkg"), boundaries=boundaries,
                        taxonomy=taxonomy)
    assert (done["interventions"], done["sites"], done["audit"], done["safety_copy"]) == (1, 0, 2, None)
