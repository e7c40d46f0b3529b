"""Shared fixtures: the real boundaries (mirror or download cache), the taxonomy, a PostGIS URL."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Tests never read a real users file: without one the app and the CLI run in single-user mode; tests
# that need accounts write their own file and point GEO_P4GN_USERS at it.
os.environ["GEO_P4GN_USERS"] = str(Path(tempfile.gettempdir()) / f"geo-p4gn-no-users-{os.getpid()}.toml")


#: Each payload sets window.__pwned if it ever runs (HTML, attribute, JS string and template contexts).
PAYLOADS = (
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "${window.__pwned=3}",
    "\\`;window.__pwned=4;`",
    "</script><script>window.__pwned=5</script>",
    "\"'><svg onload=window.__pwned=6>",
)


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
