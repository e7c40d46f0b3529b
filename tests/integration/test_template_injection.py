"""Template, script and markup payloads in every user-text field, through every renderer, against the real
boundaries and a real GeoPackage store: the text comes out verbatim and nothing is evaluated.

Fields: organisation, notes, site name, aliases, sources, taxonomy labels (types, actors, IKRN). User names
cannot carry a payload: a name is letters, digits and ``. _ @ + -`` (checked below). Renderers: the app's
maps (Peta cakupan, Catat, Situs, run by Streamlit's AppTest with the real ``st_folium``), the HTML export
(internal and public), the CLI's coverage and gap tables, and the data downloads (CSV, XLSX, GeoJSON).

Each user string carries :data:`tests.template_spy.MARK`; every template that Jinja2 compiles meanwhile is
recorded, and none may hold it.
"""

from __future__ import annotations

import csv
import html.parser
import json

import openpyxl
import pytest

from geo_p4gn import cli, services
from geo_p4gn._errors import PermissionDenied
from geo_p4gn.render.maps import to_js
from geo_p4gn.store import open_store
from tests.conftest import PAYLOADS
from tests.template_spy import MARKED, PAYLOAD_NOTE, compiled_sources, tainted

#: What an evaluated payload would have shown instead of itself.
EVALUATED = ("Probe 49", "XXX", "uid=")
ADMIN = services.User("admin", "admin")


def _texts(page: str) -> str:
    """The text a reader sees in a page's body (tags gone, entities decoded), scripts and styles left out."""
    class Text(html.parser.HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.out, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style")

        def handle_endtag(self, tag):
            self.skip -= tag in ("script", "style")

        def handle_data(self, data):
            if not self.skip:
                self.out.append(data)

    parser = Text()
    parser.feed(page)
    return "".join(parser.out)


def test_a_user_name_cannot_carry_a_payload():
    for payload in PAYLOADS:
        with pytest.raises(PermissionDenied, match="user name"):
            services.User(payload, "admin")


@pytest.mark.parametrize("public", [False, True], ids=["internal", "public"])
def test_html_export(payload_store, boundaries, tmp_path, public):
    path, tax = payload_store
    with open_store(path, boundaries=boundaries, taxonomy=tax) as store, compiled_sources() as sources:
        page = services.export_html(store, ADMIN, tmp_path / "map.html", public=public)
    assert tainted(sources) == []
    text = _texts(page)
    for t in MARKED:
        assert t in text  # the site table and the matrix show each name and label verbatim
        assert to_js(t)[1:-1] in page  # and the map's data carries it as a JSON string
    assert (f"alias {MARKED[0]}" in text) is not public
    assert not any(e in page for e in EVALUATED)
    assert PAYLOAD_NOTE not in page  # notes are never exported


def test_cli_tables(payload_store, payload_taxonomy_file, capsys, monkeypatch):
    path, _ = payload_store
    monkeypatch.setattr("geo_p4gn.taxonomy.taxonomy_path", lambda: payload_taxonomy_file)
    with compiled_sources() as sources:
        assert cli.main(["coverage", "--level", "site", "--format", "json", "--store", str(path)]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert cli.main(["gaps", "--format", "csv", "--store", str(path)]) == 0
        gaps = capsys.readouterr().out
    assert tainted(sources) == []
    names = {r["name"] for r in rows}
    assert set(MARKED) <= names
    assert not any(e in json.dumps(rows) + gaps for e in EVALUATED)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_downloads(payload_store, boundaries, tmp_path, fmt):
    path, tax = payload_store
    out = tmp_path / f"records.{fmt}"
    with open_store(path, boundaries=boundaries, taxonomy=tax) as store, compiled_sources() as sources:
        services.export_records(store, ADMIN, out, fmt)
    assert tainted(sources) == []
    if fmt == "csv":
        with out.open(encoding="utf-8-sig", newline="") as fh:
            cells = [c for row in csv.reader(fh) for c in row]
    elif fmt == "xlsx":
        wb = openpyxl.load_workbook(out, read_only=True)
        cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    else:
        cells = [str(v) for f in json.loads(out.read_text(encoding="utf-8"))["features"]
                 for v in f["properties"].values()]
    for t in MARKED:  # the organisation of each record, verbatim (none starts with a formula character)
        assert t in cells
    assert not any(e in c for c in cells for e in EVALUATED)
