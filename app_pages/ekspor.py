"""Ekspor: the shareable HTML map (:func:`geo_p4gn.services.export_html`) and the data exports (CSV, XLSX,
GeoJSON, GeoPackage; :func:`geo_p4gn.services.export_records`) for the current filters.

Files are built only when a download button is pressed (``data=callable, on_click="ignore"``: no rerun).
Public exports need the ``export_public`` permission; the checkbox is shown to everyone who may export
but only enabled for those who may publish, and the services refuse the rest anyway.
"""

from __future__ import annotations

import streamlit as st

from geo_p4gn.render import maps
from geo_p4gn_app import data, downloads, filter_panel, views
from geo_p4gn_app.session import Context, current


def main(ctx: Context) -> None:
    st.title(ctx.t("ekspor_title"))
    st.caption(ctx.t("ekspor_filters"))
    v = ctx.view()
    sites = data.sites(v, ctx.user)
    filters = filter_panel.panel(ctx, sites)
    metric = st.session_state.get("view_metric") if st.session_state.get("view_metric") in maps.METRICS \
        else "interventions"
    filter_panel.write_url(filters, {"metric": metric})
    n = data.filtered_count(v, ctx.user, filters)
    st.caption(ctx.t("records_in_view", n=f"{n:,}".replace(",", ".")))

    may_publish = ctx.can("export_public")
    public = st.checkbox(ctx.t("public"), value=False, disabled=not may_publish, key="ekspor_public",
                         help=None if may_publish else ctx.t("public_denied"))
    public = public and may_publish
    stamp = views.today().strftime("%Y%m%d")
    suffix = "-publik" if public else ""

    st.subheader(ctx.t("html_title"))
    st.caption(ctx.t("html_help"))
    st.download_button(ctx.t("html_download"), data=lambda: downloads.html_map(ctx.store, ctx.user, filters, public=public, lang=ctx.lang,
                                                       metric=metric),
                       file_name=f"peta-p4gn-{stamp}{suffix}.html", mime="text/html", on_click="ignore",
                       type="primary", icon=":material/map:", key="ekspor_html")

    st.subheader(ctx.t("briefing_title"))
    st.caption(ctx.t("briefing_help"))
    args = {"public": public, "lang": ctx.lang, "metric": metric}
    briefing = (
        ("png", ctx.t("png_download"), lambda: downloads.png_map(ctx.store, ctx.user, filters, **args),
         f"peta-p4gn-{stamp}{suffix}.png", "image/png", ":material/image:"),
        ("pdf", ctx.t("pdf_download"), lambda: downloads.report_pdf(ctx.store, ctx.user, filters, **args),
         f"buku-peta-p4gn-{stamp}{suffix}.pdf", "application/pdf", ":material/picture_as_pdf:"),
        ("qgis", ctx.t("styled_gpkg_download"), lambda: downloads.styled_gpkg(ctx.store, ctx.user, filters, **args),
         f"cakupan-p4gn-qgis-{stamp}{suffix}.gpkg", "application/geopackage+sqlite3", ":material/layers:"),
    )
    for col, (key, label, make, name, mime, icon) in zip(st.columns(len(briefing)), briefing):
        with col:
            st.download_button(label, data=make, file_name=name, mime=mime, on_click="ignore", icon=icon,
                               key=f"ekspor_{key}", width="stretch")

    st.subheader(ctx.t("data_title"))
    hxl = st.checkbox(ctx.t("hxl"), value=False, key="ekspor_hxl")
    cols = st.columns(len(downloads.FORMATS))
    for col, (fmt, ext, label, mime) in zip(cols, downloads.FORMATS):
        with col:
            st.download_button(ctx.t("data_download", fmt=label),
                               data=lambda fmt=fmt: downloads.records_file(ctx.store, ctx.user, fmt, filters,
                                                                           public=public, hxl=hxl, lang=ctx.lang),
                               file_name=f"intervensi-p4gn-{stamp}{suffix}.{ext}", mime=mime, on_click="ignore",
                               icon=":material/download:", key=f"ekspor_{fmt}", width="stretch")


main(current())
