"""OpenRosa against a real HTTP server (uvicorn on loopback), with requests shaped as ODK Collect sends them.

Collect (v2024.x) first sends ``HEAD /submission`` without credentials, gets 401 with a Basic challenge,
repeats it with ``Authorization: Basic``, reads ``X-OpenRosa-Accept-Content-Length``, then POSTs
``multipart/form-data`` with the instance as ``xml_submission_file`` (``text/xml``), always with the
headers ``X-OpenRosa-Version: 1.0`` and ``Date``. The instances in ``tests/fixtures/openrosa/`` are as
Collect writes them for the generated form (GPS point, kelurahan chosen, site chosen).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
import uvicorn
from starlette.applications import Starlette

from geo_p4gn import auth, importers, xform
from geo_p4gn.http import routes
from geo_p4gn.identity import User
from geo_p4gn.seed import seed_store
from geo_p4gn.services import tokens
from geo_p4gn.store import open_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openrosa"
GPS_ID = "3f9a7c52-0d8e-4f7b-9a31-5c2e8b1d4a60"
KEL_ID = "8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
SITE_ID = "a7b6c5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d"
PASSWORD = "rahasia-lapangan-1"
NS = {"or": "http://openrosa.org/http/response"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, boundaries, taxonomy):
    tmp = tmp_path_factory.mktemp("openrosa")
    store_path, users, tok = tmp / "p4gn.gpkg", tmp / "users.toml", tmp / "tokens.json"
    with open_store(store_path, boundaries=boundaries, taxonomy=taxonomy) as store:
        seed_store(store, starter=False)
    auth.add_user("ani", "petugas", password=PASSWORD, path=users)
    auth.add_user("budi", "perencana", password=PASSWORD, path=users)
    auth.add_user("admin", "admin", password=PASSWORD, path=users)
    app = Starlette(routes=routes(str(store_path), users_path=users, tokens_path=tok))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}/openrosa", "store": store_path, "users": users, "tokens": tok}
    srv.should_exit = True
    thread.join(timeout=10)


def collect_headers(user: str | None = "ani", password: str = PASSWORD) -> dict:
    h = {"X-OpenRosa-Version": "1.0", "Date": email.utils.formatdate(usegmt=True),
         "User-Agent": "Dalvik/2.1.0 (Linux; U; Android 13) org.odk.collect.android/v2024.3.1",
         "Accept-Encoding": "gzip,deflate"}
    if user is not None:
        h["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return h


def submit(server, xml: bytes, **kw) -> requests.Response:
    files = {"xml_submission_file": ("instance.xml", xml, "text/xml")}
    return requests.post(f"{server['base']}/submission", files=files, headers=collect_headers(**kw), timeout=30)


def message(r: requests.Response) -> str:
    import defusedxml.ElementTree as DET

    root = DET.fromstring(r.content)
    assert root.tag == "{http://openrosa.org/http/response}OpenRosaResponse"
    return root.find("or:message", NS).text


def records(server) -> dict:
    with open_store(server["store"]) as store:
        frame = store.list(include_deleted=True)
    return {r.id: r for r in frame.itertuples()}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- form list and download ----------------------------------------------------------------------------
def test_form_list_and_download_as_collect_asks(server):
    r = requests.get(f"{server['base']}/formList", headers=collect_headers(None), timeout=30)
    assert r.status_code == 401 and 'Basic realm="geo_p4gn", charset="UTF-8"' in _challenges(r)
    r = requests.get(f"{server['base']}/formList", headers=collect_headers(), timeout=30)
    assert r.status_code == 200 and r.headers["X-OpenRosa-Version"] == "1.0"
    assert r.headers["Content-Type"].startswith("text/xml")
    import defusedxml.ElementTree as DET

    ns = {"x": "http://openrosa.org/xforms/xformsList"}
    item = DET.fromstring(r.content).find("x:xform", ns)
    assert item.find("x:formID", ns).text == xform.FORM_ID
    url = item.find("x:downloadUrl", ns).text
    assert url == f"{server['base']}/forms/{xform.FORM_ID}/form.xml"
    form = requests.get(url, headers=collect_headers(), timeout=30)
    assert form.status_code == 200
    assert item.find("x:hash", ns).text == "md5:" + hashlib.md5(form.content).hexdigest()
    root = DET.fromstring(form.content)
    instance = root.find(".//{http://www.w3.org/2002/xforms}instance/{http://www.w3.org/2002/xforms}data")
    assert instance.get("id") == xform.FORM_ID and instance.get("version") == item.find("x:version", ns).text
    for name in ("tanggal", "jenis", "aktor", "organisasi", "peserta", "catatan", "situs", "titik", "kota",
                 "kecamatan", "kelurahan", "lintang", "bujur"):
        assert instance.find(f"{{http://www.w3.org/2002/xforms}}{name}") is not None, name
    # the cascade: 6 kota, 44 kecamatan, 267 kelurahan, each filtered by its parent
    assert form.text.count("<name>31.") == 6 + 44 + 267
    assert "instance('kecamatan')/root/item[kota= /data/kota ]" in form.text
    assert "instance('kelurahan')/root/item[kecamatan= /data/kecamatan ]" in form.text


def test_generated_form_passes_pyxform_and_odk_validate(tmp_path, boundaries, taxonomy):
    import shutil

    from geo_p4gn.sites import seed_sites

    form = xform.build_form(taxonomy, seed_sites(boundaries, taxonomy), boundaries)  # pyxform warnings raise
    if shutil.which("java") is None:
        pytest.skip("no Java: ODK Validate (bundled with pyxform) needs it")
    from pyxform.validators.odk_validate import check_xform

    path = tmp_path / "form.xml"
    path.write_text(form.xml, encoding="utf-8")
    assert check_xform(str(path)) == []
    # the XLSForm download is the same form: converted again by pyxform it gives the same XForm
    from pyxform.xls2xform import convert

    xlsx = tmp_path / "form.xlsx"
    xlsx.write_bytes(xform.xlsform_bytes(form.sheets))
    warnings: list[str] = []
    from xml.etree.ElementTree import canonicalize  # (attributes in one order; the XML is our own)

    again = convert(xlsform=str(xlsx), warnings=warnings, form_name="data").xform
    assert canonicalize(again) == canonicalize(form.xml)
    assert warnings == []


def test_a_changed_taxonomy_or_site_registry_is_a_new_version(boundaries, taxonomy):
    import dataclasses

    from geo_p4gn.sites import seed_sites

    sites = seed_sites(boundaries, taxonomy)
    v = xform.form_version(taxonomy, sites, boundaries)
    assert xform.form_version(taxonomy, sites, boundaries) == v
    relabelled = dataclasses.replace(taxonomy, types=(dataclasses.replace(taxonomy.types[0], en="Mapping"),
                                                      *taxonomy.types[1:]))
    assert xform.form_version(relabelled, sites, boundaries) != v
    assert xform.form_version(taxonomy, sites.iloc[:-1], boundaries) != v


# -- submissions ---------------------------------------------------------------------------------------
def test_head_submission_challenges_then_gives_the_limit(server):
    r = requests.head(f"{server['base']}/submission", headers=collect_headers(None), timeout=30)
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
    r = requests.head(f"{server['base']}/submission", headers=collect_headers(), timeout=30)
    assert r.status_code == 204
    assert r.headers["X-OpenRosa-Version"] == "1.0"
    assert int(r.headers["X-OpenRosa-Accept-Content-Length"]) >= 100_000


def test_submissions_replayed_three_times_are_stored_once(server):
    for name, rid, kel in (("gps.xml", GPS_ID, "31.74.02.1006"), ("kelurahan.xml", KEL_ID, "31.73.01.1004"),
                           ("site.xml", SITE_ID, "31.73.01.1004")):
        answers = [submit(server, fixture(name)) for _ in range(3)]
        assert [a.status_code for a in answers] == [201, 201, 201], [message(a) for a in answers]
        assert "stored" in message(answers[0]) and "already received" in message(answers[2])
        stored = records(server)
        assert rid in stored and stored[rid].kelurahan_code == kel and stored[rid].created_by == "ani"
        assert stored[rid].version == 1
    stored = records(server)
    assert {GPS_ID, KEL_ID, SITE_ID} <= set(stored)
    gps = stored[GPS_ID]
    assert (str(gps.date)[:10], gps.type_key, gps.actor_key, gps.organisation, gps.participants) == (
        "2026-11-20", "seni_budaya", "komunitas", "Karang Taruna RW 05", 45)
    assert (round(gps.geometry.x, 6), round(gps.geometry.y, 6)) == (106.8456, -6.2088)
    assert stored[SITE_ID].site_id == "kampung-ambon"


def test_same_instance_id_with_other_content_is_a_conflict_and_changes_nothing(server):
    assert submit(server, fixture("gps.xml")).status_code == 201
    before = records(server)[GPS_ID]
    other = fixture("gps.xml").replace(b"Karang Taruna RW 05", b"Karang Taruna RW 06")
    r = submit(server, other)
    assert r.status_code == 409 and "refused" in message(r)
    after = records(server)[GPS_ID]
    assert (after.organisation, after.version) == (before.organisation, before.version) == ("Karang Taruna RW 05", 1)


def test_wrong_user_password_or_role_is_refused_and_nothing_is_stored(server):
    xml = fixture("gps.xml").replace(GPS_ID.encode(), b"11111111-2222-4333-8444-555555555555")
    assert submit(server, xml, user="ani", password="salah-sekali-123").status_code == 401
    assert submit(server, xml, user="nobody").status_code == 401
    assert submit(server, xml, user=None).status_code == 401
    r = submit(server, xml, user="budi")  # a planner may not record
    assert r.status_code == 403 and "may not record" in message(r)
    assert "11111111-2222-4333-8444-555555555555" not in records(server)


def test_a_capture_token_is_a_password_until_revoked(server):
    ani = User("ani", "petugas")
    token, info = tokens.issue(ani, path=server["tokens"])
    xml = fixture("gps.xml").replace(GPS_ID.encode(), b"22222222-2222-4333-8444-555555555555")
    r = submit(server, xml, user="ani", password=token)
    assert r.status_code == 201, message(r)
    assert submit(server, xml, user="budi", password=token).status_code == 401  # another user's name
    admin = User("admin", "admin")
    assert tokens.revoke(admin, token_id=info.token_id, path=server["tokens"]) == 1
    r = submit(server, xml, user="ani", password=token)
    assert r.status_code == 401 and "revoked" in message(r)
    with pytest.raises(Exception, match="may not manage users"):
        tokens.revoke(User("budi", "perencana"), user="ani", path=server["tokens"])


@pytest.mark.parametrize(("body", "reason"), [
    (b"<data id='geo_p4gn_intervensi'><tanggal>2026-11-20</tanggal>", "not well-formed"),
    (b"not xml at all", "not well-formed"),
    ((b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x 'Karang'>]><data id='geo_p4gn_intervensi'>"
      b"<organisasi>&x;</organisasi></data>"), "DTD or an XML entity"),
    ((b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
      b"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]><data id='geo_p4gn_intervensi'><catatan>&c;</catatan></data>"),
     "DTD or an XML entity"),
    ((b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
      b"<data id='geo_p4gn_intervensi'><catatan>&e;</catatan></data>"), "DTD or an XML entity"),
    (b"<data id='another_form'><meta><instanceID>uuid:33333333-2222-4333-8444-555555555555</instanceID></meta></data>",
     "not an instance of the form"),
])
def test_malformed_or_hostile_xml_is_400_and_nothing_is_stored(server, body, reason):
    before = len(records(server))
    r = submit(server, body)
    assert r.status_code == 400 and reason in message(r)
    assert len(records(server)) == before


def test_invalid_content_is_refused_with_its_reason(server):
    xml = fixture("gps.xml").replace(GPS_ID.encode(), b"44444444-2222-4333-8444-555555555555")
    phone = xml.replace(b"Pentas seni anti narkoba di balai warga", b"hubungi 0812-3456-7890")
    r = submit(server, phone)
    assert r.status_code == 400 and "phone number" in message(r)
    bogor = xml.replace(b"-6.2088 106.8456 12.5 4.9", b"-6.60 106.80 0 5")
    r = submit(server, bogor)
    assert r.status_code == 400 and "outside DKI Jakarta" in message(r)
    unknown = xml.replace(b"<jenis>seni_budaya</jenis>", b"<jenis>tidak_ada</jenis>")
    r = submit(server, unknown)
    assert r.status_code == 400 and "tidak_ada" in message(r)
    assert "44444444-2222-4333-8444-555555555555" not in records(server)


def test_oversize_is_413_and_attachments_are_refused(server):
    big = b"<data id='geo_p4gn_intervensi'><catatan>" + b"x" * 1_100_000 + b"</catatan></data>"
    r = submit(server, big)
    assert r.status_code == 413 and "larger than" in message(r)
    files = {"xml_submission_file": ("i.xml", fixture("gps.xml"), "text/xml"),
             "photo.jpg": ("photo.jpg", b"\xff\xd8\xff", "image/jpeg")}
    r = requests.post(f"{server['base']}/submission", files=files, headers=collect_headers(), timeout=30)
    assert r.status_code == 400 and "attachments" in message(r)


# -- the export of the same form, as KoboToolbox writes it, imports as it is ------------------------------------
KOBO_HEADER = ("start;end;tanggal;jenis;aktor;organisasi;peserta;catatan;situs;titik;_titik_latitude;"
               "_titik_longitude;_titik_altitude;_titik_precision;kota;kecamatan;kelurahan;lintang;bujur;"
               "meta/instanceID;_id;_uuid;_submission_time;_validation_status;_notes;_status;_submitted_by;"
               "__version__;_tags;_index")


def _kobo_csv(path: Path, boundaries) -> None:
    kel = xform.kelurahan_points(boundaries)["31.73.01.1004"]
    rows = [
        (f"2026-11-20T09:12:03.211+07:00;2026-11-20T09:15:47.902+07:00;2026-11-20;seni_budaya;komunitas;"
        f"Karang Taruna RW 05;45;Pentas seni anti narkoba di balai warga;;-6.2088 106.8456 12.5 4.9;-6.2088;"
        f"106.8456;12.5;4.9;;;;-6.2088;106.8456;uuid:{GPS_ID};101;{GPS_ID};2026-11-20T02:16:01;;;"
        f"submitted_via_web;ani;vabc123;;1"),
        (f"2026-11-21T14:02:11.004+07:00;2026-11-21T14:06:39.517+07:00;2026-11-21;diskusi_tokoh;pemerintah;"
        f"Kelurahan Kedaung Kali Angke;12;;;;;;;;31.73;31.73.01;31.73.01.1004;{kel[1]!r};{kel[0]!r};"
        f"uuid:{KEL_ID};102;{KEL_ID};2026-11-21T07:07:00;;;submitted_via_web;ani;vabc123;;2"),
    ]
    path.write_text(KOBO_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def test_a_kobo_export_of_the_form_imports_and_matches_the_openrosa_records(server, tmp_path, boundaries, taxonomy):
    # the same two submissions came in over OpenRosa (earlier tests); the export of them is all duplicates
    for name in ("gps.xml", "kelurahan.xml"):
        assert submit(server, fixture(name)).status_code == 201
    export = tmp_path / "kobo_export.csv"
    _kobo_csv(export, boundaries)
    with open_store(server["store"], boundaries=boundaries, taxonomy=taxonomy) as store:
        report = importers.import_file(store, export, user="admin")
    assert report.summary()["duplicates"] == 2 and report.summary()["accepted"] == 0, report.summary()
    assert report.summary()["conflicts"] == 0
    # into an empty store the same file gives two records with the same kelurahan
    with open_store(tmp_path / "other.gpkg", boundaries=boundaries, taxonomy=taxonomy) as other:
        report = importers.import_file(other, export, user="admin")
        assert report.summary()["accepted"] == 2, report.summary()
        got = {r.id: r.kelurahan_code for r in other.list().itertuples()}
    assert got == {GPS_ID: "31.74.02.1006", KEL_ID: "31.73.01.1004"}


# -- Digest: what Collect answers over plain HTTP --------------------------------------------------------
def _challenges(r: requests.Response) -> list[str]:
    return [v.strip() for v in r.raw.headers.get_all("WWW-Authenticate")]


def test_a_401_offers_digest_first_then_basic(server):
    r = requests.head(f"{server['base']}/submission", headers=collect_headers(user=None), timeout=30)
    assert r.status_code == 401
    digest, basic = _challenges(r)
    assert digest.startswith('Digest realm="geo_p4gn", qop="auth", algorithm=MD5, nonce="')
    assert basic == 'Basic realm="geo_p4gn", charset="UTF-8"'


def test_digest_with_a_capture_token_lists_downloads_and_submits(server):
    from requests.auth import HTTPDigestAuth

    token, _ = tokens.issue(User("ani", "petugas"), path=server["tokens"])
    with requests.Session() as s:  # a session keeps the nonce and counts nc up, as Collect does
        s.auth = HTTPDigestAuth("ani", token)
        headers = collect_headers(user=None)
        r = s.get(f"{server['base']}/formList", headers=headers, timeout=30)
        assert r.status_code == 200 and b"<formID>geo_p4gn_intervensi</formID>" in r.content
        assert r.request.headers["Authorization"].startswith('Digest username="ani", realm="geo_p4gn"')
        assert s.head(f"{server['base']}/submission", headers=headers, timeout=30).status_code == 204
        xml = fixture("gps.xml").replace(GPS_ID.encode(), b"44444444-2222-4333-8444-555555555555")
        files = {"xml_submission_file": ("instance.xml", xml, "text/xml")}
        r = s.post(f"{server['base']}/submission", files=files, headers=headers, timeout=30)
        assert r.status_code == 201, message(r)
    assert records(server)["44444444-2222-4333-8444-555555555555"].created_by == "ani"
    # the password of the account is not a Digest secret (it is kept only as a slow hash)
    r = requests.get(f"{server['base']}/formList", auth=HTTPDigestAuth("ani", PASSWORD), timeout=30)
    assert r.status_code == 401 and "unknown, expired or revoked capture token" in message(r)
    # another user's name with ani's token
    r = requests.get(f"{server['base']}/formList", auth=HTTPDigestAuth("budi", token), timeout=30)
    assert r.status_code == 401


def test_a_digest_answer_is_refused_when_replayed_for_another_path_or_stale(server, monkeypatch):
    from requests.auth import HTTPDigestAuth

    from geo_p4gn.http import digest as digest_mod

    token, _ = tokens.issue(User("ani", "petugas"), path=server["tokens"])
    url = f"{server['base']}/formList"
    r = requests.get(url, auth=HTTPDigestAuth("ani", token), timeout=30)
    assert r.status_code == 200
    answer = r.request.headers["Authorization"]
    again = requests.get(url, headers={"Authorization": answer}, timeout=30)  # the same nc again
    assert again.status_code == 401 and "replay" in message(again)
    other = requests.head(f"{server['base']}/submission", headers={"Authorization": answer.replace("nc=00000001",
                                                                                                   "nc=00000002")},
                          timeout=30)
    assert other.status_code == 401  # its uri is /formList (and the response no longer matches)
    forged = requests.get(url, headers={"Authorization": answer.replace('nonce="', 'nonce="1')}, timeout=30)
    assert forged.status_code == 401 and "stale=true" in _challenges(forged)[0]
    # a nonce older than NONCE_SECONDS: a new challenge marked stale, which the client answers by itself
    monkeypatch.setattr(digest_mod, "NONCE_SECONDS", -1)
    r = requests.get(url, headers={"Authorization": answer.replace("nc=00000001", "nc=00000003")}, timeout=30)
    assert r.status_code == 401 and "expired" in message(r) and _challenges(r)[0].endswith("stale=true")
