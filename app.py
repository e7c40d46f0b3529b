"""geo_p4gn: the web server. Run it with ``make run`` or ``streamlit run app.py``.

Streamlit runs ``app_main.py`` (the pages) as ``st.App``, a Starlette application, with geo_p4gn's own HTTP
routes beside it in the same process and on the same port (:mod:`geo_p4gn.http`): the offline capture page
and its API under ``/capture`` and ``/api/capture``, and OpenRosa for ODK Collect / KoboCollect under
``/openrosa``. Responses are gzip-compressed (Streamlit's own JavaScript went out uncompressed: 480 KB
instead of 147 KB for its main bundle).
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from geo_p4gn import http

app = st.App("app_main.py", routes=http.routes(),
             middleware=[Middleware(GZipMiddleware, minimum_size=500)])

if __name__ == "__main__":
    app.run()
