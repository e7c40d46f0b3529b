"""Issue 13, "correct answers": the area-filter rule and filter values by code or name.

The rule: a finer area choice inside a coarser one narrows to it; choices in different branches add up.
Tiny hand-built areas (not the real boundaries): two kota, three kecamatan, five kelurahan.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geo_p4gn import coverage as cov
from geo_p4gn.filters import Filters, FilterValueError, normalise_name, resolve_filters
from geo_p4gn.records import FIELDS
from geo_p4gn.sites import SITE_FIELDS
from geo_p4gn.taxonomy import Taxonomy, Term

BARAT, UTARA = "31.73", "31.72"
CENGKARENG, PALMERAH, PRIOK = "31.73.01", "31.73.07", "31.72.02"
KKA, KAPUK, KBS, PRIOK_KEL, SUNTER = ("31.73.01.1004", "31.73.01.1005", "31.73.07.1006", "31.72.02.1001",
                                      "31.72.02.1002")


def areas() -> pd.DataFrame:
    rows = [
        (KKA, "Kedaung Kali Angke", CENGKARENG, "Cengkareng", BARAT, "Kota Administrasi Jakarta Barat"),
        (KAPUK, "Kapuk", CENGKARENG, "Cengkareng", BARAT, "Kota Administrasi Jakarta Barat"),
        (KBS, "Kota Bambu Selatan", PALMERAH, "Pal Merah", BARAT, "Kota Administrasi Jakarta Barat"),
        (PRIOK_KEL, "Tanjung Priok", PRIOK, "Tanjung Priok", UTARA, "Kota Administrasi Jakarta Utara"),
        (SUNTER, "Sunter Agung", PRIOK, "Tanjung Priok", UTARA, "Kota Administrasi Jakarta Utara"),
    ]
    return pd.DataFrame(rows, columns=["code", "name", "kecamatan_code", "kecamatan_name", "kota_code",
                                       "kota_name"])


def records() -> pd.DataFrame:
    def rec(rid, kel):
        return {"id": rid, "date": dt.date(2024, 5, 1), "end_date": None, "type_key": "deklarasi",
                "actor_key": "komunitas", "organisation": "Karang Taruna", "site_id": None,
                "kelurahan_code": kel, "participants": 10, "notes": "", "created_by": "t",
                "created_at": "2025-01-01T00:00:00Z", "updated_by": None, "updated_at": None, "deleted": False,
                "version": 1, "geometry": None}

    rows = [rec("r1", KKA), rec("r2", KAPUK), rec("r3", KBS), rec("r4", PRIOK_KEL), rec("r5", SUNTER),
            rec("r6", None)]
    return pd.DataFrame(rows, columns=list(FIELDS))


# (filters, the areas they select, the records kept)
RULE = [
    (Filters(), (), ["r1", "r2", "r3", "r4", "r5", "r6"]),
    (Filters(kota=(BARAT,)), (BARAT,), ["r1", "r2", "r3"]),
    # the case: kota Jakarta Barat + kecamatan Cengkareng = Cengkareng only
    (Filters(kota=(BARAT,), kecamatan=(CENGKARENG,)), (CENGKARENG,), ["r1", "r2"]),
    # finer still: + kelurahan Kapuk = Kapuk only
    (Filters(kota=(BARAT,), kecamatan=(CENGKARENG,), kelurahan=(KAPUK,)), (KAPUK,), ["r2"]),
    # a kelurahan directly inside a kota narrows it too
    (Filters(kota=(BARAT,), kelurahan=(KBS,)), (KBS,), ["r3"]),
    # different branches add up
    (Filters(kota=(UTARA,), kecamatan=(CENGKARENG,)), (UTARA, CENGKARENG), ["r1", "r2", "r4", "r5"]),
    (Filters(kecamatan=(CENGKARENG, PALMERAH)), (CENGKARENG, PALMERAH), ["r1", "r2", "r3"]),
    (Filters(kecamatan=(CENGKARENG,), kelurahan=(PRIOK_KEL,)), (CENGKARENG, PRIOK_KEL), ["r1", "r2", "r4"]),
    # two kecamatan in one kota: both narrow it, and add up with each other
    (Filters(kota=(BARAT,), kecamatan=(CENGKARENG, PALMERAH)), (CENGKARENG, PALMERAH), ["r1", "r2", "r3"]),
    # narrowing in one kota, the other kota whole
    (Filters(kota=(BARAT, UTARA), kecamatan=(PALMERAH,)), (UTARA, PALMERAH), ["r3", "r4", "r5"]),
    (Filters(kota=(BARAT,), kecamatan=(CENGKARENG,), kelurahan=(SUNTER,)), (CENGKARENG, SUNTER),
     ["r1", "r2", "r5"]),
]


@pytest.mark.parametrize(("filters", "selected", "kept"), RULE)
def test_the_area_rule(filters, selected, kept):
    assert filters.areas() == tuple(sorted(selected))
    frame = records()
    assert frame.loc[filters.record_mask(frame), "id"].tolist() == kept


def _taxonomy() -> Taxonomy:
    return Taxonomy(year=2024, types=(Term("deklarasi", "Deklarasi masyarakat anti narkoba", "Community anti-drug "
                                           "declaration"),),
                    actors=(Term("komunitas", "Komunitas / masyarakat", "Community"),),
                    ikrn=(Term("bahaya", "Bahaya", "Danger", rank=1), Term("waspada", "Waspada", "Alert", rank=2)))


def test_the_coverage_table_follows_the_rule():
    """Kota Jakarta Barat + kecamatan Cengkareng: the kelurahan rows and the kota total are Cengkareng's."""
    f = Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31), kota=(BARAT,),
                kecamatan=(CENGKARENG,))
    tables = cov.coverage_tables(records(), None, areas(), _taxonomy(), f, levels=("kelurahan", "kecamatan", "kota"),
                                 as_of=dt.date(2025, 1, 1))
    got = {lv: t[["code", "interventions"]].values.tolist() for lv, t in tables.items()}
    assert got == {"kelurahan": [[KKA, 1], [KAPUK, 1]], "kecamatan": [[CENGKARENG, 2]], "kota": [[BARAT, 2]]}


def _sites() -> pd.DataFrame:
    df = pd.DataFrame({"id": ["kampung-boncos"], "name": ["Kampung Boncos"], "aliases": [["Kampung Kiapang"]],
                       "kelurahan_code": [KBS], "approximate": [True], "ikrn": ["bahaya"], "sources": [[]],
                       "geometry": [None]})
    return df[list(SITE_FIELDS)]


# (field, value given, code found)
NAMES = [
    ("kota", "Jakarta Barat", BARAT),
    ("kota", "KOTA ADMINISTRASI JAKARTA BARAT", BARAT),
    ("kota", "jakarta-utara", UTARA),
    ("kota", "Kota Jakarta Utara", UTARA),
    ("kota", "31.73", BARAT),
    ("kecamatan", "Cengkareng", CENGKARENG),
    ("kecamatan", "Palmerah", PALMERAH),  # "Pal Merah" in the code list
    ("kecamatan", "Kec. Tanjung Priok", PRIOK),
    ("kelurahan", "kedaung kali angke", KKA),
    ("kelurahan", "Kedaung Kali Angké", KKA),  # accents ignored
    ("kelurahan", "Kelurahan Kapuk", KAPUK),
    ("kelurahan", "Tanjung Priok", PRIOK_KEL),  # the kelurahan, not the kecamatan of the same name
    ("kelurahan", "31.72.02.1002", SUNTER),
    ("sites", "Kampung Kiapang", "kampung-boncos"),  # an alias
    ("sites", "kampung boncos", "kampung-boncos"),
    ("sites", "kampung-boncos", "kampung-boncos"),
    ("types", "Deklarasi Masyarakat Anti Narkoba", "deklarasi"),
    ("actors", "community", "komunitas"),
    ("ikrn", "Bahaya", "bahaya"),
    ("ikrn", "alert", "waspada"),
]


@pytest.mark.parametrize(("field", "value", "code"), NAMES)
def test_values_by_code_or_name(field, value, code):
    got = resolve_filters(Filters(**{field: (value,)}), areas=areas(), sites=_sites(), taxonomy=_taxonomy())
    assert getattr(got, field) == (code,)


def test_names_resolve_then_narrow():
    got = resolve_filters(Filters(kota=("Jakarta Barat",), kecamatan=("Cengkareng",)), areas=areas())
    assert (got.kota, got.kecamatan, got.areas()) == ((BARAT,), (CENGKARENG,), (CENGKARENG,))


def test_a_value_that_matches_nothing_is_an_error_naming_it():
    with pytest.raises(FilterValueError) as err:
        resolve_filters(Filters(kota=("Jakarta Bart", "Jakarta Utara"), sites=("kampung-x",)), areas=areas(),
                        sites=_sites(), taxonomy=_taxonomy())
    assert str(err.value) == ("--kota 'Jakarta Bart': no kota has this code or name; "
                              "--site 'kampung-x': no site has this code or name")
    assert err.value.problems == [("kota", "Jakarta Bart", "unknown"), ("sites", "kampung-x", "unknown")]
    assert err.value.resolved.kota == (UTARA,)  # what did match, for the app's link


def test_a_name_of_two_areas_is_ambiguous():
    two = pd.concat([areas(), pd.DataFrame([("31.71.01.1001", "Kapuk", "31.71.01", "Gambir", "31.71",
                                             "Kota Administrasi Jakarta Pusat")], columns=areas().columns)])
    with pytest.raises(FilterValueError, match=r"--kelurahan 'kapuk': more than one kelurahan has this name "
                                               r"\(31.71.01.1001, 31.73.01.1005\); give the code"):
        resolve_filters(Filters(kelurahan=("kapuk",)), areas=two)
    assert resolve_filters(Filters(kelurahan=(KAPUK,)), areas=two).kelurahan == (KAPUK,)


def test_normalise_name():
    assert [normalise_name(n) for n in ("Kota Administrasi Jakarta Barat", ("Kabupaten Administrasi Kepulauan "
                                        "Seribu"), "Kelapa Gading", "Kota Bambu Selatan", " Pal  Merah ")] == [
        "jakartabarat", "kepulauanseribu", "kelapagading", "bambuselatan", "palmerah"]
