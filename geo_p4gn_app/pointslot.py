"""The point being placed on the Catat map, sent beside the map instead of inside it (issue 12: one tap).

``st_folium`` sends its map as one Streamlit element: the base map's script (about 45 KB) together with
``feature_group_to_add``. Streamlit re-sends an element only when it changed (the browser keeps the others
by hash), but a new point in ``feature_group_to_add`` is a change of that element: each tap re-sent the whole
map (46 KB, 1 s at 400 kbps). Here the map carries a :class:`PointSlot` that never changes, and the point
goes in a tiny element of its own (:func:`sync`, a Streamlit v2 component with a few bytes of data): the map
element stays the same on a tap, so the browser keeps it and only the point travels.

The page's element keeps the point in ``window.gpCatatPoint`` and posts it to the map frames (same origin);
the map draws it on a message and, when it is drawn later than the point came, reads it from its parent
page. A point is three numbers and a flag: no user text reaches a script.
"""

from __future__ import annotations

import streamlit as st
from folium.template import Template

from geo_p4gn.render import maps
from geo_p4gn.render.elements import SafeElement

OK_COLOR = "#1a9641"
BAD_COLOR = "#d7191c"
#: Streamlit's element key of :func:`sync` (its element is hidden by the page's style sheet, see
#: :mod:`geo_p4gn_app.page`).
KEY = "catat_point_sync"

_JS = """
export default function (component) {
  var p = component.data || null;
  window.gpCatatPoint = p;
  document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]').forEach(function (f) {
    try { f.contentWindow.postMessage({gpPoint: p}, window.location.origin); } catch (e) { /* not loaded */ }
  });
}
"""


class PointSlot(SafeElement):
    """Draws the point :func:`sync` sends (a circle, green when it can be recorded, red when refused)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (map, style) {
                var slot = window.gpPointSlot || (window.gpPointSlot = {});
                slot.map = map;
                slot.layer = null;
                slot.draw = function (p) {
                    var s = window.gpPointSlot;
                    if (s.layer) { s.layer.remove(); s.layer = null; }
                    if (!p || typeof p.lat !== 'number' || typeof p.lon !== 'number') { return; }
                    s.layer = L.circleMarker([p.lat, p.lon], Object.assign({}, style,
                        {fillColor: p.ok ? {{ this.ok_js }} : {{ this.bad_js }}})).addTo(s.map);
                };
                if (!slot.listening) {
                    slot.listening = true;
                    window.addEventListener('message', function (e) {
                        if (e.origin !== window.location.origin || !e.data || !('gpPoint' in e.data)) { return; }
                        window.gpPointSlot.draw(e.data.gpPoint);
                    });
                }
                var p = null;
                try { p = window.parent.gpCatatPoint || null; } catch (e) { p = null; }
                slot.draw(p);
            })({{ this._parent.get_name() }}, {{ this.style_js }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "PointSlot"
        self.ok_js, self.bad_js = maps.to_js(OK_COLOR), maps.to_js(BAD_COLOR)
        self.style_js = maps.to_js({"radius": 10, "color": "#000000", "weight": 3, "fill": True,
                                    "fillOpacity": 0.9, "interactive": False})


def spec(point: dict | None) -> dict | None:
    """What :func:`sync` sends for ``point`` (a :func:`app_pages.catat.locate` result): position and whether
    it can be recorded."""
    if not point:
        return None
    return {"lat": float(point["lat"]), "lon": float(point["lon"]),
            "ok": point["status"] in ("inside", "overlap", "gap")}


@st.cache_resource(show_spinner=False)
def _component():
    return st.components.v2.component("geo_p4gn_point_sync", js=_JS)


def sync(point: dict | None) -> None:
    """Send ``point`` to the Catat map (drawn by its :class:`PointSlot`)."""
    _component()(key=KEY, data=spec(point))


__all__ = ["PointSlot", "spec", "sync"]
