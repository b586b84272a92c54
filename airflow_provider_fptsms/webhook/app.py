"""The webhook FPT calls with CSKH delivery reports (manual 4.1, "2nd way").

FPT sends ``Authorization: Basic <KEY>`` — the raw key string we gave FPT, not base64 of
``user:pass`` — and expects ``{"status": 1}`` on success, ``{"status": 0, "desc": ...}`` with a
non-200 status otherwise.  Every reply has that shape, whatever happens: no stack trace, no echo
of the key.  The key is compared in constant time; DLRs carry no phone, so logging smsid is safe.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.metrics import count
from airflow_provider_fptsms.webhook.report import STATUS_NAMES, parse_report
from airflow_provider_fptsms.webhook.store import DlrStore

log = logging.getLogger(__name__)
DEFAULT_MAX_BODY = 64 * 1024
_REASONS = {404: "not found", 405: "method not allowed", 413: "request body too large"}


def _ok() -> Response:
    return JSONResponse({"status": 1})


def _fail(http_status: int, desc: str) -> Response:
    count("webhook.refused", http_status=str(http_status))
    return JSONResponse({"status": 0, "desc": desc}, status_code=http_status)


def key_matches(header: str | None, key: bytes | None) -> bool:
    """``Basic <KEY>`` against our key, in constant time (compared even when the scheme is wrong)."""
    scheme, _, given = (header or "").strip().partition(" ")
    presented = given.strip().encode("utf-8")
    same = hmac.compare_digest(presented, key or b"\x00")
    return same and key is not None and scheme.lower() == "basic" and bool(presented)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it grows past ``limit`` (whatever Content-Length claimed)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def create_dlr_app(store: DlrStore, key: str | None, path: str = "/dlr", max_body: int = DEFAULT_MAX_BODY) -> FastAPI:
    """A FastAPI app answering ``POST <path>``; with no ``key`` it refuses every report (401)."""
    if not path.startswith("/"):
        raise InvalidInputError("path", path, "must start with '/'", "use e.g. /dlr")
    if max_body <= 0:
        raise InvalidInputError("max_body", max_body, "must be a positive number of bytes")
    expected = key.encode("utf-8") if key else None
    if expected is None:
        log.warning("FPT DLR receiver has no key configured: every report will be refused (401)")
    app = FastAPI(title="FPT SMS DLR receiver", docs_url=None, redoc_url=None, openapi_url=None)

    async def handle(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                return _fail(400, "invalid Content-Length")
            if int(length) > max_body:
                return _fail(413, _REASONS[413])
        if not key_matches(request.headers.get("authorization"), expected):
            log.warning("FPT DLR refused from %s: missing or wrong key", request.client.host if request.client else "?")
            return _fail(401, "unauthorized")
        try:
            raw = await _read_body(request, max_body)
        except _TooLarge:
            return _fail(413, _REASONS[413])
        try:
            body = json.loads(raw)
        except ValueError:
            return _fail(400, "invalid JSON")
        try:
            report = parse_report(body)
        except InvalidInputError as error:
            return _fail(400, str(error))
        changed = await asyncio.to_thread(store.record, report)
        count("dlr.received", status=STATUS_NAMES.get(report.status, "pending"))
        log.info(
            "FPT DLR smsid=%s status=%s telco=%s: %s",
            report.smsid,
            report.status,
            report.telco,
            "stored" if changed else "unchanged",
        )
        return _ok()

    async def receive_dlr(request: Request) -> Response:
        try:
            return await handle(request)
        except Exception as exc:
            # type only: the text of a driver error may quote the request or the database URL
            log.error("FPT DLR receiver failed: %s", type(exc).__name__)
            return _fail(500, "internal error")

    app.add_api_route(path, receive_dlr, methods=["POST"], include_in_schema=False)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _fail(exc.status_code, _REASONS.get(exc.status_code, "request refused"))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.error("FPT DLR receiver failed: %s", type(exc).__name__)
        return _fail(500, "internal error")

    return app
