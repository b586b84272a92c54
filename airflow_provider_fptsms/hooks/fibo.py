"""``FiboSmsHook``: the Fibo SMS service from Airflow (or a notebook) with one connection id.

Fibo takes the password in the query string, so every URL this hook logs or puts in an
error is redacted first, and transport exceptions are re-raised without their text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar

import requests
from airflow.providers.http.hooks.http import HttpHook

from airflow_provider_fptsms.gateways import fibo
from airflow_provider_fptsms.gateways.errors import (
    DuplicateMessageError,
    InvalidInputError,
    NetworkError,
    SmsError,
    mask_phone,
)
from airflow_provider_fptsms.hooks._http import HostRotation, base_urls, network_error, new_session, with_retries
from airflow_provider_fptsms.hooks.fpt import _mask

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiboSettings:
    urls: list[str]
    client_no: str
    client_pass: str = field(repr=False)
    sender_name: str | None
    service_path: str
    timeout: float
    max_attempts: int
    backoff: float
    verify: bool


class FiboSmsHook(HttpHook):
    """Talk to Fibo SMS.

    :param fibo_conn_id: a ``fibosms`` connection: host = base URL, login = clientNo,
        password = clientPass; extra ``sender_name``, ``service_path`` (``/Service.aspx`` as the
        manual writes it, or ``/service.asmx``), ``timeout``, ``fallback_hosts``.
    """

    conn_name_attr = "fibo_conn_id"
    default_conn_name = "fibosms_default"
    conn_type = "fibosms"
    hook_name = "Fibo SMS"

    def __init__(self, fibo_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=fibo_conn_id, **kwargs)
        self.fibo_conn_id = fibo_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_provider_fptsms.get_provider_info import connection_type

        return connection_type(cls.conn_type)["ui-field-behaviour"]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(fibo_conn_id={self.fibo_conn_id!r})"

    @cached_property
    def settings(self) -> FiboSettings:
        conn = self.get_connection(self.fibo_conn_id)
        _mask(conn.password)
        if conn.conn_type not in (self.conn_type, None, ""):
            raise InvalidInputError(
                "fibo_conn_id",
                self.fibo_conn_id,
                f"is a {conn.conn_type!r} connection, not 'fibosms'",
                "point fibo_conn_id at a connection of type fibosms",
            )
        extra = conn.extra_dejson
        if not conn.login:
            raise InvalidInputError("login", conn.login, "is empty", "set the connection login to the clientNo")
        if not conn.password:
            raise InvalidInputError("password", "***", "is empty", "set the connection password to the clientPass")
        return FiboSettings(
            urls=base_urls(conn.host, conn.schema, conn.port, extra.get("fallback_hosts")),
            client_no=conn.login,
            client_pass=conn.password,
            sender_name=extra.get("sender_name") or None,
            service_path=extra.get("service_path") or fibo.DEFAULT_SERVICE_PATH,
            timeout=float(extra.get("timeout", 30)),
            max_attempts=int(extra.get("max_attempts", 5)),
            backoff=float(extra.get("backoff", 0.5)),
            verify=bool(extra.get("verify", True)),
        )

    @cached_property
    def _session(self) -> requests.Session:
        return new_session(verify=self.settings.verify)

    @cached_property
    def _hosts(self) -> HostRotation:
        return HostRotation(self.settings.urls)

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> Any:
        return self._session

    def _get(self, request: fibo.FiboRequest, parse: Callable[[bytes, int], T], *, idempotent: bool) -> T:
        def attempt() -> T:
            base = self._hosts.current
            url = base + request.path
            try:
                reply = self._session.get(url, params=request.params, timeout=self.settings.timeout)
            except requests.RequestException as exc:
                self._hosts.failed(base)
                raise network_error(exc, fibo.GATEWAY, url) from None  # the exception text holds the password
            if reply.status_code >= 500:
                self._hosts.failed(base)
            return parse(reply.content, reply.status_code)

        def retry_if(exc: BaseException) -> bool:
            if not (isinstance(exc, SmsError) and exc.retryable):
                return False
            return idempotent or (isinstance(exc, NetworkError) and not exc.request_sent)

        s = self.settings
        return with_retries(attempt, max_attempts=s.max_attempts, backoff=s.backoff, retry_if=retry_if)

    # ------------------------------------------------------------------ API

    def send_sms(
        self, phone: str, message: str, *, sender_name: str | None = None, sms_guid: str | None = None
    ) -> dict[str, Any]:
        """SendMaskedSMS. Replayed after a lost reply only when ``sms_guid`` makes it recognisable;
        Fibo's duplicate-content reply (6) on such a replay means it was already sent."""
        s = self.settings
        sender = sender_name or s.sender_name
        if not sender:
            raise InvalidInputError(
                "sender_name", sender, "is not set", "pass sender_name= or set the connection extra 'sender_name'"
            )
        phone = str(phone).strip()
        request = fibo.send_masked_sms_request(
            s.client_no,
            s.client_pass,
            sender,
            phone,
            message,
            sms_guid=sms_guid or "0",
            service_path=s.service_path,
        )
        replayable = sms_guid is not None
        try:
            reply = self._get(request, fibo.parse_sms_reply, idempotent=replayable)
        except DuplicateMessageError:
            if not replayable:
                raise
            log.info("Fibo SMS to %s already accepted (smsGUID %s)", mask_phone(phone), sms_guid)
            return {"status": "already_sent", "code": 6, "phone": mask_phone(phone), "sms_guid": sms_guid}
        log.info("Fibo SMS to %s accepted (code %s)", mask_phone(phone), reply.code)
        return {"status": "sent", "code": reply.code, "phone": mask_phone(phone), "sms_guid": sms_guid}

    def get_balance(self) -> Decimal:
        s = self.settings
        request = fibo.balance_request(s.client_no, s.client_pass, service_type="1", service_path=s.service_path)
        return self._get(request, fibo.parse_balance, idempotent=True)

    def status_totals(self) -> fibo.MtTotals:
        """Totals of sent messages: success, failed, pending (``PartnerMtTotal.aspx``)."""
        s = self.settings
        return self._get(
            fibo.status_totals_request(s.client_no, s.client_pass), fibo.parse_status_totals, idempotent=True
        )

    def test_connection(self) -> tuple[bool, str]:
        try:
            balance = self.get_balance()
        except SmsError as error:
            return False, str(error)
        return True, f"Connected to {self.settings.urls[0]}; balance {balance}"
