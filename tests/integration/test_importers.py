"""Importers: reading, column matching, row-level reasons, the bulk fast path against validate_record.

The real boundaries (mirror) place the points; the fixtures under tests/fixtures/import/ are small files
written for these tests (see their rows in each test). Store-backed behaviour (duplicates, conflicts, the
one transaction, the CLI) is in tests/integration/test_cli_import_export.py.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_p4gn import importers as imp
from geo_p4gn._errors import ConflictError, NotFoundError, P4gnError
from geo_p4gn.records import Intervention, validate_record
from geo_p4gn.sites import seed_sites
from geo_p4gn.store.base import BatchResult

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "import"
KEDAUNG = (-6.151539, 106.760338)  # lat, lon inside 31.73.01.1004 Kedaung Kali Angke
PRIOK = (-6.108734, 106.885901)  # 31.72.02.1001 Tanjung Priok
BAMBU = (-6.186386, 106.80211)  # 31.73.07.1006 Kota Bambu Selatan
GAMBIR = (-6.175305, 106.82644)  # 31.71.01.1001 Gambir
TEBET = (-6.233807, 106.855642)  # 31.74.01.1001 Tebet Timur
SEA = (-5.95, 106.70)  # Java Sea, outside DKI
OUTSIDE_MSG = ("latitude -5.95, longitude 106.7 is outside DKI Jakarta (more than 50 m from every kelurahan, "
               "Kepulauan Seribu included)")


@pytest.fixture(scope="module")
def sites(boundaries, taxonomy):
    return seed_sites(boundaries, taxonomy)


def check(path, taxonomy, boundaries, sites=None):
    return imp.check_table(imp.read_rows(path), taxonomy=taxonomy, boundaries=boundaries, sites=sites)


def summary(checked):
    recs = [(checked.table.rows[p], r.id, r.date.isoformat(), r.end_date and r.end_date.isoformat(), r.type_key,
             r.actor_key, r.organisation, r.site_id, r.participants, r.notes, r.kelurahan_code)
            for p, r in zip(checked.positions, checked.records, strict=True)]
    rejects = [(r.row, r.field, r.reason) for r in checked.rejects]
    return recs, rejects


def write(tmp: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes(text.encode(encoding))
    return path


# -- the fixture files ---------------------------------------------------------------------------------
def test_basic_csv_rows_and_reasons(taxonomy, boundaries, sites):
    c = check(FIX / "basic.csv", taxonomy, boundaries, sites)
    recs, rejects = summary(c)
    made = c.ids[2]  # row 4 has no id: one was made from its content and source when it was read
    assert uuid.UUID(made).version == 5 and c.generated.tolist() == [False, False, True] + [False] * 6
    assert check(FIX / "basic.csv", taxonomy, boundaries, sites).ids[2] == made  # the same every time
    assert recs == [
        (2, "6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e01", "2024-08-17", None, "seni_budaya", "komunitas",
         "Karang Taruna RW 07", "kampung-ambon", 120, "Pagelaran seni HUT RI ke-79", "31.73.01.1004"),
        # upper-case id normalised, labels resolved, dd/mm/yyyy dates
        (3, "6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e02", "2024-08-17", "2024-08-18", "deklarasi", "pemerintah",
         "BNNP DKI Jakarta", None, 250, "", "31.72.02.1001"),
        (4, made, "2024-09-01", None, "fgd_peneliti", "akademisi", "Universitas Indonesia", None, 30,
         'FGD "kampung bersinar", two lines:\nsecond line', "31.73.07.1006"),
    ]
    assert rejects == [
        (5, "date", "row 5: date: '31/02/2024' is not a real calendar day (day is out of range for month)"),
        (6, "type", ("row 6: type: 'senam' is not a known type (known keys: pemetaan, diskusi_tokoh, fgd_peneliti, "
                    "seni_budaya, kelurahan_bersinar, deklarasi, tim_terpadu)")),
        (7, "lat/lon", f"row 7: lat/lon: {OUTSIDE_MSG}"),
        (8, "lat/lon", ("row 8: lat/lon: latitude 106.82644 and longitude -6.175305 look swapped (Jakarta is near "
                       "latitude -6.2, longitude 106.8); exchange them")),
        (9, "participants", "row 9: participants: '-5' is not a whole number >= 0"),
        (10, "notes", ("row 10: notes: holds something shaped like a phone number; personal contacts must not be "
                      "recorded")),
    ]
    assert c.records[0].geometry.equals(shapely.Point(KEDAUNG[1], KEDAUNG[0]))


def test_semicolon_bom_indonesian_columns(taxonomy, boundaries, sites):
    table = imp.read_rows(FIX / "semicolon_id.csv")
    assert (table.delimiter, table.header[0], table.blank_rows) == (";", "Tanggal", 1)
    c = imp.check_table(table, taxonomy=taxonomy, boundaries=boundaries, sites=sites)
    recs, rejects = summary(c)
    assert [r[0] for r in recs] == [2, 3, 5]  # row 4 is blank and keeps its number
    assert [r[2:] for r in recs] == [
        # the site by its name: the record is placed at the site
        ("2024-08-17", None, "seni_budaya", "komunitas", "Karang Taruna", "kampung-ambon", 45, "", "31.73.01.1004"),
        ("2024-08-18", "2024-08-19", "deklarasi", "pemerintah", "Kelurahan Tanjung Priok", None, 80, "",
         "31.72.02.1001"),
        ("2024-08-20", None, "diskusi_tokoh", "swasta", "PT Maju Jaya", None, 12, "", "31.74.01.1001"),
    ]
    site = sites.set_index("id").loc["kampung-ambon", "geometry"]
    assert c.records[0].geometry.equals(site)
    assert c.records[1].geometry.equals(shapely.Point(106.885901, -6.108734))  # decimal commas
    assert rejects == [
        (6, "Lokasi", ("row 6: Lokasi: 'Kampung Tidak Ada' is not a known site (give a site id, name or "
                      "alias from the site registry)")),
        (7, "Lintang/Bujur", ("row 7: Lintang/Bujur: a location is required (latitude and longitude, or "
                             "a geometry)")),
    ]


def test_kobo_export_as_is(taxonomy, boundaries):
    c = check(FIX / "kobo_export.csv", taxonomy, boundaries)
    recs, rejects = summary(c)
    assert recs == [
        (2, "3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e01", "2024-08-17", None, "deklarasi", "komunitas",
         "Karang Taruna RW 07", None, 85, "Deklarasi di lapangan RW 07", "31.73.01.1004"),
        (3, "3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e02", "2024-08-18", None, "diskusi_tokoh", "pemerintah",
         "Kelurahan Tanjung Priok", None, 40, "", "31.72.02.1001"),
    ]
    assert rejects == [(4, "grp_lokasi/lokasi", ("row 4: grp_lokasi/lokasi: a location is required "
                                                "(latitude and longitude, or a geometry)"))]
    h = c.table.header
    assert {k: h[i] for k, i in c.columns.fields.items()} == {
        "id": "meta/instanceID", "date": "grp_kegiatan/tanggal", "type": "grp_kegiatan/jenis",
        "actor": "grp_kegiatan/aktor", "organisation": "grp_kegiatan/organisasi",
        "participants": "grp_kegiatan/peserta", "notes": "catatan",
        "lat": "grp_lokasi/_lokasi_latitude", "lon": "grp_lokasi/_lokasi_longitude",
    }
    # Kobo's numeric _id, its own _notes and the submitter are not read
    assert c.columns.ignored == ("start", "end", "today", "grp_lokasi/_lokasi_altitude",
                                 "grp_lokasi/_lokasi_precision", "_id", "_uuid", "_submission_time",
                                 "_validation_status", "_notes", "_status", "_submitted_by", "__version__",
                                 "_tags", "_index")


def test_kobo_geopoint_and_dates_from_metadata(taxonomy, boundaries):
    c = check(FIX / "kobo_geopoint.csv", taxonomy, boundaries)
    recs, rejects = summary(c)
    assert [(r[0], r[1], r[2], r[-1]) for r in recs] == [
        (2, "9c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d01", "2024-08-20", "31.73.07.1006"),  # today
        (3, "9c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d02", "2024-08-21", "31.71.01.1001"),  # start, in its own +07:00
        # _submission_time 2024-08-22T20:30 UTC is 2024-08-23 03:30 in Jakarta (WIB)
        (4, "9c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d03", "2024-08-23", "31.74.01.1001"),
    ]
    assert c.records[0].geometry.equals(shapely.Point(106.80211, -6.186386))
    # a column mostly of geopoints is the location, even when named "lokasi" like a site column
    assert rejects == [(5, "lokasi", ("row 5: lokasi: 'Gang Kiapang' is not a geopoint (latitude "
                                     "longitude altitude accuracy)"))]


def test_geojson_points_polygons_and_sites(taxonomy, boundaries, sites):
    c = check(FIX / "features.geojson", taxonomy, boundaries, sites)
    recs, rejects = summary(c)
    made = c.ids[3]
    assert [(r[0], r[1], r[4], r[7], r[-1]) for r in recs] == [
        (1, "c0ffee00-0000-4000-8000-000000000001", "deklarasi", None, "31.73.01.1004"),
        (2, "c0ffee00-0000-4000-8000-000000000002", "pemetaan", None, "31.71.01.1001"),  # an area in Gambir
        (4, made, "seni_budaya", "kampung-bahari", "31.72.02.1001"),  # no geometry: the site's place (alias)
    ]
    assert c.records[1].geometry.geom_type == "Polygon"
    assert c.records[0].participants == 60
    assert [(r[0], r[1]) for r in rejects] == [(3, "geometry"), (5, "geometry"), (6, "geometry")]
    assert rejects[0][2] == f"feature 3: geometry (vertex 2): {OUTSIDE_MSG}"
    assert rejects[1][2].startswith("feature 5: geometry: is not a readable GeoJSON geometry (")
    assert rejects[2][2] == ("feature 6: geometry: invalid Polygon (Self-intersection[106.8265 -6.1753]); "
                             "it is not repaired")


def test_xlsx_header_below_a_title(taxonomy, boundaries):
    table = imp.read_rows(FIX / "workbook.xlsx")
    assert table.kind == "xlsx" and table.header[:3] == ["ID", "Tanggal", "Jenis"]
    c = imp.check_table(table, taxonomy=taxonomy, boundaries=boundaries)
    recs, rejects = summary(c)
    assert [r[:3] + r[4:6] + r[8:] for r in recs] == [
        # a date cell; a neutralised formula in the notes comes back as the text it was
        (4, "5e1a0000-0000-4000-8000-000000000001", "2024-08-17", "deklarasi", "komunitas", 85,
         '=HYPERLINK("x")', "31.73.01.1004"),
        # a text date, a label, 12.0 participants, decimal-comma text coordinates
        (5, "5e1a0000-0000-4000-8000-000000000002", "2024-08-18", "seni_budaya", "swasta", 12, "",
         "31.72.02.1001"),
        # row 7 is blank; a formula with no computed value reads as empty
        (8, "5e1a0000-0000-4000-8000-000000000004", "2024-08-20", "deklarasi", "media", None, "", "31.71.01.1001"),
    ]
    assert rejects == [(6, "Peserta", "row 6: Peserta: 2.5 is not a whole number >= 0")]


# -- reading ----------------------------------------------------------------------------------------------
def test_files_that_cannot_be_read(tmp_path):
    cases = {
        "empty.csv": (b"", "the file is empty (no header row)"),
        "blank.csv": (b"\n\n ;; \n", "the file is empty (no header row)"),
        "cp1252.csv": ("date,organisation\n2024-01-01,Caf\u00e9\n".encode("cp1252"),
                       "line 2 is not UTF-8 (byte 0xe9); save the file as 'CSV UTF-8' and import it again"),
        "utf16.csv": ("date\n".encode("utf-16"), "not a text file in UTF-8 (UTF-16 or binary); save it as CSV UTF-8"),
        "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "an old Excel (.xls) workbook; save it as .xlsx or CSV UTF-8"),
        "bad.xlsx": (b"PK\x03\x04not really a zip", "the workbook cannot be read (BadZipFile: File is not a zip file)"),
        "bad.geojson": (b'{"type": "FeatureCollection", "features": [', "not valid JSON (line 1: Expecting value)"),
        "other.geojson": (b'{"type": "Topology"}', "not a GeoJSON FeatureCollection"),
        "utm.geojson": ((b'{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": '
                        b'"urn:ogc:def:crs:EPSG::32748"}}, "features": []}'),
                        "crs: coordinates in urn:ogc:def:crs:EPSG::32748; GeoJSON must be longitude/latitude (EPSG:4326)"),
    }
    for name, (data, reason) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(P4gnError) as err:
            imp.read_rows(tmp_path / name)
        assert str(err.value) == f"{tmp_path / name}: {reason}", name
    with pytest.raises(P4gnError, match=r"^cannot read .*missing\.csv: No such file or directory$"):
        imp.read_rows(tmp_path / "missing.csv")


def test_columns_ambiguous_or_missing(tmp_path, taxonomy, boundaries):
    p = write(tmp_path, "two.csv", "date,Tanggal,type,actor,organisation,lat,lon\n2024-01-01,2024-01-02,a,b,c,1,2\n")
    with pytest.raises(P4gnError) as err:
        imp.check_table(imp.read_rows(p), taxonomy=taxonomy, boundaries=boundaries)
    assert str(err.value) == f"{p}: columns 'date', 'Tanggal' all give the date; keep one of them"
    p = write(tmp_path, "few.csv", "tanggal,jenis,catatan\n2024-01-01,deklarasi,x\n")
    with pytest.raises(P4gnError) as err:
        imp.check_table(imp.read_rows(p), taxonomy=taxonomy, boundaries=boundaries)
    assert str(err.value) == (
        f"{p}: no column for actor, organisation, location (names understood: actor: actor, actor_key, aktor, "
        "pentahelix, unsur_pentahelix; organisation: organisation, organization, organisasi, lembaga, instansi; "
        "location: lat + lon (lintang + bujur), a geopoint, geometry or a site)")


def test_long_row_rejected_short_row_padded_hxl_row_skipped(tmp_path, taxonomy, boundaries):
    lat, lon = KEDAUNG
    text = (
        "date,type,actor,organisation,lat,lon\n"
        "#date,#activity+type,#org+type,#org+name,#geo+lat,#geo+lon\n"  # row 2: HXL tags, not data
        f"2024-08-17,deklarasi,komunitas,Karang Taruna,{lat},{lon},\n"  # a trailing empty cell is fine
        f"2024-08-18,deklarasi,komunitas,Karang Taruna,{lat},{lon},oops\n"
        "2024-08-19,deklarasi,komunitas\n"  # short: padded, so the organisation is missing
    )
    c = check(write(tmp_path, "rows.csv", text), taxonomy, boundaries)
    recs, rejects = summary(c)
    assert [r[0] for r in recs] == [3]
    assert rejects == [
        (4, "columns", "row 4: columns: has 7 cells but the header has 6 columns"),
        (5, "organisation", "row 5: organisation: required"),
    ]


def test_tab_delimited_and_quoted_delimiters(tmp_path, taxonomy, boundaries):
    lat, lon = GAMBIR
    text = f'date\ttype\tactor\torganisation\tlat\tlon\n2024-08-17\tdeklarasi\tkomunitas\t"RW 01; RT 02, Gambir"\t{lat}\t{lon}\n'
    c = check(write(tmp_path, "tab.csv", text), taxonomy, boundaries)
    assert c.table.delimiter == "\t"
    assert [r.organisation for r in c.records] == ["RW 01; RT 02, Gambir"]


def test_neutralised_cells_are_read_back(tmp_path, taxonomy, boundaries):
    lat, lon = GAMBIR
    text = f"date,type,actor,organisation,notes,lat,lon\n2024-08-17,deklarasi,komunitas,'@org,'=1+2,'{lat},{lon}\n"
    c = check(write(tmp_path, "q.csv", text), taxonomy, boundaries)
    rec = c.records[0]
    assert (rec.organisation, rec.notes, rec.geometry.y) == ("@org", "=1+2", lat)


def test_sites_by_id_name_alias_and_ambiguous(tmp_path, taxonomy, boundaries, sites):
    two = pd.concat([sites, sites.iloc[[0]].assign(id="kampung-ambon-2")], ignore_index=True)
    text = ("date,type,actor,organisation,site\n"
            "2024-08-17,deklarasi,komunitas,A,KAMPUNG-BONCOS\n"
            "2024-08-17,deklarasi,komunitas,A,  gang   kiapang \n"
            "2024-08-17,deklarasi,komunitas,A,Kampung Ambon\n")
    c = check(write(tmp_path, "s.csv", text), taxonomy, boundaries, two)
    recs, rejects = summary(c)
    assert [(r[0], r[7], r[-1]) for r in recs] == [(2, "kampung-boncos", "31.73.07.1006"),
                                                   (3, "kampung-boncos", "31.73.07.1006")]
    assert rejects == [(4, "site", ("row 4: site: 'Kampung Ambon' names several sites (kampung-ambon, "
                                   "kampung-ambon-2); give the site id"))]


def test_same_day_end_is_dropped_and_end_before_start_rejected(tmp_path, taxonomy, boundaries):
    lat, lon = TEBET
    text = ("tanggal,tanggal_selesai,jenis,aktor,organisasi,lintang,bujur\n"
            f"17/08/2024,17/08/2024,deklarasi,komunitas,A,{lat},{lon}\n"
            f"17/08/2024,16/08/2024,deklarasi,komunitas,A,{lat},{lon}\n")
    c = check(write(tmp_path, "e.csv", text), taxonomy, boundaries)
    recs, rejects = summary(c)
    assert [(r[0], r[3]) for r in recs] == [(2, None)]
    assert rejects == [(3, "tanggal_selesai", ("row 3: tanggal_selesai: 2024-08-16 is before the date "
                                              "2024-08-17"))]


# -- the rejects file -------------------------------------------------------------------------------------
def test_rejects_file_carries_made_ids_and_reads_back(tmp_path, taxonomy, boundaries):
    lat, lon = KEDAUNG
    text = ("date;type;actor;organisation;notes;lat;lon\n"
            f"2024-08-17;deklarasi;komunitas;=HYPERLINK(1);;{lat};{lon}\n"
            "2024-08-18;senam;komunitas;A;-x;-6,2;106,8\n")
    c = check(write(tmp_path, "in.csv", text), taxonomy, boundaries)
    assert [r.row for r in c.rejects] == [3]
    out = tmp_path / "rejects.csv"
    imp.write_rejects(c, c.rejects, out, lang="en")
    made = c.ids[1]
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))  # the source file's delimiter
    assert rows == [
        ["id", "date", "type", "actor", "organisation", "notes", "lat", "lon", "_row", "_field", "_reason"],
        [made, "2024-08-18", "senam", "komunitas", "A", "'-x", "-6,2", "106,8", "3", "type",
         ("row 3: type: 'senam' is not a known type (known keys: pemetaan, diskusi_tokoh, fgd_peneliti, "
         "seni_budaya, kelurahan_bersinar, deklarasi, tim_terpadu)")],
    ]
    # fixed in place, the file imports as it is: the made id comes back, the report columns are ignored
    fixed = out.read_text(encoding="utf-8-sig").replace(";senam;", ";deklarasi;")
    out.write_text(fixed, encoding="utf-8")
    again = check(out, taxonomy, boundaries)
    assert [(r.id, r.notes, r.type_key) for r in again.records] == [(made, "-x", "deklarasi")]
    assert again.rejects == [] and again.columns.ignored == () and not again.generated.any()


# -- the fast path against validate_record -----------------------------------------------------------------
IDS = ["", " ", "6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e01", "6F1C2A3E-1D2B-4C5D-8E9F-0A1B2C3D4E02",
       "uuid:6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e03", "{6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e04}", "not-a-uuid"]
DATES = ["2024-08-17", "17/08/2024", "1/2/2024", "17.08.2024", "2024-08-17T10:00:00", "31/02/2024", "2024-13-01",
         "", "kemarin", " 2024-08-17 "]
ENDS = ["", "2024-08-16", "2024-08-17", "20/08/2024", "x"]
TYPES = ["deklarasi", "DEKLARASI ", "Deklarasi masyarakat anti narkoba", "Arts and culture event", "seni budaya",
         "senam", ""]
ACTORS = ["komunitas", "Community", "Swasta / dunia usaha", "PEMERINTAH", "", "ormas"]
ORGS = ["Karang Taruna", "  BNNP   DKI  ", "", "a" * 201, "'=cmd", "-"]
PARTS = ["", "12", "12.0", "12,0", " 7 ", "-1", "2.5", "abc", "1e2", "0"]
NOTES = ["", "ok", "hubungi 081234567890", "NIK 3171234567890123", "x" * 2001, "'=1+1", "  spaced  "]
PLACES = [(f"{KEDAUNG[0]}", f"{KEDAUNG[1]}"), ("-6,186386", "106,80211"), (f" {GAMBIR[0]} ", f"{GAMBIR[1]}"),
          (f"{GAMBIR[1]}", f"{GAMBIR[0]}"), (f"{SEA[0]}", f"{SEA[1]}"), ("", ""), ("abc", "106.7"), ("-6.2", ""),
          ("-6.1 86386", "106.802 11"), ("inf", "106.8"), ("'-6.233807", "106.855642"), ("1e1", "106.8")]

row_strategy = st.fixed_dictionaries({
    "id": st.sampled_from(IDS), "date": st.sampled_from(DATES), "end_date": st.sampled_from(ENDS),
    "type": st.sampled_from(TYPES), "actor": st.sampled_from(ACTORS), "organisation": st.sampled_from(ORGS),
    "participants": st.sampled_from(PARTS), "notes": st.sampled_from(NOTES), "place": st.sampled_from(PLACES),
})


def _reference(raw: dict, taxonomy, boundaries):
    """What validate_record says of the row (with the importer's documented un-neutralising)."""
    plain = {k: imp.check._unquote(v) for k, v in raw.items()}
    try:
        return validate_record(plain, taxonomy=taxonomy, locate=boundaries.locate)
    except ValueError as exc:
        return exc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, min_size=1, max_size=6), typed=st.booleans())
def test_bulk_validation_agrees_with_validate_record(rows, typed, taxonomy, boundaries):
    header = ["id", "date", "end_date", "type", "actor", "organisation", "participants", "notes", "lat", "lon"]
    raws = [{**{k: r[k] for k in header[:8]}, "lat": r["place"][0], "lon": r["place"][1]} for r in rows]
    if typed:  # a workbook: numbers and days as cells, blanks as None
        def cell(k, v):
            if v == "":
                return None
            if k in ("lat", "lon"):
                try:
                    return float(v)
                except ValueError:
                    return v
            if k == "date" and v == "2024-08-17":
                return dt.datetime(2024, 8, 17)
            return v
        raws = [{k: cell(k, v) for k, v in r.items()} for r in raws]
        cells = pd.DataFrame([[r[k] for k in header] for r in raws], columns=range(len(header)), dtype=object)
        table = imp.RawTable("<test>", "xlsx", header, cells, np.arange(2, len(raws) + 2))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "rows.csv"
            with open(path, "w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                w.writerows([[r[k] for k in header] for r in raws])
            table = imp.read_rows(path)
    c = imp.check_table(table, taxonomy=taxonomy, boundaries=boundaries)
    accepted = dict(zip(c.positions, c.records, strict=True))
    rejected = {r.pos: r for r in c.rejects}
    assert set(accepted) | set(rejected) == set(range(len(raws))) and not set(accepted) & set(rejected)
    for pos, raw in enumerate(raws):
        ref = _reference({**raw, "id": c.ids[pos] if c.generated[pos] else raw["id"]}, taxonomy, boundaries)
        if isinstance(ref, Exception):
            assert pos in rejected, (raw, ref)
            field = str(ref).split(":", 1)[0]
            if field not in ("location", "lat/lon"):
                assert rejected[pos].reason == f"row {pos + 2}: {ref}"
        else:
            assert pos in accepted, (raw, rejected.get(pos))
            got = accepted[pos]
            assert dataclasses.replace(got, geometry=None) == dataclasses.replace(ref, geometry=None)
            assert got.geometry.equals(ref.geometry) and got.content_hash() == ref.content_hash()


@given(st.lists(st.from_regex(r"[+-]?\d{1,4}([.,]\d{1,17})?", fullmatch=True), min_size=1, max_size=50))
def test_bulk_coordinates_round_like_python(values):
    got = imp.check._coordinates(pd.Series(values, dtype="str"), len(values))
    assert got.tolist() == [float(v.replace(",", ".")) for v in values]


# -- small parts --------------------------------------------------------------------------------------------
def test_new_ids_are_uuid4():
    ids = imp.new_ids(1000)
    assert len(set(ids)) == 1000
    for i in ids:
        u = uuid.UUID(i)
        assert (str(u), u.version, u.variant) == (i, 4, uuid.RFC_4122)
    assert imp.new_ids(0) == []


def test_fast_intervention_equals_constructor():
    kw = {"id": "6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e01", "date": dt.date(2024, 8, 17), "end_date": None,
          "type_key": "deklarasi", "actor_key": "komunitas", "organisation": "A", "site_id": None,
          "participants": 3, "notes": "", "geometry": shapely.Point(106.8, -6.2), "kelurahan_code": "31.71.01.1001"}
    fast, slow = imp.check._intervention(**kw), Intervention(**kw)
    assert fast == slow and fast.content_hash() == slow.content_hash() and hash(fast.id) == hash(slow.id)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.notes = "x"


def test_neutralise():
    assert [imp.neutralise(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", "", 5)] == [
        "'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "a=1", "", 5]
    assert [imp.neutralise(v, keep_numbers=True) for v in ("-6.2", "-6,2", "+62", "-1+cmd")] == [
        "-6.2", "-6,2", "+62", "'-1+cmd"]


def test_normalise_column():
    assert [imp.normalise_column(c) for c in (" Meta/instanceID ", "Tanggal Selesai", "\ufeffLintang",
                                               "grp/_lokasi_latitude", "Jumlah-Peserta:")] == [
        "instanceid", "tanggal_selesai", "lintang", "_lokasi_latitude", "jumlah_peserta"]


# -- conflicts in import_file, with a fake store whose writers race ----------------------------------------
class FakeStore:
    """Enough of the store contract for import_file; ``racer`` ids appear (other content) at the first write."""

    def __init__(self, taxonomy, boundaries, stored=(), racer=None):
        self.taxonomy, self.boundaries = taxonomy, boundaries
        self.records = {r.id: r for r in stored}
        self.racer, self.calls = racer, 0

    def list_sites(self):
        return None

    def list(self, filters=None, *, include_deleted=False):
        return pd.DataFrame({"id": list(self.records)})

    def get(self, rec_id, *, include_deleted=False):
        if rec_id not in self.records:
            raise NotFoundError(rec_id)
        return self.records[rec_id]

    def versions(self, rec_id):
        return [self.records[rec_id]]

    def add_many(self, recs, *, user):
        self.calls += 1
        if self.racer is not None:
            self.records[self.racer.id], self.racer = self.racer, None
        clash = [r.id for r in recs if r.id in self.records and
                 self.records[r.id].content_hash() != r.content_hash()]
        if clash:
            raise ConflictError(f"{len(clash)} record(s) already stored with different content")
        new = [r for r in recs if r.id not in self.records]
        self.records.update({r.id: r for r in new})
        return BatchResult(created=len(new), unchanged=len(recs) - len(new))


def _file(tmp_path, rows):
    text = "id,date,type,actor,organisation,lat,lon\n" + "".join(
        f"{i},{d},deklarasi,komunitas,{o},{KEDAUNG[0]},{KEDAUNG[1]}\n" for i, d, o in rows)
    return write(tmp_path, "f.csv", text)


def test_import_conflicts_duplicates_and_a_racing_writer(tmp_path, taxonomy, boundaries):
    a, b, c, d = (str(uuid.UUID(int=k, version=4)) for k in (1, 2, 3, 4))
    stored = imp.check_table(imp.read_rows(_file(tmp_path, [(c, "2024-08-17", "C"), (d, "2024-08-17", "D")])),
                             taxonomy=taxonomy, boundaries=boundaries).records
    path = _file(tmp_path, [(a, "2024-08-17", "A"), (b, "2024-08-17", "B"), (a, "2024-08-17", "A"),
                            (b, "2024-08-18", "B"), (c, "2024-08-17", "C"), (d, "2024-08-17", "changed"),
                            ("", "2024-08-17", "E")])
    # another writer stores b (other content) between our check and our write
    racer = dataclasses.replace(stored[0], id=b, organisation="theirs")
    store = FakeStore(taxonomy, boundaries, stored=stored, racer=racer)
    report = imp.import_file(store, path, user="t")
    assert report.summary() == {"accepted": 2, "rejected": 0, "duplicates": 2, "conflicts": 3}
    assert (store.calls, report.rows) == (2, 7)
    assert [(r.row, r.field, r.conflict) for r in report.rejects] == [
        (3, "id", True), (5, "id", True), (7, "id", True)]
    assert report.rejects[1].reason == (f"row 5: id: {b} is already used by row 3 with different content; "
                                        "not imported")
    assert report.rejects[2].reason == (f"row 7: id: {d} is already stored with different content; not "
                                        "overwritten (edit the stored record, or give this row a new id)")
    assert store.records[a].organisation == "A" and store.records[b].organisation == "theirs"
    assert store.records[d].organisation == "D"  # never overwritten


def test_dry_run_writes_nothing(tmp_path, taxonomy, boundaries):
    a, d = str(uuid.UUID(int=1, version=4)), str(uuid.UUID(int=4, version=4))
    stored = imp.check_table(imp.read_rows(_file(tmp_path, [(d, "2024-08-17", "D")])),
                             taxonomy=taxonomy, boundaries=boundaries).records
    store = FakeStore(taxonomy, boundaries, stored=stored)
    path = _file(tmp_path, [(a, "2024-08-17", "A"), (d, "2024-08-17", "D"), ("", "2024-08-17", "E"),
                            ("", "bad", "F")])
    report = imp.import_file(store, path, user="t", dry_run=True)
    assert report.summary() == {"accepted": 2, "rejected": 1, "duplicates": 1, "conflicts": 0}
    assert report.dry_run and store.calls == 0 and list(store.records) == [d]


def test_progress_stages(tmp_path, taxonomy, boundaries):
    seen = []
    imp.import_file(FakeStore(taxonomy, boundaries), FIX / "basic.csv", user="t",
                    progress=lambda stage, done, total: seen.append(stage))
    assert [s for k, s in enumerate(seen) if k == 0 or seen[k - 1] != s] == ["read", "validate", "locate", "write"]


def test_coordinate_fast_path_covers_the_usual_spellings():
    s = pd.Series(["-6.2", "106,8", " 7 ", "1e1", "'-6.3", "", "x"], dtype="str")
    got = imp.check._coordinates(s, len(s))
    assert got[:5].tolist() == [-6.2, 106.8, 7.0, 10.0, -6.3] and all(math.isnan(v) for v in got[5:])


def test_blank_cells_as_python_sees_them():
    assert imp.PY_WHITESPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())


@given(st.lists(st.text(alphabet=imp.PY_WHITESPACE + "a-", max_size=4), min_size=1, max_size=30))
def test_bulk_blank_mask_is_is_blank(values):
    from geo_p4gn.records import is_blank

    expected = [is_blank(v) for v in values]
    assert imp.read._blank_mask(pd.Series(values, dtype="str")).tolist() == expected
    assert imp.read._blank_mask(pd.Series(values, dtype=object)).tolist() == expected
