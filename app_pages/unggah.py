"""Unggah data: upload a CSV, XLSX, GeoJSON or KoboToolbox/ODK export; preview the dry run; import with a
progress bar; then the summary and the rejects report to fix and upload again.

The upload limits of :mod:`geo_p4gn.importers.limits` apply twice: Streamlit refuses a file above
``server.maxUploadSize`` before it reaches the app, and :func:`geo_p4gn.importers.limits.received_upload` /
:func:`geo_p4gn.services.import_file` refuse anything that breaks a limit (size, rows, zip entries and
ratio, nesting) by streaming, before a parser sees it. A file is imported at most once per session: the
second press of "Import" (or a rerun) shows the first result.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from geo_p4gn import services
from geo_p4gn._errors import P4gnError
from geo_p4gn.importers import limits
from geo_p4gn_app.session import Context, current, error
from geo_p4gn_app.text import md

TYPES = [s.lstrip(".") for s in limits.UPLOAD_SUFFIXES]
STAGES = ("read", "validate", "locate", "write")
#: Rejected rows listed on the page (the downloadable report has all of them).
SHOWN_REJECTS = 500


def _run(ctx: Context, upload, *, dry_run: bool, progress=None) -> tuple[object, bytes]:
    """Import (or dry-run) the upload through the services; return the report and the rejects CSV."""
    upload.seek(0)
    with limits.received_upload(upload, upload.name) as path, tempfile.TemporaryDirectory() as tmp:
        rejects = Path(tmp) / "rejects.csv"
        report = services.import_file(ctx.store, ctx.user, path, name=upload.name, dry_run=dry_run,
                                      rejects_path=rejects, progress=progress, lang=ctx.lang)
        data = rejects.read_bytes() if rejects.exists() else b""
    return report, data


def _counts(report) -> dict[str, int]:
    return {"rows": report.rows, **report.summary()}


def rejects_section(ctx: Context, report, data: bytes, name: str, key: str) -> None:
    if not report.rejects:
        return
    st.subheader(ctx.t("rejects_title"))
    shown = pd.DataFrame({
        ctx.t("col_row"): [r.row for r in report.rejects[:SHOWN_REJECTS]],
        ctx.t("col_field"): [r.field for r in report.rejects[:SHOWN_REJECTS]],
        ctx.t("col_reason"): [r.reason_in(ctx.lang) for r in report.rejects[:SHOWN_REJECTS]],
    })
    st.dataframe(shown, hide_index=True, height=min(38 + 35 * len(shown), 320))
    stem = Path(limits.safe_name(name)).stem
    st.download_button(ctx.t("rejects_download"), data=data, file_name=f"{stem}-ditolak.csv", mime="text/csv",
                       on_click="ignore", icon=":material/download:", key=key)


def preview_section(ctx: Context, report, data: bytes, name: str) -> None:
    st.subheader(ctx.t("preview"))
    st.info(ctx.t("preview_rows", **_counts(report)))
    if getattr(report, "stored", 0):
        st.caption(ctx.t("preview_stored", n=report.stored))
    if report.columns:
        st.caption(ctx.t("columns_used"))
        st.dataframe(pd.DataFrame({ctx.t("col_target"): list(report.columns),
                                   ctx.t("col_source"): list(report.columns.values())}),
                     hide_index=True)
    if report.ignored_columns:
        st.caption(md(ctx.t("columns_ignored", cols=", ".join(map(str, report.ignored_columns)))))
    rejects_section(ctx, report, data, name, "unggah_preview_rejects")


def do_import(ctx: Context, upload, key: str) -> None:
    bar = st.progress(0.0, text=ctx.t("importing"))

    def progress(stage: str, done: int, total: int) -> None:
        i = STAGES.index(stage) if stage in STAGES else 0
        frac = (i + (done / total if total else 0.0)) / len(STAGES)
        label = ctx.t(f"stage_{stage}") if stage in STAGES else stage
        bar.progress(min(max(frac, 0.0), 1.0), text=f"{ctx.t('importing')} {label} {done:,}/{total:,}")

    try:
        report, data = _run(ctx, upload, dry_run=False, progress=progress)
    except P4gnError as exc:
        bar.empty()
        error(ctx, exc)
        return
    bar.progress(1.0, text=ctx.t("imported", **report.summary()))
    st.session_state["unggah_done"] = {"key": key, "report": report, "rejects": data}


def main(ctx: Context) -> None:
    st.title(ctx.t("unggah_title"))
    st.caption(ctx.t("unggah_intro"))
    mb = max(1, limits.max_upload_bytes // 1_000_000)
    upload = st.file_uploader(ctx.t("upload_file"), type=TYPES, key="unggah_file", max_upload_size=mb,
                              help=ctx.t("upload_limit", mb=mb))
    st.caption(ctx.t("upload_limit", mb=mb))
    if upload is None:
        return
    key = hashlib.sha256(upload.getvalue()).hexdigest() + ":" + upload.name
    done = st.session_state.get("unggah_done")
    if done and done["key"] == key:
        st.success(ctx.t("imported", **done["report"].summary()))
        rejects_section(ctx, done["report"], done["rejects"], upload.name, "unggah_done_rejects")
        st.caption(ctx.t("imported_already"))
        return
    previews = st.session_state.setdefault("unggah_previews", {})
    if key not in previews:
        try:
            previews.clear()  # one preview at a time
            previews[key] = _run(ctx, upload, dry_run=True)
        except P4gnError as exc:
            error(ctx, exc)
            return
    report, data = previews[key]
    preview_section(ctx, report, data, upload.name)
    if report.accepted == 0:
        st.warning(ctx.t("nothing_to_import"))
        return
    if st.button(ctx.t("do_import", n=f"{report.accepted:,}"), type="primary", key="unggah_go",
                 icon=":material/upload:"):
        do_import(ctx, upload, key)
        st.rerun()


main(current())
