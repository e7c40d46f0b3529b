"""Streamlit's icon font cut down to the icons that can appear (issue 12: a fast first load on a slow link).

Streamlit draws every ``:material/...:`` icon (the app's page icons, alerts, buttons, and its own controls)
with one font, ``MaterialSymbols-Rounded.<hash>.woff2``: 375 KB, the largest file of a first load (7.5 s at
400 kbps) although a page shows a dozen of its 4,300 icons. The font draws an icon as a ligature of its name
(``location_on``), so the subset keeps the letters and the ligatures of the icons named in the app's own code
(``:material/<name>:``) and of every icon name Streamlit's JavaScript mentions (its own controls): about 460
icons, 48 KB.

The subset is made with fontTools (and brotli for WOFF2) once per process, in the background from the first
page on, and served at ``/ui/icons-<key>.woff2`` (immutable: the key is the hash of Streamlit's font and of
the names). :func:`script`, run by the page before Streamlit's own code, puts it first in Streamlit's
``@font-face`` rule; Streamlit's full font stays its second source, used when the subset cannot be made.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import threading
from pathlib import Path

import streamlit

_ROOT = Path(streamlit.__file__).resolve().parent / "static" / "static"
_APP_DIRS = ("app_pages", "geo_p4gn_app", "geo_p4gn")
_REPO = Path(__file__).resolve().parents[1]
_lock = threading.Lock()


@functools.cache
def source() -> Path | None:
    """Streamlit's icon font, or None when this Streamlit has none."""
    found = sorted((_ROOT / "media").glob("MaterialSymbols-Rounded.*.woff2"))
    return found[0] if found else None


@functools.cache
def names() -> tuple[str, ...]:
    """Candidate icon names: every ``:material/<name>:`` of the app's code and of Streamlit's JavaScript, and
    every lower-case word Streamlit's JavaScript quotes."""
    found: set[str] = set()
    app_files = [*_REPO.glob("*.py"), *(p for folder in _APP_DIRS for p in (_REPO / folder).rglob("*.py"))]
    for path in app_files:  # the page list with its icons is app_main.py, at the top of the checkout
        found.update(re.findall(r":material/([a-z0-9_]+):", path.read_text(encoding="utf-8", errors="ignore")))
    for path in (_ROOT / "js").glob("*.js"):
        text = path.read_text(encoding="utf-8", errors="ignore")
        found.update(re.findall(r":material/([a-z0-9_]+):", text))
        found.update(re.findall(r"[`\"']([a-z0-9_]{2,60})[`\"']", text))
    return tuple(sorted(found))


@functools.cache
def key() -> str:
    font = source()
    digest = hashlib.sha256((font.name if font else "").encode())
    digest.update("\n".join(names()).encode())
    return digest.hexdigest()[:16]


def url() -> str:
    return f"/ui/icons-{key()}.woff2"


_SCRIPT = """(function (src) {
  // Streamlit's @font-face of its icon font, given the subset as its first source (the full font stays second)
  try {
    Array.prototype.forEach.call(document.styleSheets, function (sheet) {
      var rules;
      try { rules = sheet.cssRules; } catch (e) { return; }
      for (var i = rules.length - 1; i >= 0; i--) {
        var r = rules[i];
        if (r.type !== 5 || !/Material Symbols Rounded/.test(r.style.getPropertyValue('font-family'))) { continue; }
        var old = r.style.getPropertyValue('src');
        if (!old || old.indexOf(src) >= 0) { continue; }
        var text = '@font-face {';
        for (var j = 0; j < r.style.length; j++) {
          var name = r.style[j];
          text += name + ': ' + (name === 'src' ? 'url("' + src + '") format("woff2"), ' + old : r.style.getPropertyValue(name)) + '; ';
        }
        sheet.deleteRule(i);
        sheet.insertRule(text + '}', i);
      }
    });
  } catch (e) { /* Streamlit's full font is used */ }
})(%s);
"""


def script() -> str:
    """The script the page runs before Streamlit's (after its style sheet): Streamlit's ``@font-face`` of its
    icon font gets the subset as its first source. A new family would not do: Streamlit loads its icon family
    itself (``document.fonts.load``) and draws table icons on a canvas by that family's name. Empty when
    Streamlit has no icon font."""
    if source() is None:
        return ""
    return _SCRIPT % json.dumps(url())


def make_subset() -> bytes | None:
    """The subset as WOFF2 bytes (a few seconds of CPU, once), or None when it cannot be made."""
    with _lock:
        return _subset()


@functools.cache
def _subset() -> bytes | None:
    font_path = source()
    if font_path is None:
        return None
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        font = TTFont(font_path)
        cmap = font.getBestCmap()
        char_of = {glyph: chr(code) for code, glyph in cmap.items()}
        ligatures: dict[str, str] = {}
        for lookup in font["GSUB"].table.LookupList.Lookup:
            for table in lookup.SubTable:
                table = getattr(table, "ExtSubTable", table)
                if type(table).__name__ != "LigatureSubst":
                    continue
                for first, ligs in table.ligatures.items():
                    for lig in ligs:
                        word = "".join(char_of.get(g, "\0") for g in (first, *lig.Component))
                        ligatures[word] = lig.LigGlyph
        wanted = [ligatures[n] for n in names() if n in ligatures]
        chars = [ord(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789_" if ord(c) in cmap]
        options = subset.Options()
        options.layout_closure = False  # only the wanted ligatures, not every icon its letters could spell
        options.layout_features = ["liga", "rlig", "calt", "ccmp"]
        options.notdef_outline = True
        options.name_IDs = ["*"]
        options.flavor = "woff2"
        subsetter = subset.Subsetter(options)
        subsetter.populate(glyphs=wanted, unicodes=chars)
        subsetter.subset(font)
        out = io.BytesIO()
        font.flavor = "woff2"
        font.save(out)
        return out.getvalue()
    except Exception:  # noqa: BLE001 - no fontTools/brotli or an unexpected font: Streamlit's own font is used
        return None


def warm() -> None:
    """Make the subset in a background thread (the first page's font request then finds it ready)."""
    threading.Thread(target=make_subset, name="geo-p4gn-icons", daemon=True).start()


__all__ = ["key", "make_subset", "names", "script", "url", "warm"]
