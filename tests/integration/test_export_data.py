"""Data exports: the two allow-lists, formula neutralising, HXL, and each format read back."""

from __future__ import annotations

import csv
import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook

from geo_p4gn._errors import P4gnError
from geo_p4gn.filters import Filters
from geo_p4gn.importers import read_rows
from geo_p4gn.records import FIELDS
from geo_p4gn.render import data as ex

SECRET = "budi.recorder@bnn.example"
ID1, ID2, ID3, ID4 = (f"0d6f2b7a-0000-4000-8000-00000000000{k}" for k in range(1, 5))
AREA = shapely.box(106.8260, -6.1758, 106.8270, -6.1748)  # in Gambir


@pytest.fixture
def records():
    """A store-like frame (FIELDS), recorder identities included: they must never leave."""
    rows = [
        (ID1, dt.date(2024, 8, 17), None, "deklarasi", "komunitas", "=HYPERLINK(\"http://x\")", "kampung-ambon",
         "31.73.01.1004", 85, "+62 contact removed", shapely.Point(106.760338, -6.151539), False),
        (ID2, dt.date(2024, 8, 18), dt.date(2024, 8, 19), "seni_budaya", "swasta", "@PT Maju", None, "31.72.02.1001",
         None, "-catatan\tdengan tab", shapely.Point(106.8867, -6.1091), False),
        (ID3, dt.date(2024, 8, 16), None, "pemetaan", "akademisi", "Universitas Indonesia", None, "31.71.01.1001",
         12, "", AREA, False),
        (ID4, dt.date(2024, 8, 20), None, "deklarasi", "media", "Deleted Org", None, "31.71.01.1001", 3, "gone",
         shapely.Point(106.82644, -6.175305), True),
    ]
    frame = pd.DataFrame(rows, columns=["id", "date", "end_date", "type_key", "actor_key", "organisation", "site_id",
                                        "kelurahan_code", "participants", "notes", "geometry", "deleted"])
    frame["participants"] = frame["participants"].astype("Int64")
    for f in ("created_by", "updated_by"):
        frame[f] = SECRET
    frame["created_at"] = frame["updated_at"] = "2026-11-27T00:00:00.000Z"
    frame["version"] = 1
    return gpd.GeoDataFrame(frame[list(FIELDS)], geometry="geometry", crs="EPSG:4326")


@pytest.fixture
def sites():
    return pd.DataFrame({"id": ["kampung-ambon"], "name": ["Kampung Ambon"]})


def export(records, tmp_path, fmt, taxonomy, boundaries, sites=None, **kw):
    out = tmp_path / f"out.{fmt}"
    n = ex.export_records(records, out, fmt, kw.pop("filters", None), taxonomy=taxonomy, boundaries=boundaries,
                          sites=sites, **kw)
    return out, n


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_internal_csv(records, sites, tmp_path, taxonomy, boundaries):
    out, n = export(records, tmp_path, "csv", taxonomy, boundaries, sites)
    rows = read_csv(out)
    assert n == 3 and rows[0] == list(ex.INTERNAL_COLUMNS)
    got = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["id"] for r in got] == [ID3, ID1, ID2]  # by date; the deleted record is not exported
    first = got[1]
    assert first == {
        "id": ID1, "date": "2024-08-17", "end_date": "", "type_key": "deklarasi",
        "type_label": "Deklarasi masyarakat anti narkoba", "actor_key": "komunitas",
        "actor_label": "Komunitas / masyarakat", "organisation": "'=HYPERLINK(\"http://x\")", "participants": "85",
        "site_id": "kampung-ambon", "site_name": "Kampung Ambon", "province_code": "31",
        "province_name": "Daerah Khusus Ibukota Jakarta", "kota_code": "31.73",
        "kota_name": "Kota Administrasi Jakarta Barat", "kecamatan_code": "31.73.01", "kecamatan_name": "Cengkareng",
        "kelurahan_code": "31.73.01.1004", "kelurahan_name": "Kedaung Kali Angke", "lat": "-6.151539",
        "lon": "106.760338", "geometry": "", "notes": "'+62 contact removed",
    }
    assert (got[2]["organisation"], got[2]["notes"], got[2]["participants"]) == ("'@PT Maju", "'-catatan\tdengan tab", "")
    area = got[0]
    assert shapely.from_wkt(area["geometry"]).equals(AREA)
    rep = shapely.point_on_surface(AREA)
    assert (float(area["lat"]), float(area["lon"])) == (rep.y, rep.x)
    assert SECRET not in out.read_text(encoding="utf-8-sig") and "Deleted Org" not in out.read_text(encoding="utf-8-sig")


def test_public_csv_with_hxl(records, sites, tmp_path, taxonomy, boundaries):
    out, n = export(records, tmp_path, "csv", taxonomy, boundaries, sites, public=True, hxl=True, lang="en")
    rows = read_csv(out)
    assert rows[0] == list(ex.PUBLIC_COLUMNS)
    assert rows[1] == [
        "#date+start", "#date+end", "#activity+type+code", "#activity+type+name", "#org+type+code",
        "#org+type+name", "#org+name", "#reached", "#adm1+code", "#adm1+name", "#adm2+code", "#adm2+name",
        "#adm3+code", "#adm3+name", "#adm4+code", "#adm4+name", "#geo+lat+adm4", "#geo+lon+adm4",
    ]
    kel = boundaries.kelurahan.set_index("code")
    rep = shapely.point_on_surface(kel.loc["31.73.01.1004", "geometry"])
    assert rows[3] == ["2024-08-17", "", "deklarasi", "Community anti-drug declaration", "komunitas", "Community",
                       "'=HYPERLINK(\"http://x\")", "85", "31", "Daerah Khusus Ibukota Jakarta", "31.73",
                       "Kota Administrasi Jakarta Barat", "31.73.01", "Cengkareng", "31.73.01.1004",
                       "Kedaung Kali Angke", str(round(rep.y, 6)), str(round(rep.x, 6))]
    text = out.read_text(encoding="utf-8-sig")
    for private in (ID1, ID2, ID3, "kampung-ambon", "Kampung Ambon", "contact removed", "catatan", SECRET,
                    "106.8867"):
        assert private not in text
    assert n == 3 and len(rows) == 5
    # the importer skips the HXL row: it reads three data rows, starting at row 3
    table = read_rows(out)
    assert table.rows.tolist() == [3, 4, 5]


def test_public_and_internal_allow_lists_hold_no_identities():
    for cols in (ex.INTERNAL_COLUMNS, ex.PUBLIC_COLUMNS):
        assert not {"created_by", "updated_by", "created_at", "updated_at", "version", "deleted"} & set(cols)
    assert not {"id", "notes", "site_id", "site_name", "lat", "lon", "geometry"} & set(ex.PUBLIC_COLUMNS)
    assert set(ex.HXL_TAGS) >= set(ex.INTERNAL_COLUMNS) | set(ex.PUBLIC_COLUMNS)


def test_xlsx_neutralised_dates_and_about_sheet(records, sites, tmp_path, taxonomy, boundaries):
    out, _ = export(records, tmp_path, "xlsx", taxonomy, boundaries, sites)
    wb = load_workbook(out)
    assert wb.sheetnames == ["interventions", "about"]
    ws = wb["interventions"]
    header = [c.value for c in ws[1]]
    assert header == list(ex.INTERNAL_COLUMNS)
    row = dict(zip(header, ws[3], strict=True))
    assert row["id"].value == ID1
    assert row["date"].value == dt.datetime(2024, 8, 17) and row["date"].is_date
    assert row["organisation"].value == "'=HYPERLINK(\"http://x\")" and row["organisation"].data_type == "s"
    assert row["lat"].value == -6.151539 and row["lat"].data_type == "n"
    assert row["participants"].value == 85
    formulas = [c.coordinate for r in ws.iter_rows() for c in r if c.data_type == "f"]
    assert formulas == []
    about = {r[0].value: r[1].value for r in wb["about"].iter_rows()}
    assert about["records"] == "3" and about["version"] == "internal"
    assert SECRET not in json.dumps([[c.value for c in r] for r in ws.iter_rows()], default=str)


def test_geojson_internal_and_public(records, sites, tmp_path, taxonomy, boundaries):
    out, _ = export(records, tmp_path, "geojson", taxonomy, boundaries, sites)
    doc = json.loads(out.read_text(encoding="utf-8"))
    feats = doc["features"]
    assert [f["properties"]["id"] for f in feats] == [ID3, ID1, ID2]
    assert list(feats[0]["properties"]) == [c for c in ex.INTERNAL_COLUMNS if c != "geometry"]
    assert shapely.geometry.shape(feats[0]["geometry"]).equals(AREA)
    assert feats[1]["geometry"] == {"type": "Point", "coordinates": [106.760338, -6.151539]}
    assert feats[1]["properties"]["participants"] == 85 and feats[2]["properties"]["participants"] is None
    out, _ = export(records, tmp_path, "geojson", taxonomy, boundaries, sites, public=True)
    doc = json.loads(out.read_text(encoding="utf-8"))
    kel = boundaries.kelurahan.set_index("code")
    assert [f["geometry"]["type"] for f in doc["features"]] == ["Point"] * 3
    rep = shapely.point_on_surface(kel.loc["31.71.01.1001", "geometry"])
    assert shapely.geometry.shape(doc["features"][0]["geometry"]).equals(rep)
    assert list(doc["features"][0]["properties"]) == list(ex.PUBLIC_COLUMNS)


def test_gpkg_reads_back(records, sites, tmp_path, taxonomy, boundaries):
    out, _ = export(records, tmp_path, "gpkg", taxonomy, boundaries, sites)
    info = pyogrio.read_info(out, layer="interventions")
    assert info["features"] == 3 and info["crs"] == "EPSG:4326"
    assert list(info["fields"]) == [c for c in ex.INTERNAL_COLUMNS if c != "geometry"]
    back = gpd.read_file(out, layer="interventions")
    assert back["id"].tolist() == [ID3, ID1, ID2]
    assert back.geometry.iloc[0].equals(AREA) and back["organisation"].iloc[1] == '=HYPERLINK("http://x")'


def test_filters_on_a_frame(records, tmp_path, taxonomy, boundaries):
    _, n = export(records, tmp_path, "csv", taxonomy, boundaries, filters=Filters(kota=("31.71",)))
    assert n == 1  # the Gambir area; the deleted Gambir record never counts
    out, n = export(records, tmp_path, "csv", taxonomy, boundaries,
                    filters=Filters(date_from=dt.date(2024, 8, 19), types=("seni_budaya",)))
    assert n == 1 and read_csv(out)[1][0] == ID2  # a multi-day record overlapping the window


def test_bad_requests(records, tmp_path, taxonomy, boundaries):
    with pytest.raises(P4gnError, match="^the HXL hashtag row is for CSV exports only$"):
        export(records, tmp_path, "xlsx", taxonomy, boundaries, hxl=True)
    with pytest.raises(P4gnError, match="^export format 'shp' is not one of csv, xlsx, geojson, gpkg$"):
        export(records, tmp_path, "shp", taxonomy, boundaries)
    with pytest.raises(P4gnError, match=r"nowhere/out\.csv does not exist \(writing the csv export: .*\): check the path$"):
        ex.export_records(records, tmp_path / "nowhere" / "out.csv", "csv", taxonomy=taxonomy, boundaries=boundaries)
    assert not list(tmp_path.glob(".*partial*"))


def test_empty_export(records, tmp_path, taxonomy, boundaries):
    out, n = export(records.iloc[:0], tmp_path, "csv", taxonomy, boundaries)
    assert n == 0 and read_csv(out) == [list(ex.INTERNAL_COLUMNS)]
    out, n = export(records.iloc[:0], tmp_path, "geojson", taxonomy, boundaries, public=True)
    assert json.loads(out.read_text())["features"] == []


def test_records_table_is_a_new_frame(records, taxonomy, boundaries):
    before = records.copy()
    table = ex.records_table(records, public=False, taxonomy=taxonomy, boundaries=boundaries)
    pd.testing.assert_frame_equal(records, before)
    assert list(table.columns) == [("geometry_wkt" if c == "geometry" else c) for c in ex.INTERNAL_COLUMNS] + [
        "geometry"]
    # records_table does not filter: export_records drops deleted records before it
    assert table["id"].tolist() == [ID3, ID1, ID2, ID4]
    assert table["participants"].tolist() == [12, 85, pd.NA, 3]


def test_xlsx_refuses_a_cell_too_long_for_a_spreadsheet(records, tmp_path, taxonomy, boundaries):
    ring = [(106.826 + 0.001 * np.cos(a), -6.175 + 0.001 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 1500)]
    big = records.copy()
    big.loc[0, "geometry"] = shapely.Polygon(ring)
    with pytest.raises(P4gnError, match=r"^record 0d6f2b7a-0000-4000-8000-000000000001: geometry has \d+ characters, "
                                        r"more than a spreadsheet cell holds \(32767\); export as geojson or gpkg"):
        export(big, tmp_path, "xlsx", taxonomy, boundaries)
    assert not (tmp_path / "out.xlsx").exists()
    _, n = export(big, tmp_path, "gpkg", taxonomy, boundaries)
    assert n == 3
