"""The ODK / KoboToolbox form of an intervention, generated from the taxonomy, the sites and the boundaries.

:func:`xlsform_sheets` builds the XLSForm (``survey``, ``choices``, ``settings``) in memory; pyxform turns
it into the XForm that ODK Collect and KoboCollect download (:func:`build_form`), and the same sheets are
offered as an XLSForm file (:func:`xlsform_bytes`) for agencies that run their own KoboToolbox or ODK
Central. The form's field names are the importer's Indonesian column names (``tanggal``, ``jenis``,
``aktor``, ``organisasi``, ``peserta``, ``catatan``, ``situs``, ``lintang``/``bujur``), so an export of
exactly this form is imported as it is (:mod:`geo_p4gn.importers`).

Location: a GPS point with a map (``titik``), or a site (``situs``), or, when the GPS is poor, kota ->
kecamatan -> kelurahan as cascading choices. ``lintang``/``bujur`` are calculated in the form from
whichever was given (the site's place, or the kelurahan's representative point), and the server
(:func:`instance_record`) derives the same point from the same answers: an OpenRosa submission and an
import of the export of the same submission hold the same content, so one of them is a no-op.

The version is a hash of everything the form is made from: a changed taxonomy or site registry is a new
form version. Submissions of older versions are accepted whenever their keys still exist (the same
validation as every other path).

Examples
--------
>>> form = build_form(taxonomy, sites, boundaries)  # doctest: +SKIP
>>> form.form_id, form.version  # doctest: +SKIP
('geo_p4gn_intervensi', '2024-3f1c0a9b2e')
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
from typing import Any

import shapely

from ._errors import ValidationError
from .taxonomy import taxonomy_dict

FORM_ID = "geo_p4gn_intervensi"
#: Bump when this module changes the form's questions (a new version for every phone).
FORM_REVISION = 1
LANGS = (("id", "Bahasa Indonesia (id)"), ("en", "English (en)"))
_ROUND = 7  # degrees: the precision of the content hash (1 cm)
_CHOICE_COLUMNS = ("list_name", "name", *(f"label::{n}" for _, n in LANGS), "kota", "kecamatan", "lat", "lon")

#: The questions' labels and hints, Indonesian and English.
_Q = {
    "tanggal": ("Tanggal kegiatan", "Date of the activity"),
    "jenis": ("Jenis intervensi", "Type of intervention"),
    "aktor": ("Unsur pentahelix", "Penta-helix actor"),
    "organisasi": ("Organisasi pelaksana", "Organisation"),
    "peserta": ("Jumlah peserta", "Participants"),
    "catatan": ("Catatan (tanpa nama, NIK atau nomor telepon)", "Notes (no names, NIK or phone numbers)"),
    "situs": ("Kawasan rawan (opsional)", "Drug-prone site (optional)"),
    "titik": ("Titik lokasi (GPS atau peta)", "Location (GPS or map)"),
    "kota": ("Kota / kabupaten (bila GPS lemah)", "City / regency (when the GPS is poor)"),
    "kecamatan": ("Kecamatan", "District"),
    "kelurahan": ("Kelurahan", "Village"),
}
_HINT_TITIK = ("Kosongkan bila memilih kawasan atau kelurahan", "Leave empty when choosing a site or a kelurahan")
_MSG_PESERTA = ("Bilangan bulat 0 atau lebih", "A whole number, 0 or more")
_MSG_CATATAN = ("Paling banyak 2000 karakter", "At most 2000 characters")


@dataclasses.dataclass(frozen=True)
class Form:
    form_id: str
    version: str
    title: str
    xml: str
    md5: str
    sheets: dict


def _labels(prefix: str, pair) -> dict[str, str]:
    return {f"{prefix}::{name}": text for (_, name), text in zip(LANGS, pair, strict=True)}


def _round(x: float) -> str:
    return repr(round(float(x), _ROUND))


def kelurahan_points(boundaries) -> dict[str, tuple[float, float]]:
    """Each kelurahan's representative point (lon, lat), rounded as the form carries it."""
    kel = boundaries.kelurahan
    pts = shapely.point_on_surface(kel.geometry.to_numpy())
    return {code: (round(p.x, _ROUND), round(p.y, _ROUND)) for code, p in zip(kel["code"], pts, strict=True)}


def _site_rows(sites) -> list[tuple[str, str, float, float]]:
    rows = []
    if sites is None or not len(sites):
        return rows
    for sid, name, geom in zip(sites["id"], sites["name"], sites.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        p = geom if geom.geom_type == "Point" else geom.point_on_surface()
        rows.append((str(sid), str(name), round(p.x, _ROUND), round(p.y, _ROUND)))
    return sorted(rows)


def form_version(taxonomy, sites, boundaries) -> str:
    """A hash of everything the form is made from (taxonomy, sites, boundaries' source, this module)."""

    doc = {"rev": FORM_REVISION, "taxonomy": taxonomy_dict(taxonomy), "sites": _site_rows(sites),
           "boundaries": {k: boundaries.source.get(k) for k in ("source", "commit")}}
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
    return f"{taxonomy.year or 0}-{digest[:10]}"


def xlsform_sheets(taxonomy, sites, boundaries) -> dict[str, list[dict[str, Any]]]:
    """The XLSForm as ``{"survey": [...], "choices": [...], "settings": [...]}`` (rows as dicts)."""
    site_rows = _site_rows(sites)
    has_sites = bool(site_rows)
    survey: list[dict[str, Any]] = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "date", "name": "tanggal", "required": "yes", "default": "today()",
         "constraint": ". <= today()", **_labels("label", _Q["tanggal"]),
         **_labels("constraint_message", ("Tidak boleh di masa depan", "Not in the future"))},
        {"type": "select_one jenis", "name": "jenis", "required": "yes", **_labels("label", _Q["jenis"])},
        {"type": "select_one aktor", "name": "aktor", "required": "yes", **_labels("label", _Q["aktor"])},
        {"type": "text", "name": "organisasi", "required": "yes", "constraint": "string-length(.) <= 200",
         **_labels("label", _Q["organisasi"])},
        {"type": "integer", "name": "peserta", "constraint": ". >= 0", **_labels("label", _Q["peserta"]),
         **_labels("constraint_message", _MSG_PESERTA)},
        {"type": "text", "name": "catatan", "appearance": "multiline", "constraint": "string-length(.) <= 2000",
         **_labels("label", _Q["catatan"]), **_labels("constraint_message", _MSG_CATATAN)},
    ]
    if has_sites:
        survey.append({"type": "select_one situs", "name": "situs", "appearance": "minimal",
                       **_labels("label", _Q["situs"])})
    survey.append({"type": "geopoint", "name": "titik", "appearance": "maps", **_labels("label", _Q["titik"]),
                   **_labels("hint", _HINT_TITIK)})
    no_point = "${titik} = ''" + (" and ${situs} = ''" if has_sites else "")
    survey += [
        {"type": "select_one kota", "name": "kota", "relevant": no_point, "required": "yes",
         **_labels("label", _Q["kota"])},
        {"type": "select_one kecamatan", "name": "kecamatan", "relevant": no_point, "required": "yes",
         "choice_filter": "kota=${kota}", **_labels("label", _Q["kecamatan"])},
        {"type": "select_one kelurahan", "name": "kelurahan", "relevant": no_point, "required": "yes",
         "choice_filter": "kecamatan=${kecamatan}", **_labels("label", _Q["kelurahan"])},
    ]
    for name, index, part in (("lintang", 0, "lat"), ("bujur", 1, "lon")):
        kel = f"instance('kelurahan')/root/item[name=${{kelurahan}}]/{part}"
        other = (f"if(${{situs}} != '', instance('situs')/root/item[name=${{situs}}]/{part}, {kel})"
                 if has_sites else kel)
        survey.append({"type": "calculate", "name": name,
                       "calculation": f"if(${{titik}} != '', selected-at(${{titik}}, {index}), {other})"})

    choices: list[dict[str, Any]] = []
    for list_name, terms in (("jenis", taxonomy.types), ("aktor", taxonomy.actors)):
        choices += [{"list_name": list_name, "name": t.key, **_labels("label", (t.id, t.en))}
                    for t in terms if t.active]
    for sid, name, lon, lat in site_rows:
        choices.append({"list_name": "situs", "name": sid, **_labels("label", (name, name)),
                        "lat": _round(lat), "lon": _round(lon)})
    for _, row in boundaries.kota.sort_values("code").iterrows():
        choices.append({"list_name": "kota", "name": row["code"], **_labels("label", (row["name"], row["name"]))})
    for _, row in boundaries.kecamatan.sort_values("code").iterrows():
        choices.append({"list_name": "kecamatan", "name": row["code"], "kota": row["kota_code"],
                        **_labels("label", (row["name"], row["name"]))})
    points = kelurahan_points(boundaries)
    for _, row in boundaries.kelurahan.sort_values("code").iterrows():
        lon, lat = points[row["code"]]
        choices.append({"list_name": "kelurahan", "name": row["code"], "kecamatan": row["kecamatan_code"],
                        **_labels("label", (row["name"], row["name"])), "lat": _round(lat), "lon": _round(lon)})
    # one column order for every row (pyxform writes a choice's extra columns in its row's order, and the
    # XLSForm file has one header): the dict and the file give the same XForm
    choices = [{k: row[k] for k in _CHOICE_COLUMNS if k in row} for row in choices]
    settings = [{"form_title": "Intervensi P4GN DKI Jakarta", "form_id": FORM_ID,
                 "version": form_version(taxonomy, sites, boundaries), "default_language": LANGS[0][1],
                 "instance_name": "concat(${tanggal}, ' ', ${jenis}, ' ', ${organisasi})"}]
    return {"survey": survey, "choices": choices, "settings": settings}


def build_form(taxonomy, sites, boundaries) -> Form:
    """The XForm (pyxform, with its checks; any warning is an error) and its metadata."""
    from pyxform.xls2xform import convert

    sheets = xlsform_sheets(taxonomy, sites, boundaries)
    warnings: list[str] = []
    result = convert(xlsform=sheets, warnings=warnings, form_name="data")
    if warnings:
        msg = f"the generated XLSForm has pyxform warnings: {warnings}"
        raise ValidationError(msg)
    xml = result.xform
    settings = sheets["settings"][0]
    return Form(FORM_ID, settings["version"], settings["form_title"], xml,
                hashlib.md5(xml.encode()).hexdigest(), sheets)


def xlsform_bytes(sheets: dict) -> bytes:
    """The sheets as an .xlsx XLSForm (for KoboToolbox / ODK Central)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name in ("survey", "choices", "settings"):
        rows = sheets[name]
        cols: list[str] = []
        for r in rows:
            cols += [c for c in r if c not in cols]
        if name == "choices":  # the rows' own order (see xlsform_sheets)
            cols.sort(key=_CHOICE_COLUMNS.index)
        ws = wb.create_sheet(name)
        ws.append(cols)
        for r in rows:
            ws.append([r.get(c, "") for c in cols])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- reading a submitted instance ------------------------------------------------------------------
def _text(root, name: str) -> str | None:
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == name and len(el) == 0:
            return (el.text or "").strip()
    return None


def instance_record(root, *, site_points: dict[str, tuple[float, float]],
                    kelurahan_points: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """The raw record (for :func:`geo_p4gn.services.record_intervention`) of a parsed instance ``root``.

    The id is ``meta/instanceID`` (``uuid:...``); the location the GPS point, else the site's place, else the
    kelurahan's representative point, as the form calculates ``lintang``/``bujur``."""
    instance_id = _text(root, "instanceID")
    if not instance_id:
        raise ValidationError("meta/instanceID: missing; every ODK submission has one")
    raw: dict[str, Any] = {"id": instance_id}
    for field, name in (("date", "tanggal"), ("type", "jenis"), ("actor", "aktor"),
                        ("organisation", "organisasi"), ("participants", "peserta"), ("notes", "catatan"),
                        ("site_id", "situs")):
        value = _text(root, name)
        if value:
            raw[field] = value
    titik, kel = _text(root, "titik"), _text(root, "kelurahan")
    site = raw.get("site_id")
    if titik:
        parts = titik.split()
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            msg = f"titik: {titik[:60]!r} is not a geopoint (latitude longitude altitude accuracy)"
            raise ValidationError(msg) from None
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValidationError("titik: not finite")
        raw["lat"], raw["lon"] = lat, lon
    elif site:
        if site not in site_points:
            msg = f"situs: {site[:60]!r} is not a site in the registry"
            raise ValidationError(msg)
        raw["lon"], raw["lat"] = site_points[site]
    elif kel:
        if kel not in kelurahan_points:
            msg = f"kelurahan: {kel[:20]!r} is not a DKI Jakarta kelurahan code"
            raise ValidationError(msg)
        raw["lon"], raw["lat"] = kelurahan_points[kel]
    return raw


def site_points(sites) -> dict[str, tuple[float, float]]:
    return {sid: (lon, lat) for sid, _, lon, lat in _site_rows(sites)}


__all__ = ["FORM_ID", "Form", "build_form", "form_version", "instance_record", "kelurahan_points",
           "site_points", "xlsform_bytes", "xlsform_sheets"]
