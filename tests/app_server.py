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


def start_app(folder: Path, env: dict[str, str], *, port: int | None = None, timeout: float = 60
              ) -> tuple[subprocess.Popen, str]:
    """Start the app with ``env`` on top of this process's environment (on ``port``, default a free one), its
    output appended to ``folder/streamlit.log``; returns the process and its base URL once
    ``/_stcore/health`` answers. The process's log file is ``proc.log``: the caller stops both."""
    port = port or free_port()
    log_path = Path(folder) / "streamlit.log"
    log = open(log_path, "a")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.enableStaticServing", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=dict(os.environ, **env), stdout=log, stderr=subprocess.STDOUT)
    proc.log = log  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_app(proc)
            msg = f"streamlit did not start: {log_path.read_text()[-2000:]}"
            raise AppDidNotStart(msg)
        time.sleep(0.3)


def stop_app(proc: subprocess.Popen) -> None:
    """Stop a process of :func:`start_app` (terminate, then kill after 15 s) and close its log."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.log.close()  # type: ignore[attr-defined]


@contextlib.contextmanager
def running_app(folder: Path, env: dict[str, str], *, timeout: float = 60) -> Iterator[str]:
    """:func:`start_app` for a ``with`` block: yields the base URL and stops the app afterwards."""
    proc, base = start_app(folder, env, timeout=timeout)
    try:
        yield base
    finally:
        stop_app(proc)
