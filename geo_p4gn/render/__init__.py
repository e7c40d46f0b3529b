"""Rendering: turning data into pages, with no user string ever compiled as a template.

- :mod:`geo_p4gn.render.elements`: the base of every map element (:class:`~geo_p4gn.render.elements.SafeElement`),
  the safe variants of the folium classes the project uses, and the project's own page templates
  (Jinja2 with autoescape, a fixed set of files under ``templates/``).
- ``static/``: the browser code of the maps (``support.js``) and its styles, as plain files.
"""
