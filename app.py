"""geo_p4gn: the web server. Run it with ``make run`` or ``streamlit run app.py``.

Streamlit runs ``app_main.py`` (the pages) as ``st.App``, a Starlette application, with geo_p4gn's own HTTP
routes beside it in the same process and on the same port (:mod:`geo_p4gn.http`): the offline capture page
and its API under ``/capture`` and ``/api/capture``, and OpenRosa for ODK Collect / KoboCollect under
``/openrosa``; the basemap file and the capture page's map helpers under ``/basemap`` and ``/capture/map``
(:mod:`geo_p4gn.http.basemap`); Streamlit's own English texts in the chosen language (:mod:`geo_p4gn_app.page`).
Responses are gzip-compressed (Streamlit's own JavaScript went out
uncompressed: 480 KB instead of 147 KB for its main bundle), and versioned static files are cached for
long (:mod:`geo_p4gn.http.caching`).
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from geo_p4gn import http
from geo_p4gn.http import basemap, caching
from geo_p4gn_app import page

app = st.App("app_main.py", routes=[*http.routes(), *basemap.routes(), *page.routes()],
             middleware=[Middleware(GZipMiddleware, minimum_size=500), Middleware(caching.CacheStatic),
                         Middleware(page.PageHelper)])

if __name__ == "__main__":
    app.run()
