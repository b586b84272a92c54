"""The sandbox's HTTP face: both gateways on one port, at the manuals' paths, plus ``/_sandbox`` admin.

Handlers only decode and encode; the simulators hold the rules.  Whatever goes wrong inside,
callers get the gateway's own error shape (FPT JSON, Fibo XML, a SOAP fault), never a stack trace.

Fibo is served on each of its service paths (``fibo.SERVICE_PATHS``, any case) three ways, as its
guide says (FIBO_API_V2.md "Transport"): ``GET <service>/<Method>?params``, ``POST <service>/<Method>``
with a form, and SOAP 1.1 ``POST <service>`` (``fibo_soap``); ``GET <service>?wsdl`` is the WSDL.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_fptsms.gateways import fibo, fpt
from airflow_provider_fptsms.sandbox.config import Clock, SandboxConfig
from airflow_provider_fptsms.sandbox.dlr_push import DlrPusher
from airflow_provider_fptsms.sandbox.error_texts import fibo_text, fpt_text
from airflow_provider_fptsms.sandbox.faults import BUSY, DROP, ERROR_5XX, LOST_REPLY, FaultInjector, FaultPlan
from airflow_provider_fptsms.sandbox.fibo_sim import FiboSimulator
from airflow_provider_fptsms.sandbox.fibo_soap import SoapFault, read_call, response, wsdl
from airflow_provider_fptsms.sandbox.fibo_xml import sms, wrap
from airflow_provider_fptsms.sandbox.fpt_sim import FptSimulator, Reply, error
from airflow_provider_fptsms.sandbox.ledger import Ledger

log = logging.getLogger(__name__)
ADMIN_PREFIX = "/_sandbox"
FIBO_SERVICES = frozenset(p.strip("/").lower() for p in fibo.SERVICE_PATHS)
FIBO_TOTALS = fibo.STATUS_TOTALS_PATH.lower()

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Sandbox:
    """All simulated state behind one port."""

    def __init__(self, config: SandboxConfig | None = None, faults: FaultPlan | None = None) -> None:
        self.config = config or SandboxConfig()
        self.clock = Clock()
        self.ledger = Ledger()
        self.faults = FaultInjector(faults)
        self.fpt = FptSimulator(self.config, self.clock, self.ledger, self.faults)
        self.fibo = FiboSimulator(self.config, self.clock, self.ledger)
        self.dlr = DlrPusher(self.config)
        self.fpt.on_cskh_accepted = self.dlr.schedule
        self.requests: Counter[str] = Counter()

    def reset(self) -> None:
        self.ledger.entries.clear()
        self.fpt.reset()
        self.fibo.reset()
        self.dlr.reset()
        self.faults.set(FaultPlan())
        self.clock.offset = 0.0
        self.requests.clear()


# ---------------------------------------------------------------------- faults


async def _abort(send: Send) -> bool:
    """Drop the TCP connection under this request (uvicorn), as a dead network would."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        return False
    transport.abort()
    await asyncio.sleep(0)  # let uvicorn see the disconnect before the app returns
    return True


class FaultMiddleware:
    """Applies the fault plan around gateway paths: latency, 5xx, dropped connections, lost replies."""

    def __init__(self, app: FastAPI, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        sandbox.requests[path] += 1
        injector = sandbox.faults
        if not injector.active or not injector.applies(path, (scope.get("server") or (None, None))[1]):
            await self.app(scope, receive, send)
            return
        if injector.plan.latency_ms:
            await asyncio.sleep(injector.plan.latency_ms / 1000)
        fault = injector.transport_fault()
        if fault == ERROR_5XX:
            await _send_bytes(
                send, 503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", "text/html"
            )
        elif fault == BUSY:
            body = json.dumps(error(1007, sandbox.config.error_texts)[1], ensure_ascii=False)
            await _send_bytes(send, 503, body.encode(), "application/json")
        elif fault == DROP and await _abort(send):
            return
        elif fault == LOST_REPLY:

            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, receive, swallow)  # the gateway commits...
            if not await _abort(send):  # ...and the reply never arrives
                await _send_bytes(send, 502, b"reply lost", "text/plain")
        else:
            await self.app(scope, receive, send)


async def _send_bytes(send: Send, status: int, body: bytes, media_type: str) -> None:
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------- helpers


def _fpt_response(reply: Reply) -> Response:
    status, payload = reply
    if isinstance(payload, str):
        return Response(payload.encode("utf-8"), status_code=status, media_type="text/csv; charset=utf-8")
    return Response(
        json.dumps(payload, ensure_ascii=False).encode("utf-8"), status_code=status, media_type="application/json"
    )


def _xml(text: str, status: int = 200) -> Response:
    return Response(text.encode("utf-8"), status_code=status, media_type="text/xml; charset=utf-8")


async def _fpt_body(request: Request, limit: int, style: str) -> dict[str, Any] | Reply:
    """The JSON object the manual's calls take ("Data type: JSON"); 1001 Invalid Request when it is not one."""
    raw = await request.body()
    if len(raw) > limit:
        return 413, error(1014, style)[1]
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return error(1001, style)
    return body


def _is_fibo_path(path: str) -> bool:
    return path.strip("/").split("/")[0].lower() in FIBO_SERVICES or path.lower() == FIBO_TOTALS


# ---------------------------------------------------------------------- the app


def create_app(sandbox: Sandbox | None = None) -> FaultMiddleware:
    """The ASGI app: the FastAPI routes wrapped in the fault injector (outermost, to reach the socket)."""
    sandbox = sandbox or Sandbox()
    app = FastAPI(
        title="fptsms sandbox",
        docs_url=f"{ADMIN_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{ADMIN_PREFIX}/openapi.json",
    )
    app.state.sandbox = sandbox
    config = sandbox.config

    def fpt_route(path: str, handler: Callable[[dict[str, Any]], Reply]) -> None:
        async def endpoint(request: Request) -> Response:
            body = await _fpt_body(request, config.max_body_bytes, config.error_texts)
            if isinstance(body, tuple):
                return _fpt_response(body)
            return _fpt_response(handler(body))

        app.add_api_route(path, endpoint, methods=["POST"], include_in_schema=False)

    fpt_route(fpt.TOKEN_PATH, sandbox.fpt.issue_token)
    fpt_route(fpt.CSKH_PATH, sandbox.fpt.send_cskh)
    fpt_route(fpt.CSKH_INTERNATIONAL_PATH, lambda body: sandbox.fpt.send_cskh(body, international=True))
    fpt_route(fpt.CREATE_CAMPAIGN_PATH, sandbox.fpt.create_campaign)
    fpt_route(fpt.PUSH_CAMPAIGN_PATH, sandbox.fpt.push_campaign)
    fpt_route(fpt.CAMPAIGN_DETAIL_PATH, sandbox.fpt.campaign_detail)
    fpt_route(fpt.DELIVERY_REPORT_PATH, sandbox.fpt.delivery_report)

    _add_admin_routes(app, sandbox)

    async def fibo_params(request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST" and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    @app.api_route("/{service}/{method}", methods=["GET", "POST"], include_in_schema=False)
    async def fibo_method(service: str, method: str, request: Request) -> Response:
        """GET query string or POST form; the result in ``<string>`` (``config.fibo_reply_style``)."""
        path = f"/{service}/{method}".lower()
        if path == FIBO_TOTALS:
            totals = sandbox.fibo.totals(await fibo_params(request))
            return Response(totals or "3", media_type="text/plain; charset=utf-8")
        if service.lower() not in FIBO_SERVICES:
            return not_found(request.url.path)
        result = sandbox.fibo.call(method, await fibo_params(request))
        if result is None:  # no such web method: the table's 11 "Có tham số không hợp lệ", HTTP 404
            return _xml(wrap(sandbox.fibo.fail(11), config.fibo_reply_style), status=404)
        return _xml(wrap(result, config.fibo_reply_style))

    @app.get("/{service}", include_in_schema=False)
    async def fibo_wsdl(service: str, request: Request) -> Response:
        """``GET /Service.asmx?wsdl`` (any case): the WSDL, its address the URL the client used."""
        if service.lower() not in FIBO_SERVICES or "wsdl" not in {key.lower() for key in request.query_params}:
            return not_found(request.url.path)
        return _xml(wsdl(str(request.url.replace(query=""))))

    @app.post("/{service}", include_in_schema=False)
    async def fibo_soap(service: str, request: Request) -> Response:
        """SOAP 1.1, every method of ``fibo_api``; refusals are the method's ``<SMS>`` result, as over GET."""
        if service.lower() not in FIBO_SERVICES:
            return not_found(request.url.path)
        raw = await request.body()
        try:
            if len(raw) > config.max_body_bytes:
                raise SoapFault("Client", "Request body is too large.", 413)
            call = read_call(raw, request.headers.get("soapaction"))
        except SoapFault as fault:
            return _xml(fault.envelope(), fault.status)
        result = sandbox.fibo.call(call.method.name, call.params)
        return _xml(response(call.method.name, result or ""))

    def not_found(path: str) -> Response:
        return _shaped_error(path, 404, config)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _shaped_error(request.url.path, exc.status_code, config)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.error("sandbox handler failed on %s: %s", request.url.path, type(exc).__name__)
        return _shaped_error(request.url.path, 500, config)

    return FaultMiddleware(app, sandbox)


def _shaped_error(path: str, status: int, config: SandboxConfig) -> Response:
    """An unknown path, a wrong HTTP method or a crash, in the gateway's shape and with its table's text:
    FPT 1006 "Server error" / 1001 "Invalid Request"; Fibo 2 "Lỗi hệ thống" / 11 "Có tham số không hợp lệ"."""
    if not _is_fibo_path(path):
        code = 1006 if status >= 500 else 1001
        body = {"error": code, "error_description": fpt_text(code, config.error_texts)}
        return JSONResponse(body, status_code=status)
    code = 2 if status >= 500 else 11
    return _xml(wrap(sms({"Code": code, "Message": fibo_text(code), "Time": ""}), config.fibo_reply_style), status)


# ---------------------------------------------------------------------- admin


def _add_admin_routes(app: FastAPI, sandbox: Sandbox) -> None:
    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _AdminError("body must be a JSON object")
        return body

    @app.get(f"{ADMIN_PREFIX}/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "now": _iso(sandbox.clock.now())}

    @app.post(f"{ADMIN_PREFIX}/reset")
    async def reset() -> dict[str, str]:
        sandbox.reset()
        return {"status": "reset"}

    @app.get(f"{ADMIN_PREFIX}/ledger")
    async def ledger(
        gateway: str | None = None,
        kind: str | None = None,
        campaign_code: str | None = None,
        offset: int = 0,
        limit: int = 10_000,
    ) -> dict[str, Any]:
        chosen = sandbox.ledger.select(gateway=gateway, kind=kind, campaign_code=campaign_code)
        page = chosen[offset : offset + limit]
        return {"total": len(chosen), "offset": offset, "entries": [sandbox.ledger.as_dict(e) for e in page]}

    @app.get(f"{ADMIN_PREFIX}/ledger/summary")
    async def ledger_summary(
        gateway: str | None = None, kind: str | None = None, campaign_code: str | None = None
    ) -> dict[str, Any]:
        return sandbox.ledger.summary(sandbox.ledger.select(gateway=gateway, kind=kind, campaign_code=campaign_code))

    @app.get(f"{ADMIN_PREFIX}/faults")
    async def get_faults() -> dict[str, Any]:
        return {"plan": vars(sandbox.faults.plan), "injected": sandbox.faults.injected}

    @app.put(f"{ADMIN_PREFIX}/faults")
    async def put_faults(request: Request) -> dict[str, Any]:
        try:
            sandbox.faults.set(FaultPlan.from_dict(await json_body(request)))
        except (TypeError, ValueError) as exc:
            raise _AdminError(str(exc)) from None
        return {"plan": vars(sandbox.faults.plan)}

    @app.get(f"{ADMIN_PREFIX}/config")
    async def get_config() -> dict[str, Any]:
        return sandbox.config.public()

    @app.patch(f"{ADMIN_PREFIX}/config")
    async def patch_config(request: Request) -> dict[str, Any]:
        try:
            sandbox.config.update(await json_body(request))
        except (TypeError, ValueError) as exc:
            raise _AdminError(str(exc)) from None
        return sandbox.config.public()

    @app.post(f"{ADMIN_PREFIX}/fibo/balance")
    async def set_balance(request: Request) -> dict[str, Any]:
        body = await json_body(request)
        client_no = body.get("client_no")
        if client_no not in sandbox.fibo.balances:
            raise _AdminError(f"unknown client_no {client_no!r}")
        try:
            sandbox.fibo.balances[client_no] = Decimal(str(body.get("balance")))
        except InvalidOperation:
            raise _AdminError("balance must be a number") from None
        return {"client_no": client_no, "balance": str(sandbox.fibo.balances[client_no])}

    @app.post(f"{ADMIN_PREFIX}/tokens/expire")
    async def expire_tokens() -> dict[str, int]:
        return {"expired": sandbox.fpt.expire_tokens()}

    @app.get(f"{ADMIN_PREFIX}/clock")
    async def get_clock() -> dict[str, Any]:
        return {"now": _iso(sandbox.clock.now()), "offset_seconds": sandbox.clock.offset}

    @app.post(f"{ADMIN_PREFIX}/clock")
    async def set_clock(request: Request) -> dict[str, Any]:
        body = await json_body(request)
        try:
            if "advance_seconds" in body:
                sandbox.clock.advance(float(body["advance_seconds"]))
            elif "now" in body:
                sandbox.clock.set(datetime.fromisoformat(str(body["now"])).timestamp())
            else:
                raise ValueError("give advance_seconds or now (ISO 8601)")
        except (TypeError, ValueError) as exc:
            raise _AdminError(str(exc)) from None
        return {"now": _iso(sandbox.clock.now()), "offset_seconds": sandbox.clock.offset}

    @app.get(f"{ADMIN_PREFIX}/campaigns")
    async def campaigns() -> list[dict[str, Any]]:
        return sandbox.fpt.campaigns_view()

    @app.get(f"{ADMIN_PREFIX}/requests")
    async def requests() -> dict[str, int]:
        return dict(sandbox.requests)

    @app.get(f"{ADMIN_PREFIX}/dlr")
    async def dlr() -> dict[str, Any]:
        return sandbox.dlr.view()

    @app.exception_handler(_AdminError)
    async def admin_error(request: Request, exc: _AdminError) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=400)


class _AdminError(Exception):
    pass


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, fpt.VN_TZ).isoformat(timespec="seconds")
