"""The NIK / phone filter on notes, both ways: however an identifier is written it is caught, and the
numbers ordinary notes hold (dates, counts, years, region codes, amounts, times) are not flagged.

The filter is :func:`geo_p4gn.records.check_notes` (every note from the form and every imported row goes
through it); :func:`~geo_p4gn.records.personal_identifier` says which kind was found.
"""

from __future__ import annotations

import pytest

from geo_p4gn import ValidationError
from geo_p4gn.records import check_notes, normalise_digits, personal_identifier, validate_record

NIK = [
    "NIK 3173012345678901 hadir",
    "nik: 3173 0123 4567 8901",
    "3173-0123-4567-8901",
    "3173.0123.4567.8901",
    "3171_0123_4567_8901",
    "3171/0123/4567/8901",
    "3171\\0123\\4567\\8901",
    "3171  0123  4567  8901",                 # double spaces
    "3171 \t0123\t4567 8901",                 # tabs
    "3171 - 0123 - 4567 - 8901",
    "31.71.01.120590.0001",                   # region code, birth date, serial, dotted
    "31 71 01 12 05 90 00 01",
    "317l0l2345678901",                       # letter l for one
    "3173O12345678901",                       # letter O for zero
    "3173o1234567890o",
    "３１７３０１２３４５６７８９０１",           # full-width digits
    "٣١٧٣٠١٢٣٤٥٦٧٨٩٠١",                       # Arabic-Indic digits
    "KTP:3173012345678901.",
    "no ktp(3173012345678901)",
    "NIK3173012345678901",
    "3173\u00a00123\u00a04567\u00a08901",     # no-break spaces
    "3173\u20130123\u20134567\u20138901",     # en dashes
]
PHONE = [
    "hubungi 081234567890",
    "hp +62 812-3456-7890",
    "telp (021) 5551234",
    "+62 (0)812 3456 7890",
    "+62(0)81234567890",
    "+62 (0) 812-3456-7890",
    "62 812 3456 7890",
    "6281234567890",
    "0812_3456_7890",
    "0812/3456/7890",
    "0812  3456  7890",
    "0812.3456.7890",
    "08 12 34 56 78 90",
    "O812 3456 789O",                        # letter O for zero
    "o8l2-3456-7890",
    "(0812) 3456-7890",
    "0812 - 3456 - 7890",
    "HP0812-3456-7890",
    "wa.me/6281234567890",
    "+62-21-555-1234",
    "(021) 555 1234",
    "021-5551234",
    "0062 812 3456 7890",
    "０８１２３４５６７８９０",                 # full-width
    "0812\u20113456\u20117890",               # non-breaking hyphens
]
ORDINARY = [
    "40 warga hadir, RW 07",
    "HUT RI ke-79, 17/08/2024",
    "anggaran 2024-2025",
    "17/08/2024 - 18/08/2024, 120 peserta",
    "2024-08-17 s.d. 2024-08-19",
    "2024-08-17 2024-08-18",
    "17-08-2024 08.00 WIB",
    "pukul 08.00 - 12.00 / 13.00 - 16.00",
    "jam 19:30-21:00",
    "kelurahan 31.73.01.1004 dan 31.73.01.1005",
    "31.73.01.1004 31.73.01.1005",
    "kecamatan 31.73.01, kota 31.73",
    "tahun 2021 2022 2023 2024",
    "program 2021/2022/2023/2024",
    "Rp 1.500.000 - Rp 2.000.000",
    "Rp150.000.000 / Rp250.000.000",
    "IDR 2,500,000,000",
    "peserta 250 orang, 30 relawan, 12 RT",
    "RT 001/RW 005",
    "RT 01 RW 02 Kel. Kapuk",
    "Perda No. 12 Tahun 2019",
    "SK 188/2024",
    "kode pos 11720",
    "Jl. Tubagus Angke No. 123",
    "3 sesi x 45 menit",
    "sosialisasi P4GN ke-5 tahun 2024",
    "1.250 pamflet dibagikan",
    "koordinat -6.152569, 106.758576",
    "2024 08 17",
    "Bulan Oktober 2024, 50 peserta",
    "skor 0.85 dari 1",
    "tokoO 24 jam",
    "0 peserta hadir karena hujan",
    "",
]


@pytest.mark.parametrize("notes", NIK)
def test_a_nik_is_caught_however_it_is_written(notes):
    assert personal_identifier(notes) == "nik", normalise_digits(notes)
    with pytest.raises(ValidationError, match="^notes: holds a 16-digit number shaped like a NIK"):
        check_notes(notes)


@pytest.mark.parametrize("notes", PHONE)
def test_a_phone_number_is_caught_however_it_is_written(notes):
    assert personal_identifier(notes) == "phone", normalise_digits(notes)
    with pytest.raises(ValidationError, match="^notes: holds something shaped like a phone number"):
        check_notes(notes)


@pytest.mark.parametrize("notes", ORDINARY)
def test_ordinary_numbers_are_not_flagged(notes):
    assert personal_identifier(notes) is None, normalise_digits(notes)
    assert check_notes(notes) == notes.strip()


def test_the_tables_are_wide():
    assert len(NIK) + len(PHONE) >= 30 and len(ORDINARY) >= 30


@pytest.mark.parametrize("notes", [f"Kegiatan di balai RW. Kontak {p}, terima kasih." for p in PHONE[:6]]
                         + [f"Peserta dengan NIK {n} hadir" for n in NIK[:6]])
def test_identifiers_inside_longer_notes(notes):
    assert personal_identifier(notes) in ("nik", "phone")


def test_imported_and_form_records_go_through_the_filter(taxonomy):
    raw = {"date": "2024-08-17", "type": "seni_budaya", "actor": "komunitas", "organisation": "Karang Taruna",
           "lon": 106.758576, "lat": -6.152569}
    assert validate_record(raw | {"notes": "Rp 1.500.000, 17/08/2024"}, taxonomy=taxonomy).notes
    with pytest.raises(ValidationError, match="^row 7: notes: holds something shaped like a phone number"):
        validate_record(raw | {"notes": "+62 (0)812 3456 7890"}, taxonomy=taxonomy, row="row 7")
