from __future__ import annotations

import contextlib
import gc
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

#: Column names understood, per field: (names, fallback names used only when none of the names is present).
#: Names are compared after :func:`normalise_column` (case, spaces, group prefix). Any two of the names
#: in one file are ambiguous; fallbacks are taken in their order (``instanceID`` before ``_uuid``).
COLUMN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "id": (("id", "record_id"), ("instanceid", "_uuid")),
    "date": (("date", "tanggal", "tgl", "tanggal_kegiatan", "tanggal_mulai"), ()),
    "end_date": (("end_date", "tanggal_selesai", "tanggal_akhir"), ()),
    "type": (("type", "type_key", "jenis", "jenis_kegiatan", "jenis_intervensi"), ("type_label",)),
    "actor": (("actor", "actor_key", "aktor", "pentahelix", "unsur_pentahelix"), ("actor_label",)),
    "organisation": (("organisation", "organization", "organisasi", "lembaga", "instansi"), ()),
    "site_id": (("site_id", "site", "situs", "lokasi", "kawasan"), ("site_name",)),
    "participants": (("participants", "peserta", "jumlah_peserta"), ()),
    "notes": (("notes", "catatan", "keterangan"), ()),
    "lat": (("lat", "latitude", "lintang"), ()),
    "lon": (("lon", "lng", "longitude", "bujur"), ()),
    "geometry": (("geometry", "wkt"), ()),
}

#: Kobo/ODK metadata that give the day when the form has no date field, in order of preference.
KOBO_DATE_COLUMNS = ("today", "start", "_submission_time")

#: Columns of a rejects file, ignored on import.
REJECT_COLUMNS = ("_row", "_field", "_reason")
#: The rejects file's columns in every language (``_baris, _kolom, _alasan`` in Bahasa Indonesia): all ignored
#: when a rejects file is imported again.
ALL_REJECT_COLUMNS = frozenset({*REJECT_COLUMNS, "_baris", "_kolom", "_alasan"})


_GEOPOINT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)(?:\s+-?\d+(?:\.\d+)?){0,2}\s*$")

#: The characters Python's ``str.strip``/``isspace`` treat as white space (a test checks the list), as a
#: regular-expression class that pandas/Arrow can match in bulk.
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                 "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

Progress = Callable[[str, int, int], None]


@contextlib.contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    Building 100 000 records triggers repeated full collections that re-scan every object made so far
    (measured: validation took twice as long). Nothing built here forms reference cycles; the collector
    is restored (and runs as usual) afterwards.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def normalise_column(name: Any) -> str:
    """``" Meta/instanceID "`` -> ``"instanceid"``; ``"Tanggal Selesai"`` -> ``"tanggal_selesai"``."""
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "").strip().casefold()
    text = text.rsplit("/", 1)[-1].strip().rstrip(".:")
    return re.sub(r"[\s\-]+", "_", text)
