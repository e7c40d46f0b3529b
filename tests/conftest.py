"""Shared fixtures: the real boundaries (mirror or download cache), the taxonomy, a PostGIS URL."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests import template_spy as _spy

ROOT = Path(__file__).resolve().parent.parent

# Tests never read a real users file: without one the app and the CLI run in single-user mode; tests
# that need accounts write their own file and point GEO_P4GN_USERS at it.
os.environ["GEO_P4GN_USERS"] = str(Path(tempfile.gettempdir()) / f"geo-p4gn-no-users-{os.getpid()}.toml")


# the payloads live in tests/payloads.py; imported here for the tests that take them from conftest
from tests.payloads import HTML_PAYLOADS, PAYLOADS, TEMPLATE_PAYLOADS  # noqa: E402, F401


@pytest.fixture(scope="session")
def boundaries():
    from geo_p4gn.boundaries import load_boundaries

    return load_boundaries()


@pytest.fixture(scope="session")
def taxonomy():
    from geo_p4gn.taxonomy import load_taxonomy

    return load_taxonomy()


def _start_local_postgis(tmp: Path) -> str | None:
    """Start a throwaway PostGIS with .ci/postgis-up when the Debian packages are installed."""
    if not Path("/usr/share/postgresql/15/extension/postgis.control").exists():
        return None
    port = 56000 + (os.getpid() % 1000)
    out = subprocess.run(
        [str(ROOT / ".ci" / "postgis-up"), str(tmp), str(port)], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() if out.returncode == 0 else None


@pytest.fixture(scope="session")
def pg_url():
    """A PostGIS database URL: GEO_P4GN_TEST_PG, else a throwaway cluster, else skip.

    With GEO_P4GN_REQUIRE_PG=1 (CI) a missing PostGIS is a failure, not a skip.
    """
    url = os.environ.get("GEO_P4GN_TEST_PG")
    started = None
    if not url:
        # not under pytest's tmp folder: it is private to the user running pytest, and as root the
        # cluster runs as user postgres, which must reach its data directory
        started = Path(tempfile.mkdtemp(prefix="geo-p4gn-test-pg-"))
        url = _start_local_postgis(started)
    if not url:
        msg = "no PostGIS: set GEO_P4GN_TEST_PG or install postgresql-15-postgis-3"
        if os.environ.get("GEO_P4GN_REQUIRE_PG") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    yield url
    if started is not None:
        pid = started / "data" / "postmaster.pid"
        if pid.exists():
            subprocess.run(["kill", "-INT", pid.read_text().split()[0]], check=False)
            for _ in range(50):  # fast shutdown takes well under a second
                if not pid.exists():
                    break
                time.sleep(0.1)
        shutil.rmtree(started, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's Chromium, for browser tests; skip without it unless GEO_P4GN_REQUIRE_BROWSER=1."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        msg = "no Chromium at /usr/bin/chromium (apt-get install chromium)"
        if os.environ.get("GEO_P4GN_REQUIRE_BROWSER") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


# -- a store with a payload in every user-text field (tests/*/test_template_injection*.py) ------------------
@pytest.fixture(scope="module")
def payload_taxonomy_file(tmp_path_factory, taxonomy):
    """The real taxonomy with a payload in every label (keys stay: they are validated identifiers)."""
    import tomlkit

    doc = {"year": 2024}
    for group in ("types", "actors", "ikrn"):
        doc[group] = [{"key": t.key, "id": f"{_spy.MARKED[i % len(_spy.MARKED)]} {t.id}",
                       "en": f"{_spy.MARKED[(i + 1) % len(_spy.MARKED)]} {t.en}",
                       **({"rank": t.rank} if t.rank is not None else {}),
                       **({"color": t.color} if t.color else {})}
                      for i, t in enumerate(getattr(taxonomy, group))]
    path = tmp_path_factory.mktemp("taxonomy") / "taxonomy.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def payload_store(tmp_path_factory, boundaries, payload_taxonomy_file):
    """A GeoPackage store: one site per payload (name, alias, sources), one record per payload
    (organisation, notes), all in one kelurahan (so the map's points layer draws them)."""
    import uuid

    import shapely

    from geo_p4gn.records import validate_record
    from geo_p4gn.store import open_store
    from geo_p4gn.taxonomy import load_taxonomy

    tax = load_taxonomy(payload_taxonomy_file)
    path = tmp_path_factory.mktemp("store") / "p4gn.gpkg"
    point = shapely.point_on_surface(boundaries.kelurahan.set_index("code").loc["31.73.01.1004", "geometry"])
    with open_store(path, boundaries=boundaries, taxonomy=tax) as store:
        for i, text in enumerate(_spy.MARKED):
            store.upsert_site({"id": f"site-{i}", "name": text, "aliases": [f"alias {text}"],
                               "sources": [f"https://example.org/{i}", f"laporan {text}"],
                               "ikrn": tax.ikrn_keys[i % len(tax.ikrn_keys)],
                               "geometry": shapely.Point(point.x + i * 1e-4, point.y)}, user="admin")
        recs = [validate_record({"id": str(uuid.UUID(int=i + 1)), "date": f"2024-0{1 + i % 9}-15",
                                 "type": tax.type_keys[i % len(tax.type_keys)],
                                 "actor": tax.actor_keys[i % len(tax.actor_keys)], "organisation": text,
                                 "participants": i + 1, "site_id": f"site-{i}", "notes": f"{_spy.PAYLOAD_NOTE} {text}",
                                 "lon": point.x + i * 1e-4, "lat": point.y}, taxonomy=tax)
                for i, text in enumerate(_spy.MARKED)]
        store.add_many(recs, user="admin")
    return path, tax
