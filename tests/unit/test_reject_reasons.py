"""Issue 13, language: every reason the importer words in English has its Bahasa Indonesia (reject.*)."""

from __future__ import annotations

import pytest

from geo_p4gn.i18n import CATALOGUE
from geo_p4gn.importers import reasons

# one example of every wording the importer and its validators give (the text after "row N: column: ")
EXAMPLES = [
    ("'31/02/2024' is not a real calendar day (day is out of range for month)",
     "'31/02/2024' bukan tanggal yang ada di kalender (day is out of range for month)"),
    ("'kemarin' is not a date (use YYYY-MM-DD or DD/MM/YYYY)",
     "'kemarin' bukan tanggal (tulis YYYY-MM-DD atau DD/MM/YYYY)"),
    ("'abc' is not a number", "'abc' bukan angka"),
    ("'inf' is not a finite number", "'inf' bukan angka yang wajar"),
    ("'-5' is not a whole number >= 0", "'-5' bukan bilangan bulat >= 0"),
    ("2001 characters, more than the limit of 2000", "2001 karakter, melebihi batas 2000"),
    ("longer than 200 characters", "lebih dari 200 karakter"),
    ("holds a 16-digit number shaped like a NIK; personal identifiers must not be recorded",
     "berisi angka 16 digit seperti NIK; identitas pribadi tidak boleh dicatat"),
    ("holds something shaped like a phone number; personal contacts must not be recorded",
     "berisi sesuatu seperti nomor telepon; kontak pribadi tidak boleh dicatat"),
    ("a location is required (latitude and longitude, or a geometry)",
     "lokasi wajib diisi (lintang dan bujur, atau geometri)"),
    ("not readable WKT (ParseException: x)", "bukan WKT yang bisa dibaca (ParseException: x)"),
    ("a LineString (empty=False) is not a point or a polygon", "LineString (kosong=False) bukan titik atau poligon"),
    ("int is not a geometry", "int bukan geometri"),
    ("coordinates are not finite", "koordinatnya bukan angka yang wajar"),
    ("invalid Polygon (Self-intersection[106.8 -6.1]); it is not repaired",
     "Polygon tidak sah (Self-intersection[106.8 -6.1]); tidak diperbaiki otomatis"),
    ("'x1' is not a UUID", "'x1' bukan UUID"),
    ("2024-08-16 is before the date 2024-08-17", "2024-08-16 lebih awal dari tanggal mulai 2024-08-17"),
    ("latitude 106.82644 and longitude -6.175305 look swapped (Jakarta is near latitude -6.2, longitude 106.8); "
     "exchange them",
     "lintang 106.82644 dan bujur -6.175305 tampaknya tertukar (Jakarta ada di sekitar lintang -6,2, bujur 106,8); "
     "tukar keduanya"),
    ("coordinates (nan, 106.8) are not finite numbers in range",
     "koordinat (nan, 106.8) bukan angka dalam rentang yang sah"),
    ("latitude -5.95, longitude 106.7 is outside DKI Jakarta (more than 50 m from every kelurahan, Kepulauan "
     "Seribu included)",
     "lintang -5.95, bujur 106.7 berada di luar DKI Jakarta (lebih dari 50 m dari setiap kelurahan, Kepulauan "
     "Seribu termasuk)"),
    ("'senam' is not a known type (known keys: pemetaan, deklarasi)",
     "'senam' bukan jenis intervensi yang dikenal (kunci yang dikenal: pemetaan, deklarasi)"),
    ("'rt' is not a known actor (known keys: pemerintah)", "'rt' bukan aktor yang dikenal (kunci yang dikenal: pemerintah)"),
    ("'Kampung Ambon' names several sites (kampung-ambon, kampung-ambon-2); give the site id",
     "'Kampung Ambon' cocok dengan beberapa situs (kampung-ambon, kampung-ambon-2); tulis id situsnya"),
    ("'X' is not a known site (give a site id, name or alias from the site registry)",
     "'X' bukan situs yang dikenal (tulis id, nama, atau alias situs dari daftar situs)"),
    ("'Gang Kiapang' is not a geopoint (latitude longitude altitude accuracy)",
     "'Gang Kiapang' bukan geopoint (lintang bujur ketinggian akurasi)"),
    ("is not a readable GeoJSON geometry (TypeError: x)", "bukan geometri GeoJSON yang bisa dibaca (TypeError: x)"),
    ("is not a GeoJSON Feature", "bukan Feature GeoJSON"),
    ("is nested too deeply", "bersarang terlalu dalam"),
    ("has 9 cells but the header has 7 columns", "berisi 9 sel, padahal baris judul punya 7 kolom"),
    ("3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e01 is already stored with different content; not overwritten (edit the "
     "stored record, or give this row a new id)",
     "3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e01 sudah tersimpan dengan isi lain; tidak ditimpa (ubah data yang "
     "tersimpan, atau beri baris ini id baru)"),
    ("3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e01 is already stored (deleted) with different content; not overwritten "
     "(edit the stored record, or give this row a new id)",
     "3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e01 sudah tersimpan (terhapus) dengan isi lain; tidak ditimpa (ubah data "
     "yang tersimpan, atau beri baris ini id baru)"),
    ("3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e01 is already used by row 5 with different content; not imported",
     "3b2f0c7e-5a1d-4c8e-9f10-1a2b3c4d5e01 sudah dipakai oleh baris 5 dengan isi lain; tidak diimpor"),
]


@pytest.mark.parametrize(("english", "indonesian"), EXAMPLES)
def test_every_reason_in_both_languages(english, indonesian):
    assert reasons.match(english) is not None
    assert reasons.translate(english, "id") == indonesian
    assert reasons.translate(english, "en") == english
    key, values = reasons.match(english)
    assert CATALOGUE[f"reject.{key}"][1].format(**values) == english  # the catalogue's English is the wording


def test_every_reject_key_is_used():
    used = {key for key, _ in reasons.PATTERNS} | {"row", "feature", "vertex", "col_row", "col_field", "col_reason"}
    assert {k.removeprefix("reject.") for k in CATALOGUE if k.startswith("reject.")} == used


def test_an_unknown_wording_stays_as_it_is():
    assert reasons.translate("something new", "id") == "something new"


def test_labels_and_the_rejects_columns():
    assert reasons.label("feature 3 (id 0)", "id") == "fitur 3 (id 0)"
    assert reasons.label(" (vertex 2)", "id") == " (titik sudut 2)"
    assert reasons.reject_columns("id") == ("_baris", "_kolom", "_alasan")
    assert reasons.reject_columns("en") == ("_row", "_field", "_reason")
