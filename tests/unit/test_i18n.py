"""The one catalogue of visible text (geo_p4gn.i18n): both languages, the same placeholders, no lost key."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from geo_p4gn import i18n

ROOT = Path(__file__).resolve().parents[2]


def test_languages():
    assert i18n.LANGS == ("id", "en")
    assert set(i18n.LANG_NAMES) == set(i18n.LANGS)
    assert set(i18n.STRINGS) == set(i18n.LANGS)


def test_every_key_has_both_languages_and_the_same_placeholders():
    assert i18n.problems() == []


@pytest.mark.parametrize(("entry", "fault"), [
    (("Simpan", ""), "x: no 'en' text"),
    (("Simpan", "   "), "x: no 'en' text"),
    (("", "Save"), "x: no 'id' text"),
    (("Simpan",), "x: 1 texts for 2 languages"),
    (("{n} situs", "{count} sites"), "x: placeholders differ: id ['n'], en ['count']"),
    (("{n} situs", "sites"), "x: placeholders differ: id ['n'], en []"),
    (("situs", "{n} sites"), "x: placeholders differ: id [], en ['n']"),
])
def test_the_check_finds_a_missing_translation_and_a_placeholder_that_differs(entry, fault):
    assert i18n.problems({"ok": ("Ya", "Yes"), "x": entry}) == [fault]


def test_the_check_finds_an_unknown_namespace():
    assert i18n.problems({"mpa.sites": ("Situs", "Sites")}) == ["mpa.sites: unknown namespace"]


def test_no_key_is_written_twice():
    """A dict literal keeps the last of two equal keys without a word: the source is read instead."""
    tree = ast.parse((ROOT / "geo_p4gn" / "i18n.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})


def test_namespaces_do_not_collide():
    with pytest.raises(ValueError, match="'map.sites' is defined twice"):
        i18n._merge({"": {"map.sites": ("a", "b")}, "map": {"sites": ("c", "d")}})


def test_t_fills_placeholders_and_falls_back_to_bahasa_indonesia():
    assert i18n.t("records_in_view", "en", n=3) == "3 interventions match the filters."
    assert i18n.t("records_in_view", n=3) == "3 intervensi sesuai filter."
    assert i18n.t("export.period", "fr") == "Periode"
    assert i18n.t("metric.interventions") == "Jumlah intervensi"
    assert i18n.t("export.site_table", "id") == "Ringkasan per situs"
    with pytest.raises(KeyError):
        i18n.t("no.such.key")


def test_the_app_layer_is_the_core_catalogue():
    from geo_p4gn_app import i18n as app_i18n

    assert app_i18n.t is i18n.t
    assert app_i18n.STRINGS is i18n.STRINGS
    assert app_i18n.role_label("pimpinan", "en") == "manager"
    assert app_i18n.role_label("someone", "en") == "someone"


def _imports_the_catalogue_t(tree: ast.Module) -> bool:
    """Whether a module's bare ``t`` is the catalogue's (``from ...i18n import t``), not a helper of its own."""
    return any(isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "i18n"
               and any(a.name == "t" and a.asname is None for a in node.names) for node in ast.walk(tree))


def _calls_with_a_literal_key():
    """Every call of the catalogue with a literal key: ``t("key")`` where ``t`` is imported from an i18n
    module, ``ctx.t("key")`` / ``self.t("key")`` (the app's Context), ``i18n.t("key")``, and the export's
    ``_t("key")`` (``export.key``)."""
    files = [*(ROOT / "geo_p4gn").rglob("*.py"), *(ROOT / "geo_p4gn_app").rglob("*.py"),
             *(ROOT / "app_pages").glob("*.py"), ROOT / "app.py"]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bare_t = _imports_the_catalogue_t(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            func, key = node.func, node.args[0].value
            catalogue_t = ((isinstance(func, ast.Name) and func.id == "t" and bare_t)
                           or (isinstance(func, ast.Attribute) and func.attr == "t"
                               and isinstance(func.value, ast.Name) and func.value.id in ("ctx", "self", "i18n")))
            if (isinstance(func, ast.Name) and func.id == "_t"
                    and path.relative_to(ROOT).as_posix() == "geo_p4gn/render/html.py"):
                key = f"export.{key}"
            elif not catalogue_t:
                continue
            yield f"{path.relative_to(ROOT)}:{node.lineno}", key, node


def test_every_key_the_code_asks_for_exists_and_gets_its_placeholders():
    calls = list(_calls_with_a_literal_key())
    assert len(calls) > 200  # the scan does find the pages' calls
    for where, key, node in calls:
        assert key in i18n.CATALOGUE, f"{where}: no {key!r} in the catalogue"
        if any(k.arg is None for k in node.keywords):  # **values: names not known here
            continue
        given = {k.arg for k in node.keywords if k.arg != "lang"}
        assert given == i18n.fields(i18n.CATALOGUE[key][0]), f"{where}: {key!r} placeholders"
