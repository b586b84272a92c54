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
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.metrics import count, warm_up
from airflow_provider_fptsms.webhook.report import STATUS_NAMES, DeliveryReport, parse_report
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


class GroupCommit:
    """Reports that arrive while a commit runs are stored together by the next one (:meth:`DlrStore.record_many`).

    Each answer still waits for the commit that holds its own report (``{"status": 1}`` means stored), but 50
    posters at once share one transaction and one fsync instead of queueing for SQLite's write lock one by one.
    At most ``max_batch`` reports per commit.
    """

    def __init__(self, store: DlrStore, max_batch: int = 500) -> None:
        self.store = store
        self.max_batch = max_batch
        self._pending: list[tuple[DeliveryReport, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, report: DeliveryReport) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.append((report, future))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                changed = await asyncio.to_thread(self.store.record_many, [report for report, _ in batch])
            except Exception as error:  # every report of the batch is answered 500 (FPT posts it again)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(batch, changed, strict=True):
                if not future.done():  # a poster that hung up
                    future.set_result(result)


class _DlrApi(FastAPI):
    """The receiver's FastAPI app with a short way in for its one hot route: ``POST <path>`` goes straight to the
    endpoint (FPT posts one report per message), anything else through FastAPI (its 404, 405 and error replies)."""

    hot_path: str = ""
    hot_endpoint: Callable[[Request], Awaitable[Response]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot_endpoint is not None and scope["type"] == "http" and scope["method"] == "POST":
            root = scope.get("root_path", "")
            path = scope["path"][len(root) :] if root and scope["path"].startswith(root) else scope["path"]
            if path == self.hot_path:
                response = await self.hot_endpoint(Request(scope, receive))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_dlr_app(store: DlrStore, key: str | None, path: str = "/dlr", max_body: int = DEFAULT_MAX_BODY) -> FastAPI:
    """A FastAPI app answering ``POST <path>``; with no ``key`` it refuses every report (401)."""
    if not path.startswith("/"):
        raise InvalidInputError("path", path, "must start with '/'", "use e.g. /dlr")
    if max_body <= 0:
        raise InvalidInputError("max_body", max_body, "must be a positive number of bytes")
    expected = key.encode("utf-8") if key else None
    if expected is None:
        log.warning("FPT DLR receiver has no key configured: every report will be refused (401)")
    app = _DlrApi(title="FPT SMS DLR receiver", docs_url=None, redoc_url=None, openapi_url=None)
    commits = GroupCommit(store)
    warm_up()  # Airflow's Stats is imported now, not on FPT's first post

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
        changed = await commits.record(report)
        count("dlr.received", status=STATUS_NAMES.get(report.status, "pending"))
        log.debug(  # one line per message at FPT's rate: DEBUG (the counters say how many)
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

    app.add_api_route(path, receive_dlr, methods=["POST"], include_in_schema=False)  # (and the 405 of a GET)
    # the hot path skips FastAPI's middleware and dependency machinery: they cost more per report than storing it
    app.hot_path, app.hot_endpoint = path, receive_dlr

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _fail(exc.status_code, _REASONS.get(exc.status_code, "request refused"))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.error("FPT DLR receiver failed: %s", type(exc).__name__)
        return _fail(500, "internal error")

    return app
