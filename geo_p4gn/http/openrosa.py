"""OpenRosa 1.0 for ODK Collect and KoboCollect: form list, form download, submissions.

ODK Collect's server URL is the app's address followed by ``/openrosa``; Collect then asks
``/openrosa/formList`` and sends to ``/openrosa/submission``. Every request needs credentials of a
geo_p4gn account. Basic auth (Collect sends it over HTTPS only: the reverse proxy's): the account's password,
or a capture token issued to it as the password (for OIDC installations, whose accounts have no password).
Digest auth (what Collect answers over plain HTTP, :mod:`geo_p4gn.http.digest`): a capture token as the
password. A 401 offers both challenges, Digest first. Roles are the services' as everywhere.

Submissions (OpenRosa Form Submission API): ``HEAD /submission`` answers 204 with
``X-OpenRosa-Accept-Content-Length``; ``POST /submission`` takes ``multipart/form-data`` with the instance
as ``xml_submission_file`` (attachments are refused: the form has none). The instance is parsed with
defusedxml (no DTD, no entities). Its ``meta/instanceID`` is the record id: the same submission again is
the success answer and stores nothing; the same id with other content is 409 Conflict and changes nothing.

Answers: 201 stored (or already stored); 400 not a readable instance of this form, or refused by
validation, with the reason; 401 no or wrong credentials; 403 the role may not record; 409 conflict;
413 larger than the limit. Each body is an ``OpenRosaResponse``.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import services, xform
from .._errors import ConflictError, P4gnError, PermissionDenied
from ..services import tokens
from .digest import StaleNonce
from .server import Server

#: Largest submission accepted (bytes): an instance of this form is about 1 KB.
MAX_SUBMISSION = 1_000_000
_NS_RESPONSE = "http://openrosa.org/http/response"
_BASIC = f'Basic realm="{tokens.REALM}", charset="UTF-8"'


def _headers(extra: dict | None = None) -> dict[str, str]:
    h = {"X-OpenRosa-Version": "1.0"}  # (the server adds Date)
    h.update(extra or {})
    return h


def _xml(body: str, status: int = 200, extra: dict | None = None) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, status_code=status,
                    media_type="text/xml; charset=utf-8", headers=_headers(extra))


def message(text: str, status: int, nature: str = "", extra: dict | None = None) -> Response:
    attr = f' nature="{escape(nature)}"' if nature else ""
    return _xml(f'<OpenRosaResponse xmlns="{_NS_RESPONSE}"><message{attr}>{escape(str(text))}</message>'
                "</OpenRosaResponse>", status, extra)


def _challenge(server: Server, text: str, *, stale: bool = False) -> Response:
    response = message(text, 401, "error", {"WWW-Authenticate": server.digest_auth.challenge(stale=stale)})
    response.headers.append("WWW-Authenticate", _BASIC)
    return response


async def _user(server: Server, request: Request):
    header = request.headers.get("authorization")
    if not header:
        return None, _challenge(server, "sign in with your geo_p4gn account")
    try:
        if header[:7].lower() == "digest ":
            return await run_in_threadpool(server.digest, header, request.method, request.url.path), None
        return await run_in_threadpool(server.basic, header), None
    except StaleNonce as exc:
        return None, _challenge(server, str(exc), stale=True)
    except PermissionDenied as exc:
        return None, _challenge(server, str(exc))
    except P4gnError as exc:
        return None, message(str(exc), 500, "error")


def routes(server: Server) -> list[Route]:
    async def form_list(request: Request) -> Response:
        user, refused = await _user(server, request)
        if refused:
            return refused
        if not services.can(user, "record"):
            return message(f"{user.label} may not record interventions", 403, "error")
        form = await run_in_threadpool(server.form)
        base = str(request.base_url).rstrip("/")
        url = f"{base}/openrosa/forms/{form.form_id}/form.xml"
        return _xml('<xforms xmlns="http://openrosa.org/xforms/xformsList"><xform>'
                    f"<formID>{escape(form.form_id)}</formID><name>{escape(form.title)}</name>"
                    f"<version>{escape(form.version)}</version><hash>md5:{form.md5}</hash>"
                    f"<downloadUrl>{escape(url)}</downloadUrl></xform></xforms>")

    async def form_xml(request: Request) -> Response:
        user, refused = await _user(server, request)
        if refused:
            return refused
        if not services.can(user, "record"):
            return message(f"{user.label} may not record interventions", 403, "error")
        form = await run_in_threadpool(server.form)
        if request.path_params["form_id"] != form.form_id:
            return message("no such form", 404, "error")
        return Response(form.xml, media_type="text/xml; charset=utf-8", headers=_headers())

    async def submission(request: Request) -> Response:
        limit = {"X-OpenRosa-Accept-Content-Length": str(MAX_SUBMISSION)}
        user, refused = await _user(server, request)
        if refused:
            return refused
        if request.method == "HEAD":
            return Response(status_code=204, headers=_headers(limit))
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_SUBMISSION:
            return message(f"the submission is larger than {MAX_SUBMISSION:,} bytes", 413, "error", limit)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_SUBMISSION:
                return message(f"the submission is larger than {MAX_SUBMISSION:,} bytes", 413, "error", limit)
        request._body = bytes(body)
        try:
            form = await request.form(max_files=5, max_fields=20)
        except Exception as exc:  # noqa: BLE001 - python-multipart's errors: not a readable body
            return message(f"not a multipart/form-data submission ({type(exc).__name__})", 400, "error")
        try:
            part = form.get("xml_submission_file")
            if part is None or isinstance(part, str):
                return message("no xml_submission_file part in the submission", 400, "error")
            if any(k != "xml_submission_file" for k in form):
                return message("attachments are not accepted: this form has none", 400, "error")
            data = await part.read()
        finally:
            await form.close()
        return await run_in_threadpool(_store_instance, server, user, data)

    return [
        Route("/openrosa/formList", form_list, methods=["GET", "HEAD"]),
        Route("/openrosa/forms/{form_id}/form.xml", form_xml, methods=["GET"]),
        Route("/openrosa/submission", submission, methods=["HEAD", "POST"]),
    ]


def parse_instance(data: bytes):
    """The instance's root element; P4gnError when it is not well-formed XML or holds a DTD or entities."""
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        msg = f"the instance holds a DTD or an XML entity, which are refused ({type(exc).__name__})"
        raise P4gnError(msg) from None
    except DET.ParseError as exc:
        msg = f"the instance is not well-formed XML ({exc})"
        raise P4gnError(msg) from None


def _store_instance(server: Server, user, data: bytes) -> Response:
    try:
        root = parse_instance(data)
    except P4gnError as exc:
        return message(str(exc), 400, "error")
    if root.get("id") != xform.FORM_ID:
        return message(f"not an instance of the form {xform.FORM_ID} (id {str(root.get('id'))[:60]!r})", 400,
                       "error")
    try:
        store = server.store()
        raw = xform.instance_record(root, site_points=xform.site_points(store.list_sites()),
                                    kelurahan_points=server.kelurahan_points())
        rec, outcome = services.record_intervention(store, user, raw)
    except PermissionDenied as exc:
        return message(str(exc), 403, "error")
    except ConflictError as exc:
        return message(f"refused: {exc}", 409, "error")
    except P4gnError as exc:  # validation, location
        return message(f"refused: {exc}", 400, "error")
    if outcome == "unchanged":
        return message(f"already received: record {rec.id} is stored (nothing changed)", 201, "submit_success")
    return message(f"stored: record {rec.id} in kelurahan {rec.kelurahan_code}", 201, "submit_success")


__all__ = ["MAX_SUBMISSION", "parse_instance", "routes"]
