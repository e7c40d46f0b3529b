"""Record validation: every field's rule, with the field named in the error."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import shapely

from geo_p4gn import ValidationError
from geo_p4gn.records import check_notes, parse_date, parse_number, validate_record

BASE = {"date": "2024-08-17", "type": "deklarasi", "actor": "komunitas", "organisation": "Karang Taruna",
        "lon": 106.758576, "lat": -6.152569}


def v(taxonomy, **kw):
    return validate_record(dict(BASE, **kw), taxonomy=taxonomy)


@pytest.mark.parametrize(("text", "day"), [
    ("2024-08-17", dt.date(2024, 8, 17)), ("17/08/2024", dt.date(2024, 8, 17)), ("7/8/2024", dt.date(2024, 8, 7)),
    ("17-08-2024", dt.date(2024, 8, 17)), ("2024-08-17T10:00:00", dt.date(2024, 8, 17)),
    (dt.datetime(2024, 8, 17, 9), dt.date(2024, 8, 17)),
])
def test_dates(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["31/02/2024", "2024/13/01", "kemarin", "08/17/2024"])
def test_bad_dates_name_the_field(text):
    with pytest.raises(ValidationError, match="^date: "):
        parse_date(text)


def test_decimal_comma():
    assert parse_number("106,758", "lon") == 106.758
    assert parse_number(" -6.15 ", "lat") == -6.15
    with pytest.raises(ValidationError, match="^lat: "):
        parse_number("nan", "lat")
    with pytest.raises(ValidationError, match="^lat: "):
        parse_number("1,234,5", "lat")


@pytest.mark.parametrize("notes", [
    "NIK 3173012345678901 hadir", "nik: 3173 0123 4567 8901", "hubungi 081234567890", "hp +62 812-3456-7890",
    "telp (021) 5551234",
])
def test_notes_with_personal_identifiers_are_rejected(notes):
    with pytest.raises(ValidationError, match="^notes: "):
        check_notes(notes)


@pytest.mark.parametrize("notes", ["40 warga hadir, RW 07", "HUT RI ke-79, 17/08/2024", "anggaran 2024-2025"])
def test_ordinary_notes_pass(notes):
    assert check_notes(notes) == notes


def test_notes_length_is_bounded():
    with pytest.raises(ValidationError, match="more than the limit of 2000"):
        check_notes("x" * 2001)


def test_labels_and_keys_resolve(taxonomy):
    r = v(taxonomy, type="FGD dengan peneliti", actor="Private sector", participants="12")
    assert (r.type_key, r.actor_key, r.participants) == ("fgd_peneliti", "swasta", 12)
    assert uuid.UUID(r.id).version == 4
    assert r.kelurahan_code is None  # assigned by the store
    with pytest.raises(ValidationError, match="^type: 'razia' is not a known type"):
        v(taxonomy, type="razia")


@pytest.mark.parametrize(("field", "value", "match"), [
    ("participants", "-1", "^participants: "), ("participants", "2.5", "^participants: "),
    ("organisation", " ", "^organisation: required"), ("organisation", "x" * 201, "^organisation: "),
    ("end_date", "2024-08-01", "^end_date: .* before"), ("id", "not-a-uuid", "^id: "),
    ("lat", "", "^lat/lon: "), ("actor", None, "^actor: required"),
])
def test_field_errors(taxonomy, field, value, match):
    with pytest.raises(ValidationError, match=match):
        v(taxonomy, **{field: value})


def test_geometry_rules(taxonomy):
    bowtie = shapely.from_wkt("POLYGON((106.75 -6.15, 106.76 -6.16, 106.76 -6.15, 106.75 -6.16, 106.75 -6.15))")
    with pytest.raises(ValidationError, match="^geometry: invalid Polygon .*not repaired"):
        v(taxonomy, geometry=bowtie)
    with pytest.raises(ValidationError, match="^geometry: a LineString"):
        v(taxonomy, geometry="LINESTRING(106.75 -6.15, 106.76 -6.16)")
    assert v(taxonomy, geometry="POINT(106.75 -6.15)").geometry.x == 106.75


def test_content_hash_ignores_metadata_and_sees_content(taxonomy):
    a = v(taxonomy, id="6f1c7f59-2a7b-4c5e-9a8e-0d2f7e3c1a11")
    b = v(taxonomy, id="6f1c7f59-2a7b-4c5e-9a8e-0d2f7e3c1a11", end_date="2024-08-17")  # same day: no end
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != v(taxonomy, participants=1).content_hash()
