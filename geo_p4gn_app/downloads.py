"""Files built when a download button is pressed (``st.download_button(data=callable, on_click="ignore")``).

Each goes through :mod:`geo_p4gn.services` with the signed-in user, so the permission is checked again
when the file is made, whatever the page showed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from geo_p4gn import services
from geo_p4gn.filters import Filters
from geo_p4gn.services import briefing

#: Data export formats: (format key, file suffix, label, MIME type).
FORMATS = (
    ("csv", "csv", "CSV", "text/csv"),
    ("xlsx", "xlsx", "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("geojson", "geojson", "GeoJSON", "application/geo+json"),
    ("gpkg", "gpkg", "GeoPackage", "application/geopackage+sqlite3"),
)


def html_map(store, user, filters: Filters, *, public: bool, lang: str, metric: str) -> bytes:
    """The shareable HTML map (:func:`geo_p4gn.services.export_html`) as UTF-8 bytes."""
    page = services.export_html(store, user, None, filters, public=public, lang=lang, metric=metric)
    return page.encode("utf-8")


def records_file(store, user, fmt: str, filters: Filters, *, public: bool, hxl: bool, lang: str) -> bytes:
    """The filtered records as ``fmt`` (:func:`geo_p4gn.services.export_records`), written to a private
    temporary folder and read back."""
    with tempfile.TemporaryDirectory(prefix="geo-p4gn-export-") as tmp:
        out = Path(tmp) / f"export.{fmt}"
        services.export_records(store, user, out, fmt, filters, public=public, hxl=hxl and fmt == "csv",
                                lang=lang)
        return out.read_bytes()


def png_map(store, user, filters: Filters, *, public: bool, lang: str, metric: str, level: str = "kelurahan"
            ) -> bytes:
    """The map image (:func:`geo_p4gn.services.briefing.export_png`)."""

    return briefing.export_png(store, user, None, filters, public=public, lang=lang, metric=metric, level=level)


def report_pdf(store, user, filters: Filters, *, public: bool, lang: str, metric: str) -> bytes:
    """The PDF map book (:func:`geo_p4gn.services.briefing.export_report`)."""

    return briefing.export_report(store, user, None, filters, public=public, lang=lang, metric=metric)


def styled_gpkg(store, user, filters: Filters, *, public: bool, lang: str, metric: str) -> bytes:
    """The QGIS-styled GeoPackage (:func:`geo_p4gn.services.briefing.export_styled_gpkg`), made in a private
    temporary folder and read back."""

    with tempfile.TemporaryDirectory(prefix="geo-p4gn-export-") as tmp:
        out = Path(tmp) / "styled.gpkg"
        briefing.export_styled_gpkg(store, user, out, filters, public=public, lang=lang, metric=metric)
        return out.read_bytes()
