"""Ekspor: the HTML map and the data exports for the current filters, built only when asked for."""

from __future__ import annotations

import csv
import io
import json

import pytest

from geo_p4gn import services
from geo_p4gn._errors import PermissionDenied
from geo_p4gn.filters import Filters
from geo_p4gn_app import downloads
from tests.app.conftest import open_app, texts

pytestmark = pytest.mark.usefixtures("app_env")


def test_the_page_offers_every_export_for_the_current_filters(store):
    at = open_app("ekspor", query={"sites": "kampung-ambon"})
    labels = [b.label for b in at.download_button]
    assert labels == ["Unduh peta HTML", "Unduh gambar peta (PNG)", "Unduh buku peta (PDF)",
                      "Unduh GeoPackage bergaya QGIS", "Unduh CSV", "Unduh XLSX", "Unduh GeoJSON", "Unduh GeoPackage"]
    assert at.multiselect(key="flt_sites").value == ["kampung-ambon"]
    assert "3 intervensi sesuai filter" in texts(at)
    assert not at.checkbox(key="ekspor_public").disabled  # the single user is an admin


def test_the_files_hold_the_filtered_records(store, tmp_path):
    user, f = services.SINGLE_USER, Filters(sites=("kampung-ambon",))
    page = downloads.html_map(store, user, f, public=False, lang="id", metric="interventions").decode()
    assert page.startswith("<!DOCTYPE html>") and "Kampung Ambon" in page
    rows = list(csv.DictReader(io.StringIO(downloads.records_file(store, user, "csv", f, public=False, hxl=False,
                                                                  lang="id").decode("utf-8-sig"))))
    assert len(rows) == 3 and {r["site_id"] for r in rows} == {"kampung-ambon"}
    public = json.loads(downloads.records_file(store, user, "geojson", f, public=True, hxl=False, lang="id"))
    assert len(public["features"]) == 3
    assert not any("notes" in ft["properties"] or "id" in ft["properties"] for ft in public["features"])
    assert downloads.records_file(store, user, "gpkg", f, public=False, hxl=False, lang="id")[:16] == \
        b"SQLite format 3\x00"
    assert downloads.records_file(store, user, "xlsx", f, public=False, hxl=False, lang="id")[:2] == b"PK"


def test_a_planner_may_not_make_a_public_export(store):
    planner = services.User("rina", "perencana")
    with pytest.raises(PermissionDenied):
        downloads.html_map(store, planner, Filters(), public=True, lang="id", metric="interventions")
    with pytest.raises(PermissionDenied):
        downloads.records_file(store, planner, "csv", Filters(), public=True, hxl=False, lang="id")
