"""The briefing pack (issue 14) against the real boundaries and a real GeoPackage store: the PDF map book's
pages and numbers (read back with pypdf), the PNG's size and dimensions, the styled GeoPackage read back
with GDAL (pyogrio), the bulletin mailed to a real SMTP server on loopback (aiosmtpd, no mock), the
public-mode rules and the payloads (verbatim, never evaluated) in the PDF's text and the PNG's metadata.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import sqlite3
import uuid
import xml.etree.ElementTree as ET

import pyogrio
import pypdf
import pytest
import shapely
from PIL import Image

from geo_p4gn import cli, coverage, services
from geo_p4gn._errors import FaultError, PermissionDenied
from geo_p4gn.filters import Filters
from geo_p4gn.records import validate_record
from geo_p4gn.render import maps
from geo_p4gn.services import briefing
from geo_p4gn.store import open_store
from tests.template_spy import MARKED, PAYLOAD_NOTE, compiled_sources, tainted

ADMIN = services.User("admin", "admin")
AS_OF = dt.date(2024, 12, 31)
MADE = dt.datetime(2024, 12, 31, 3, 30, tzinfo=dt.UTC)  # 10:30 WIB
#: What an evaluated payload would have shown instead of itself.
EVALUATED = ("Probe 49", "XXX", "uid=")


def _layout(page) -> str:
    """A page's text laid out as it looks (pypdf's layout mode), runs of spaces as one: a table row is a line."""
    return "\n".join(" ".join(line.split()) for line in page.extract_text(extraction_mode="layout").splitlines())


def _flat(text: str) -> str:
    """Text without any whitespace: a string wrapped over lines is still found whole."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def store(tmp_path_factory, boundaries, taxonomy):
    """The seed sites and starter data, plus 70 records at the sites (every type, every actor)."""
    from geo_p4gn import seed

    path = tmp_path_factory.mktemp("briefing") / "store.gpkg"
    with open_store(path, boundaries=boundaries, taxonomy=taxonomy) as s:
        seed.seed_store(s)
        sites = s.list_sites()
        recs = []
        for i in range(70):
            site = sites.iloc[i % len(sites)]
            point = site.geometry
            recs.append(validate_record({
                "id": str(uuid.UUID(int=1000 + i)), "date": f"2024-{1 + i % 12:02d}-{1 + i % 27:02d}",
                "type": taxonomy.type_keys[i % len(taxonomy.type_keys)],
                "actor": taxonomy.actor_keys[(i // 7) % len(taxonomy.actor_keys)],
                "organisation": f"Organisasi rahasia {i % 5}", "participants": 10 + i, "site_id": site["id"],
                "notes": f"{PAYLOAD_NOTE} catatan {i}", "lon": point.x, "lat": point.y}, taxonomy=taxonomy))
        s.add_many(recs, user="admin")
    s = open_store(path, boundaries=boundaries, taxonomy=taxonomy)
    yield s
    s.close()


@pytest.fixture(scope="module")
def tables(store):
    return {lv: services.coverage_table(store, ADMIN, lv, as_of=AS_OF) for lv in ("site", "kota", "province")}


@pytest.fixture(scope="module")
def book(store):
    pdf = briefing.export_report(store, ADMIN, None, as_of=AS_OF, made=MADE)
    return pdf, pypdf.PdfReader(io.BytesIO(pdf))


@pytest.fixture(scope="module")
def public_book(store):
    pdf = briefing.export_report(store, ADMIN, None, public=True, as_of=AS_OF, made=MADE)
    return pdf, pypdf.PdfReader(io.BytesIO(pdf))


# -- the PDF map book ------------------------------------------------------------------------------------------
def test_the_book_has_a_cover_contents_a_page_per_kota_and_per_site(book, tables, boundaries):
    pdf, reader = book
    n_sites, n_kota = len(tables["site"]), len(tables["kota"])
    assert (n_sites, n_kota) == (6, 6)
    assert len(reader.pages) == 2 + n_kota + n_sites == 14
    assert pdf.startswith(b"%PDF") and len(pdf) <= 5_000_000
    texts = [p.extract_text() for p in reader.pages]
    assert "Buku peta cakupan intervensi P4GN" in texts[0]
    assert "Daftar isi" in texts[1]
    for i, text in enumerate(texts, start=1):
        assert f"Halaman {i} dari 14" in text
        assert "Dibuat: 2024-12-31 10:30 WIB" in text
    for k, row in enumerate(tables["kota"].itertuples(index=False)):
        assert f"{row.name} ({row.code})" in texts[2 + k]  # its heading
        assert f"{row.name} ({row.code})" in texts[1] and f"\n{3 + k}" in "\n" + texts[1].replace(" ", "\n")
    for k, row in enumerate(tables["site"].itertuples(index=False)):
        assert row.name in texts[2 + n_kota + k]
        assert row.name in texts[1]


def test_the_cover_numbers_equal_the_province_coverage_table(book, tables):
    _, reader = book
    cover = _layout(reader.pages[0])
    prov = tables["province"].iloc[0]
    reached, targets = int(prov["sites_reached"]), int(prov["target_sites"])
    assert f"Situs sasaran dijangkau {reached}/{targets} ({100 * reached / targets:.0f}%)" in cover
    assert f"Intervensi {int(prov['interventions'])}" in cover
    assert f"Peserta (dilaporkan) {int(prov['participants'])}" in cover
    assert int(prov["interventions"]) == 76  # 6 starter records + 70


def test_each_kota_page_carries_its_coverage_row_and_its_matrix(book, tables, store, taxonomy):
    _, reader = book
    for k, row in enumerate(tables["kota"].itertuples(index=False)):
        text = _layout(reader.pages[2 + k])
        assert f"{row.interventions} intervensi" in text
        assert f"dijangkau {row.sites_reached}/{row.target_sites}" in text
        matrix = coverage.type_actor_matrix(store.list(), taxonomy, area=row.code)
        assert f"Total {' '.join(str(int(v)) for v in matrix.sum(axis=0))} {int(matrix.to_numpy().sum())}" \
            in text.replace("\n", " ")


def test_each_site_page_carries_its_matrix_and_last_activity(book, tables, store, taxonomy):
    _, reader = book
    for k, row in enumerate(tables["site"].itertuples(index=False)):
        text = _layout(reader.pages[8 + k])
        assert f"Intervensi {row.interventions}" in text
        assert f"Kegiatan terakhir {row.last_date.date().isoformat()}" in text
        matrix = coverage.type_actor_matrix(store.list(), taxonomy, site=row.code)
        assert f"Total {' '.join(str(int(v)) for v in matrix.sum(axis=0))}" in text.replace("\n", " ")
        assert "titik situs" in text or "perkiraan" in text  # internal: the site's own place


def test_the_english_book(store):
    reader = pypdf.PdfReader(io.BytesIO(briefing.export_report(store, ADMIN, None, lang="en", as_of=AS_OF)))
    assert "P4GN intervention coverage map book" in reader.pages[0].extract_text()
    assert "Contents" in reader.pages[1].extract_text()
    assert "Page 3 of 14" in reader.pages[2].extract_text()


def test_a_filtered_book_has_only_the_chosen_kota(store):
    pdf = briefing.export_report(store, ADMIN, None, Filters(kota=("31.73",)), as_of=AS_OF)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    texts = [p.extract_text() for p in reader.pages]
    assert len(texts) == 2 + 1 + 2  # one kota; its two target sites (Kampung Ambon, Kampung Boncos)
    assert "Kota Administrasi Jakarta Barat (31.73)" in texts[2]
    assert not any("Jakarta Timur (31.75)" in t for t in texts)


# -- the PNG ---------------------------------------------------------------------------------------------------
def test_the_png_is_phone_sized_and_small(store, tmp_path):
    out = tmp_path / "peta-{date}.png"
    png = briefing.export_png(store, ADMIN, briefing.dated_path(out, AS_OF), as_of=AS_OF, made=MADE)
    written = tmp_path / "peta-2024-12-31.png"
    assert written.read_bytes() == png
    assert len(png) <= 400_000
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (1080, 1350)
    assert img.text["Creation Time"] == "2024-12-31 10:30 WIB"
    assert img.text["Title"] == "Cakupan intervensi P4GN, DKI Jakarta: Jumlah intervensi per kelurahan"
    assert "cahyadsn/wilayah_boundaries" in img.text["Source"]
    for level in ("kecamatan", "kota"):
        for metric in maps.METRICS:
            other = briefing.export_png(store, ADMIN, None, level=level, metric=metric, lang="en", as_of=AS_OF)
            assert Image.open(io.BytesIO(other)).size == (1080, 1350) and len(other) <= 400_000


def test_the_png_uses_the_apps_colours(store):
    """Every colour of the app's classes that the view uses shows up in the image, unchanged."""
    png = briefing.export_png(store, ADMIN, None, level="kota", as_of=AS_OF)
    table = services.coverage_table(store, ADMIN, "kota", as_of=AS_OF)
    colors, _ = maps.classify(maps.metric_values(table, "interventions"))
    with Image.open(io.BytesIO(png)) as img:
        found = {"#{:02x}{:02x}{:02x}".format(*c[1]) for c in img.convert("RGB").getcolors(1 << 20)}
    assert set(colors) <= found


# -- the styled GeoPackage -------------------------------------------------------------------------------------
def test_the_styled_geopackage_reads_back_with_its_styles(store, tmp_path, boundaries):
    out = tmp_path / "qgis.gpkg"
    counts = briefing.export_styled_gpkg(store, ADMIN, out, as_of=AS_OF)
    layers = dict(pyogrio.list_layers(out).tolist())
    assert layers == {"coverage_kelurahan": "MultiPolygon", "coverage_kecamatan": "MultiPolygon",
                      "coverage_kota": "MultiPolygon", "interventions": "Point", "layer_styles": None}
    assert counts == {"coverage_kelurahan": 267, "coverage_kecamatan": 44, "coverage_kota": 6, "interventions": 76}
    for layer, n in counts.items():
        assert pyogrio.read_info(out, layer=layer)["features"] == n
    kota = pyogrio.read_dataframe(out, layer="coverage_kota")
    table = services.coverage_table(store, ADMIN, "kota", as_of=AS_OF)
    assert set(coverage.COLUMNS) <= set(kota.columns)
    assert kota.set_index("code")["interventions"].to_dict() == table.set_index("code")["interventions"].to_dict()
    styles = pyogrio.read_dataframe(out, layer="layer_styles")
    assert sorted(styles["f_table_name"]) == sorted(counts)  # a style row per layer
    assert styles["useAsDefault"].astype(bool).all()
    for row in styles.itertuples():
        root = ET.fromstring(row.styleQML.split("\n", 1)[1])
        assert root.tag == "qgis" and root.find("renderer-v2").get("type") == "categorizedSymbol"
        ET.fromstring(row.styleSLD)
    qml = styles.set_index("f_table_name").loc["coverage_kota", "styleQML"]
    _, items = maps.classify(maps.metric_values(table, "interventions"))
    for color, label in items:
        rgb = ",".join(str(int(color[i:i + 2], 16)) for i in (1, 3, 5))
        assert f'label="{label}"' in qml and rgb in qml
    con = sqlite3.connect(out)
    assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone() == \
        ("attributes",)
    con.close()


# -- bulletins: cron-friendly commands, mail on a real SMTP server on loopback ---------------------------------
class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:  # a free port on loopback (the controller cannot start on port 0)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, "127.0.0.1", port
    finally:
        controller.stop()


def test_a_bulletin_is_mailed_through_a_real_smtp_server(smtp_server, tmp_path, store):
    inbox, host, port = smtp_server
    pdf = tmp_path / "buletin.pdf"
    briefing.export_report(store, ADMIN, pdf, public=True, as_of=AS_OF)
    briefing.mail_bulletin(ADMIN, ["pimpinan@example.org", "mitra@example.org"], [pdf], public=True,
                           subject="Buletin P4GN", body="Terlampir.", host=host, port=port, security="none",
                           sender="p4gn@example.org", login="", password="")
    assert len(inbox.messages) == 1
    sender, rcpts, content = inbox.messages[0]
    assert sender == "p4gn@example.org" and rcpts == ["pimpinan@example.org", "mitra@example.org"]
    msg = email.message_from_bytes(content, policy=email.policy.default)
    assert msg["Subject"] == "Buletin P4GN"
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "buletin.pdf" and att.get_content_type() == "application/pdf"
    assert att.get_content() == pdf.read_bytes()


def test_the_report_command_is_cron_friendly(smtp_server, tmp_path, store, monkeypatch, capsys):
    from geo_p4gn import settings

    inbox, host, port = smtp_server
    for name, value in (("smtp_host", host), ("smtp_port", port), ("smtp_security", "none"),
                        ("smtp_from", "p4gn@example.org")):
        monkeypatch.setattr(settings, name, value)
    out = tmp_path / "buletin-{date}.pdf"
    code = cli.main(["report", str(out), "--store", store.url.removeprefix("file:"), "--public", "--quiet",
                     "--mail", "pimpinan@example.org"])
    assert code == 0 and capsys.readouterr().out == ""
    written = list(tmp_path.glob("buletin-*.pdf"))
    assert len(written) == 1 and written[0].name != "buletin-{date}.pdf"
    assert written[0].name[8:18] == briefing.dated_path("{date}").name
    assert len(inbox.messages) == 1
    code = cli.main(["export", "png", str(tmp_path / "peta.png"), "--store", store.url.removeprefix("file:"),
                     "--level", "kota"])
    assert code == 0 and "map image" in capsys.readouterr().out
    with Image.open(tmp_path / "peta.png") as img:
        assert img.size == (1080, 1350)


def test_an_unreachable_smtp_server_is_a_fault_and_the_file_is_kept(tmp_path, store, monkeypatch, capsys):
    import socket

    from geo_p4gn import settings

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for name, value in (("smtp_host", "127.0.0.1"), ("smtp_port", port), ("smtp_security", "none"),
                        ("smtp_from", "p4gn@example.org"), ("smtp_timeout", 5.0)):
        monkeypatch.setattr(settings, name, value)
    out = tmp_path / "b.pdf"
    code = cli.main(["report", str(out), "--store", store.url.removeprefix("file:"), "--quiet",
                     "--mail", "x@example.org"])
    assert code == 1 and "could not be mailed" in capsys.readouterr().err
    assert out.read_bytes().startswith(b"%PDF")
    with pytest.raises(FaultError):
        briefing.send_mail(["x@example.org"], "s", "b", [out], host="127.0.0.1", port=port, sender="a@b.c",
                           security="none", timeout=5.0)


# -- public mode and roles ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", ["png", "report", "gpkg"])
def test_roles_are_those_of_the_other_exports(make, store, tmp_path):
    planner, field = services.User("rina", "perencana"), services.User("ani", "petugas")
    call = {"png": lambda u, p: briefing.export_png(store, u, None, public=p),
            "report": lambda u, p: briefing.export_report(store, u, None, public=p),
            "gpkg": lambda u, p: briefing.export_styled_gpkg(store, u, tmp_path / f"{u.name}.gpkg", public=p)}[make]
    call(planner, False)  # planners export for internal use
    with pytest.raises(PermissionDenied):
        call(planner, True)
    with pytest.raises(PermissionDenied):
        call(field, False)
    with pytest.raises(PermissionDenied):
        briefing.mail_bulletin(planner, ["a@example.org"], [], public=True, subject="s", body="b", host="x",
                               port=1, sender="a@b.c")


def test_the_public_book_generalises_sites_and_drops_free_text(public_book, book):
    _, reader = public_book
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Versi publik" in text and "digeneralisasi ke kelurahan (versi publik)" in text
    assert "titik situs" not in text and "perkiraan (titik kelurahan)" not in text
    assert "Organisasi rahasia" not in text and PAYLOAD_NOTE not in text
    internal = "\n".join(p.extract_text() for p in book[1].pages)
    assert PAYLOAD_NOTE not in internal  # notes are never read by any book


def test_the_public_files_read_only_the_public_columns(store, tmp_path, monkeypatch):
    """Public books never touch a site's geometry or aliases; the public GeoPackage holds no id, notes or site."""
    from geo_p4gn.render import html

    seen = []
    original = html.allowed_sites

    def spy(sites, public):
        out = original(sites, public)
        seen.append((public, list(out.columns)))
        return out

    monkeypatch.setattr(html, "allowed_sites", spy)
    briefing.export_png(store, ADMIN, None, public=True, as_of=AS_OF)
    briefing.export_report(store, ADMIN, None, public=True, as_of=AS_OF)
    assert seen and all(p and set(cols) == set(html.PUBLIC_SITE_COLUMNS) for p, cols in seen)
    out = tmp_path / "pub.gpkg"
    briefing.export_styled_gpkg(store, ADMIN, out, public=True, as_of=AS_OF)
    inter = pyogrio.read_dataframe(out, layer="interventions")
    assert not {"id", "notes", "site_id", "site_name", "lat", "lon"} & set(inter.columns)
    kel_points = {c: shapely.point_on_surface(g) for c, g in
                  zip(store.boundaries.kelurahan["code"], store.boundaries.kelurahan.geometry)}
    for code, geom in zip(inter["kelurahan_code"], inter.geometry):
        assert geom.distance(kel_points[code]) < 1e-6  # at the kelurahan's point, not the site's


# -- payloads: verbatim in the PDF's text and the PNG's metadata, never evaluated -------------------------------
def test_payloads_stay_text_in_the_book_and_the_image(payload_store):
    path, tax = payload_store
    with open_store(path, taxonomy=tax) as s, compiled_sources() as sources:
        pdf = briefing.export_report(s, ADMIN, None, as_of=AS_OF)
        public_pdf = briefing.export_report(s, ADMIN, None, public=True, as_of=AS_OF)
        png = briefing.export_png(s, ADMIN, None, Filters(sites=("site-0", "site-1", "site-6")), as_of=AS_OF)
    assert tainted(sources) == []
    for data in (pdf, public_pdf):
        text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
        flat = _flat(text)
        for marked in MARKED:
            assert _flat(marked) in flat  # the site names, verbatim
        assert not any(e in text for e in EVALUATED)
        assert PAYLOAD_NOTE not in text
    public_text = _flat("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(public_pdf)).pages))
    assert _flat(f"alias {MARKED[0]}") not in public_text
    meta = Image.open(io.BytesIO(png)).text
    for i in (0, 1, 6):
        assert MARKED[i] in meta["Description"]
    assert not any(e in v for v in meta.values() for e in EVALUATED)
