"""Reject reasons in the user's language (Bahasa Indonesia first, English available).

The importer and the validators it calls word a reason in English as they find it (``Reject.reason``);
this module recognises each known wording, takes its values and renders it from the catalogue
(:mod:`geo_p4gn.i18n`, keys ``reject.*``). The column is always named as the file's own header
("tanggal", "Lokasi"), never by an internal key such as ``site_id``. A wording not recognised (a new
message not yet in the catalogue) is shown as it is, in English: a unit test runs every reason of the
test fixtures through :func:`translate` so that a message added without its translation is caught.

>>> translate("'-5' is not a whole number >= 0", "id")
"'-5' bukan bilangan bulat >= 0"
>>> label("feature 3 (id 0)", "id"), label("row 7", "en")
('fitur 3 (id 0)', 'row 7')
"""

from __future__ import annotations

import re

from ..i18n import t

#: (catalogue key, the English wording as a pattern; named groups are the placeholders). First match wins.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((key, re.compile(pattern, re.DOTALL)) for key, pattern in (
    ("not_a_day", r"(?P<value>.+) is not a real calendar day \((?P<why>.*)\)"),
    ("not_a_date", r"(?P<value>.+) is not a date \(use YYYY-MM-DD or DD/MM/YYYY\)"),
    ("not_finite", r"(?P<value>.+) is not a finite number"),
    ("not_a_number", r"(?P<value>.+) is not a number"),
    ("not_whole", r"(?P<value>.+) is not a whole number >= 0"),
    ("too_long", r"(?P<n>[\d,]+) characters, more than the limit of (?P<limit>[\d,]+)"),
    ("longer_than", r"longer than (?P<n>\d+) characters"),
    ("nik", r"holds a 16-digit number shaped like a NIK; personal identifiers must not be recorded"),
    ("phone", r"holds something shaped like a phone number; personal contacts must not be recorded"),
    ("no_location", r"a location is required \(latitude and longitude, or a geometry\)"),
    ("not_wkt", r"not readable WKT \((?P<why>.*)\)"),
    ("not_point_polygon", r"a (?P<kind>\w+) \(empty=(?P<empty>\w+)\) is not a point or a polygon"),
    ("not_geometry", r"(?P<kind>\w+) is not a geometry"),
    ("not_finite_coords", r"coordinates are not finite"),
    ("invalid_geometry", r"invalid (?P<kind>\w+) \((?P<why>.*)\); it is not repaired"),
    ("not_uuid", r"(?P<value>.+) is not a UUID"),
    ("end_before", r"(?P<end>\S+) is before the date (?P<date>\S+)"),
    ("swapped", r"latitude (?P<lat>\S+) and longitude (?P<lon>\S+) look swapped \(Jakarta is near latitude -6\.2, "
                r"longitude 106\.8\); exchange them"),
    ("bad_coords", r"coordinates \((?P<lat>[^,]+), (?P<lon>[^)]+)\) are not finite numbers in range"),
    ("outside", r"latitude (?P<lat>\S+), longitude (?P<lon>\S+) is outside DKI Jakarta \(more than (?P<m>[\d.]+) m "
                r"from every kelurahan, Kepulauan Seribu included\)"),
    ("unknown_type", r"(?P<value>.+) is not a known type \(known keys: (?P<keys>.*)\)"),
    ("unknown_actor", r"(?P<value>.+) is not a known actor \(known keys: (?P<keys>.*)\)"),
    ("several_sites", r"(?P<value>.+) names several sites \((?P<ids>.*)\); give the site id"),
    ("unknown_site", r"(?P<value>.+) is not a known site \(give a site id, name or alias from the site registry\)"),
    ("not_geopoint", r"(?P<value>.+) is not a geopoint \(latitude longitude altitude accuracy\)"),
    ("not_geojson_geometry", r"is not a readable GeoJSON geometry \((?P<why>.*)\)"),
    ("not_feature", r"is not a GeoJSON Feature"),
    ("too_deep", r"is nested too deeply"),
    ("too_many_cells", r"has (?P<cells>[\d,]+) cells but the header has (?P<columns>[\d,]+) columns"),
    ("stored_other_deleted", r"(?P<id>\S+) is already stored \(deleted\) with different content; not overwritten "
                             r"\(edit the stored record, or give this row a new id\)"),
    ("stored_other", r"(?P<id>\S+) is already stored with different content; not overwritten \(edit the stored "
                     r"record, or give this row a new id\)"),
    ("used_in_file", r"(?P<id>\S+) is already used by (?P<where>.+) with different content; not imported"),
))
_LABEL = re.compile(r"(?P<unit>row|feature|vertex) (?P<n>\d+)")


def match(text: str) -> tuple[str, dict[str, str]] | None:
    """The catalogue key and values of an English reason text, or None when the wording is not known."""
    for key, pattern in PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return key, m.groupdict()
    return None


def label(text: str, lang: str) -> str:
    """``row 7`` / ``feature 3 (id 0)`` / ``vertex 2`` in ``lang``."""
    if lang == "en":
        return text
    return _LABEL.sub(lambda m: t(f"reject.{m['unit']}", lang, n=m["n"]), text)


def translate(text: str, lang: str) -> str:
    """An English reason text (without its row and column) in ``lang``; unknown wordings stay as they are."""
    if lang == "en":
        return text
    found = match(text)
    if found is None:
        return text
    key, values = found
    if "where" in values:
        values["where"] = label(values["where"], lang)
    return t(f"reject.{key}", lang, **values)


def reject_columns(lang: str) -> tuple[str, str, str]:
    """The rejects file's own columns (row, column, reason) in ``lang``."""
    return tuple(t(f"reject.col_{k}", lang) for k in ("row", "field", "reason"))
