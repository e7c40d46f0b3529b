"""The briefing pack through the one door: the map image (PNG), the PDF map book, the styled GeoPackage
and the e-mailed bulletin, each checked against the role first like every export.

Internal files need ``export``; public ones (``public=True``: sites generalised to their kelurahan, no free
text) need ``export_public``. Mailing a file is exporting it: the same permission, checked before the
file is made.

The bulletin mail goes through the agency's SMTP server, configured in :mod:`geo_p4gn.settings`
(``GEO_P4GN_SMTP_*``); :func:`send_mail` takes every setting as an argument too (tests pass a loopback
server's port).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import settings
from .._errors import FaultError, P4gnError
from ..filters import Filters
from ..identity import User, authorize
from ..render import image, report, styled_gpkg
from ..render.image import now_wib
from ..store.base import Store
from .duplicates import coverage_records
from .ikrn import window_sites


def _action(public: bool) -> str:
    return "export_public" if public else "export"


def _frames(store: Store, user: User, filters: Filters) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Records (every filter but the window start: coverage looks back for "last activity") and sites."""
    records = coverage_records(store, user, dataclasses.replace(filters, date_from=None))  # no confirmed duplicates
    return records, window_sites(store, user, filters)  # IKRN: the grades of the window's year


def export_png(store: Store, user: User, out: str | Path | None, filters: Filters | None = None, *,
               public: bool = False, **kw: Any) -> bytes:
    """The map image of a view (:func:`geo_p4gn.render.image.render_png`; ``kw``: lang, level, metric,
    as_of, made), written to ``out`` unless None; returns the PNG bytes."""
    authorize(user, _action(public))

    filters = filters or Filters()
    records, sites = _frames(store, user, filters)
    png = image.render_png(records, sites, boundaries=store.boundaries, taxonomy=store.taxonomy, filters=filters,
                           public=public, **kw)
    if out is not None:
        report.write_atomically(png, out, "writing the map image")
    return png


def export_report(store: Store, user: User, out: str | Path | None, filters: Filters | None = None, *,
                  public: bool = False, **kw: Any) -> bytes:
    """The PDF map book (:func:`geo_p4gn.render.report.render_report`; ``kw``: lang, metric, as_of, made),
    written to ``out`` unless None; returns the PDF bytes."""
    authorize(user, _action(public))

    filters = filters or Filters()
    records, sites = _frames(store, user, filters)
    pdf = report.render_report(records, sites, boundaries=store.boundaries, taxonomy=store.taxonomy,
                               filters=filters, public=public, **kw)
    if out is not None:
        report.write_atomically(pdf, out, "writing the PDF map book")
    return pdf


def export_styled_gpkg(store: Store, user: User, out: str | Path, filters: Filters | None = None, *,
                       public: bool = False, **kw: Any) -> dict:
    """The GeoPackage that opens in QGIS already mapped (:func:`geo_p4gn.render.styled_gpkg.render_styled_gpkg`;
    ``kw``: lang, metric, as_of); returns the rows per layer."""
    authorize(user, _action(public))

    filters = filters or Filters()
    records, sites = _frames(store, user, filters)
    return styled_gpkg.render_styled_gpkg(records, sites, out, boundaries=store.boundaries,
                                          taxonomy=store.taxonomy, filters=filters, public=public, **kw)


# -- the bulletin by e-mail ----------------------------------------------------------------------------------
def dated_path(path: str | Path, day: dt.date | None = None) -> Path:
    """``{date}`` in an output path becomes the day in Jakarta (``buletin-{date}.pdf`` ->
    ``buletin-2026-11-20.pdf``), so a daily cron job keeps every bulletin."""

    day = day or now_wib().date()
    return Path(str(path).replace("{date}", day.isoformat()))


def mail_settings() -> dict[str, Any]:
    """The SMTP settings of :mod:`geo_p4gn.settings`, as :func:`send_mail` takes them."""
    return {"host": settings.smtp_host, "port": settings.smtp_port, "sender": settings.smtp_from,
            "login": settings.smtp_user, "password": settings.smtp_password(), "security": settings.smtp_security,
            "timeout": settings.smtp_timeout}


def send_mail(to: list[str], subject: str, body: str, attachments: list[Path], *, host: str, port: int,
              sender: str, login: str = "", password: str = "", security: str = "starttls",
              timeout: float = 30.0) -> None:
    """Send one message with ``attachments`` through an SMTP server. ``security``: ``starttls`` (the
    default; refused if the server does not offer it), ``ssl`` (SMTPS) or ``none`` (a relay on the same
    host or a test server on loopback only). Raises FaultError naming the server when it fails."""
    if not host:
        msg = "no SMTP server is configured: set GEO_P4GN_SMTP_HOST (see geo_p4gn/settings.py)"
        raise P4gnError(msg)
    if not sender or not to:
        msg = "a bulletin mail needs a sender (GEO_P4GN_SMTP_FROM) and at least one recipient"
        raise P4gnError(msg)
    if security not in ("starttls", "ssl", "none"):
        msg = f"GEO_P4GN_SMTP_SECURITY must be starttls, ssl or none, not {security!r}"
        raise P4gnError(msg)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(to), subject
    message.set_content(body)
    types = {".pdf": ("application", "pdf"), ".png": ("image", "png"),
             ".gpkg": ("application", "geopackage+sqlite3")}
    for path in attachments:
        maintype, subtype = types.get(Path(path).suffix.lower(), ("application", "octet-stream"))
        message.add_attachment(Path(path).read_bytes(), maintype=maintype, subtype=subtype,
                               filename=Path(path).name)
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if security == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if security == "starttls":
                client.starttls(context=context)
            if login:
                client.login(login, password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        msg = (f"the bulletin could not be mailed through {host}:{port}: {type(exc).__name__}: {exc}; check "
               "GEO_P4GN_SMTP_* and that the server is reachable (the file itself was written)")
        raise FaultError(msg) from exc


def mail_bulletin(user: User, to: list[str], files: list[Path], *, public: bool, subject: str, body: str,
                  **smtp: Any) -> None:
    """Mail bulletin files made for ``user`` (the export permission again); SMTP settings default to
    :func:`mail_settings`, any of them can be given."""
    authorize(user, _action(public))
    send_mail(to, subject, body, files, **(mail_settings() | smtp))
