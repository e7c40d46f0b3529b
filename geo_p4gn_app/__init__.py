"""The Streamlit user interface of geo_p4gn: widgets, session state and cached wrappers only.

The core (:mod:`geo_p4gn`) never imports streamlit; this package does. Every action goes through
:mod:`geo_p4gn.services` (the permission checks live there), every number through
:mod:`geo_p4gn.coverage`, every map through :mod:`geo_p4gn.render.maps`. Pages live in ``app_pages/`` and are
wired up by ``app.py``.
"""
