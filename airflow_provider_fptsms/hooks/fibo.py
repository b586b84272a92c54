"""``FiboSmsHook``: the Fibo SMS service from Airflow (or a notebook) with one connection id.

Fibo takes the password in the query string, so every URL this hook logs or puts in an
error is redacted first, and transport exceptions are re-raised without their text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar

from airflow.providers.http.hooks.http import HttpHook

from airflow_provider_fptsms.gateways import fibo
from airflow_provider_fptsms.gateways.errors import (
    DuplicateMessageError,
    InvalidInputError,
    SmsError,
    mask_phone,
)
from airflow_provider_fptsms.hooks._http import (
    GatewayHookMixin,
    GatewaySettings,
    install_url_redaction,
    mask,
    read_settings,
    replayable,
    with_retries,
)
from airflow_provider_fptsms.sms.phones import normalise

T = TypeVar("T")
log = logging.getLogger(__name__)


class FiboSettings(GatewaySettings):
    """A ``fibosms`` connection: login = clientNo, password = clientPass, extras below."""

    @property
    def client_no(self) -> str:
        return self.login

    @property
    def client_pass(self) -> str:
        return self.password

    @property
    def sender_name(self) -> str | None:
        return self.extra.get("sender_name") or None

    @property
    def service_path(self) -> str:
        return self.extra.get("service_path") or fibo.DEFAULT_SERVICE_PATH


class FiboSmsHook(GatewayHookMixin, HttpHook):
    """Talk to Fibo SMS.

    :param fibo_conn_id: a ``fibosms`` connection: host = base URL, login = clientNo,
        password = clientPass; extra ``sender_name``, ``service_path`` (``/Service.aspx`` as the
        manual writes it, or ``/service.asmx``), ``timeout``, ``fallback_hosts``.
    """

    conn_name_attr = "fibo_conn_id"
    default_conn_name = "fibosms_default"
    conn_type = "fibosms"
    hook_name = "Fibo SMS"
    gateway = fibo.GATEWAY

    def __init__(self, fibo_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=fibo_conn_id, **kwargs)
        self.fibo_conn_id = fibo_conn_id
        install_url_redaction()

    @cached_property
    def settings(self) -> FiboSettings:
        settings = read_settings(
            FiboSettings,
            self.get_connection(self.fibo_conn_id),
            conn_id_field="fibo_conn_id",
            conn_type=self.conn_type,
            login_means="clientNo",
            password_means="clientPass",  # noqa: S106 - a label, not a secret
        )
        mask(settings.password)
        return settings

    def _get(self, request: fibo.FiboRequest, parse: Callable[[bytes, int], T], *, idempotent: bool) -> T:
        def attempt() -> T:
            reply = self._send("GET", request.path, params=request.params)
            return parse(reply.content, reply.status_code)

        s = self.settings
        return with_retries(attempt, max_attempts=s.max_attempts, backoff=s.backoff, retry_if=replayable(idempotent))

    # ------------------------------------------------------------------ API

    def send_sms(
        self, phone: str, message: str, *, sender_name: str | None = None, sms_guid: str | None = None
    ) -> dict[str, Any]:
        """SendMaskedSMS. Never replayed once the request may have reached Fibo: the manual documents no
        duplicate detection for ``smsGUID``, so a lost reply surfaces as a ``NetworkError`` with
        ``request_sent`` (the send operator marks it in doubt). With ``sms_guid`` set, Fibo's
        duplicate-content reply (6) counts as already sent: the phone has that text."""
        s = self.settings
        sender = sender_name or s.sender_name
        if not sender:
            raise InvalidInputError(
                "sender_name", sender, "is not set", "pass sender_name= or set the connection extra 'sender_name'"
            )
        phone = normalise(phone)  # bad numbers fail here, before any call
        request = fibo.send_masked_sms_request(
            s.client_no,
            s.client_pass,
            sender,
            phone,
            message,
            sms_guid=sms_guid or "0",
            service_path=s.service_path,
        )
        try:
            reply = self._get(request, fibo.parse_sms_reply, idempotent=False)
        except DuplicateMessageError:
            if sms_guid is None:
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
