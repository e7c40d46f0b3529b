"""The app's UI strings: a thin layer over the core catalogue :mod:`geo_p4gn.i18n`.

Every string lives once, in ``geo_p4gn.i18n.CATALOGUE`` (Bahasa Indonesia and English side by side); the
pages ask for it by key through ``ctx.t("...")`` or :func:`t`. The app's own keys are bare (``"save"``),
the renderers' are namespaced (``"map.sites"``). Which language a person sees is the app's business and
stays in :mod:`geo_p4gn_app.session` (the session state, set by the language switch).

Examples
--------
>>> t("save", "en")
'Save'
>>> role_label("petugas", "en"), role_label("auditor", "en")
('field team', 'auditor')
"""

from __future__ import annotations

from geo_p4gn.i18n import LANG_NAMES, LANGS, STRINGS, t

__all__ = ["LANGS", "LANG_NAMES", "STRINGS", "role_label", "t"]


def role_label(role: str, lang: str = "id") -> str:
    """A role's name in ``lang`` (the role itself when the catalogue has no name for it)."""
    key = f"role_{role}"
    return t(key, lang) if key in STRINGS["id"] else role
