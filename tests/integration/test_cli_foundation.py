"""The geo-p4gn command as a user runs it: boundaries summary and store initialisation."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "geo_p4gn", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)


def test_boundaries_summary(boundaries):
    out = run("boundaries")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("kelurahan   267  valid  267") for line in lines)
    assert any(line.startswith("kecamatan    44  valid   44") and line.endswith("nests its kelurahan: yes")
               for line in lines)
    assert any(line.startswith("kota          6  valid    6") and line.endswith("nests its kelurahan: yes")
               for line in lines)
    assert "3c5a7960f4d227a38489094d84252bdbb3f978a5" in out.stdout
    data = json.loads(run("boundaries", "--format", "json").stdout)
    assert data["levels"]["kelurahan"]["count"] == 267


def test_bad_mirror_gives_one_clear_error(tmp_path):
    out = run("boundaries", "--rebuild", env={"GEO_P4GN_BOUNDARY_MIRROR": str(tmp_path),
                                                "GEO_P4GN_CACHE": str(tmp_path / "cache")})
    assert out.returncode == 2
    assert out.stderr.startswith("geo-p4gn: error: boundary file wilayah_boundaries_kel_31.01.sql is missing")
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").glob("*.gpkg"))


def test_init_seeds_once(tmp_path, boundaries):
    store = tmp_path / "s.gpkg"
    first = run("init", "--store", str(store))
    assert first.returncode == 0, first.stderr
    assert "6 seed sites and 6 starter interventions added" in first.stdout
    again = run("init", "--store", str(store))
    assert "0 seed sites and 0 starter interventions added; 6 sites, 6 interventions in all" in again.stdout
