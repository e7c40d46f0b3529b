"""Map elements whose rendered output is never compiled again as a template.

Why this module exists
----------------------
folium and branca build a page in two passes. An element's Jinja2 macro is rendered once (user data enters
as a variable value, which is safe); branca then wraps that *output* in ``Element(output)``, which
compiles it as a new template, and renders it again when the page is assembled. Any ``{{ ... }}`` or
``{% ... %}`` inside user data (an organisation, a site name, a taxonomy label) was therefore evaluated on
the server: a site named ``Probe {{7*7}}`` showed as "Probe 49", and ``{% ... %}`` could run code.

Escaping does not close that class of hole; structure does. Every element of this project derives from
:class:`SafeElement`, whose ``render`` places each macro's output into the page as :class:`Raw` text: a
child that returns its text as it is and is never compiled. The macros themselves are fixed strings written
here; user data reaches them only as JSON values (:func:`geo_p4gn.render.maps.to_js`) that the page's own script
reads and writes with ``textContent``. The folium classes the project needs (the map, the layer control,
feature groups and the vector shapes of the capture pages) come as safe subclasses below; folium's own
helper children that they create (``ElementAddToElement``, ``FitBounds``) hold only generated names and
numbers.

``tests/integration/test_template_injection.py`` records every template Jinja2 compiles while each renderer runs
and fails if any of them contains a user string.

The project's own HTML (the export's header, tables and sources) comes from :func:`page_template`: Jinja2
with autoescape on, loading only the files in ``templates/``.
"""

from __future__ import annotations

import functools
from importlib import resources

import folium
import jinja2
from branca.element import Element, Figure, MacroElement

__all__ = [
    "CircleMarker",
    "FeatureGroup",
    "LayerSwitch",
    "Map",
    "PolyLine",
    "Polygon",
    "Raw",
    "SafeElement",
    "TileLayer",
    "page_template",
    "static_text",
]


class Raw(Element):
    """Text placed into a page as it is: never parsed or compiled as a template."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "Raw"
        self.text = str(text)

    def render(self, **kwargs) -> str:
        return self.text


class SafeElement(MacroElement):
    """A macro element whose rendered ``header``, ``html`` and ``script`` go into the page as :class:`Raw`.

    List it LAST among a class's bases (``class X(folium.map.Layer, SafeElement)``): the ``render`` of
    folium's classes (a layer adding itself to its parent, a plugin adding its script links) then runs
    first and ends here instead of in branca's ``MacroElement.render``.
    """

    def render(self, **kwargs):
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = f"{type(self).__name__} can only be rendered inside a Figure"
            raise TypeError(msg)
        module = self._template.module
        for part in ("header", "html", "script"):
            macro = module.__dict__.get(part)
            if macro is not None:
                getattr(figure, part).add_child(Raw(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class Map(folium.Map, SafeElement):
    """folium's map, rendered by :class:`SafeElement`."""


class LayerSwitch(folium.LayerControl, SafeElement):
    """folium's layer control, rendered by :class:`SafeElement`.

    Leaflet writes layer names with ``innerHTML``: every layer of this project escapes its name
    (:func:`geo_p4gn.render.maps.esc`) when it is made.
    """


class TileLayer(folium.TileLayer, SafeElement):
    """folium's tile layer, rendered by :class:`SafeElement` (its attribution escaped by the caller)."""


class FeatureGroup(folium.FeatureGroup, SafeElement):
    """folium's feature group, rendered by :class:`SafeElement`."""


class CircleMarker(folium.CircleMarker, SafeElement):
    """folium's circle marker (no tooltip or popup), rendered by :class:`SafeElement`."""


class Polygon(folium.Polygon, SafeElement):
    """folium's polygon (no tooltip or popup), rendered by :class:`SafeElement`."""


class PolyLine(folium.PolyLine, SafeElement):
    """folium's polyline (no tooltip or popup), rendered by :class:`SafeElement`."""


@functools.cache
def _environment() -> jinja2.Environment:
    # A fixed set of templates (the package's own files), autoescape on for every one of them, and
    # undefined names an error: a template can show data, never compile it.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("geo_p4gn.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page_template(name: str) -> jinja2.Template:
    """One of the project's page templates (``geo_p4gn/render/templates/<name>``), autoescaped."""
    return _environment().get_template(name)


@functools.cache
def static_text(name: str) -> str:
    """A file of ``geo_p4gn/render/static`` (the maps' browser code and styles)."""
    return resources.files("geo_p4gn.render").joinpath("static", name).read_text(encoding="utf-8")
