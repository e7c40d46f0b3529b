"""``streamlit run app.py`` on a free loopback port, for the browser tests and the benches that drive the app.

>>> with running_app(tmp, {"GEO_P4GN_STORE": str(tmp / "p4gn.gpkg")}) as base:  # doctest: +SKIP
...     page.goto(base + "/catat")
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class AppDidNotStart(RuntimeError):
    """The app exited or did not answer its health check in time; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(folder: Path, env: dict[str, str], *, timeout: float = 60) -> Iterator[str]:
    """The app with ``env`` on top of this process's environment, its output in ``folder/streamlit.log``;
    yields its base URL once ``/_stcore/health`` answers, and stops it afterwards."""
    port = free_port()
    log_path = Path(folder) / "streamlit.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.enableStaticServing", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=dict(os.environ, **env), stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    msg = f"streamlit did not start: {log_path.read_text()[-2000:]}"
                    raise AppDidNotStart(msg)
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
