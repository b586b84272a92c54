"""The simulated Fibo SMS service: SendMaskedSMS, GetClientBalance and the status totals, in XML."""

from __future__ import annotations

import itertools
import secrets
from collections import deque
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from airflow_provider_fptsms.gateways import fibo
from airflow_provider_fptsms.sandbox import phones
from airflow_provider_fptsms.sandbox.config import Clock, FiboAccount, SandboxConfig
from airflow_provider_fptsms.sandbox.ledger import Ledger, delivery_fails
from airflow_provider_fptsms.sms.text import segments

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
SOAP_TOTALS = (
    XML_DECLARATION + '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
    '<soap:Body><GetTotalMtResponse xmlns="http://tempuri.org/"><GetTotalMtResult>{totals}</GetTotalMtResult>'
    "</GetTotalMtResponse></soap:Body></soap:Envelope>"
)


def _description(code: int) -> str:
    spec = fibo.ERROR_TABLE.spec(code)
    return spec.description if spec else "Error"


class FiboSimulator:
    def __init__(self, config: SandboxConfig, clock: Clock, ledger: Ledger) -> None:
        self.config = config
        self.clock = clock
        self.ledger = ledger
        self.reset()

    def reset(self) -> None:
        self.accounts = {a.client_no: a for a in self.config.fibo_accounts}
        self.balances = {a.client_no: Decimal(a.balance) for a in self.config.fibo_accounts}
        self._ids = itertools.count(1)
        self._recent: dict[tuple[str, str, str], float] = {}
        self._recent_order: deque[tuple[float, tuple[str, str, str]]] = deque()

    # ------------------------------------------------------------------ rendering

    def render(self, fields: dict[str, Any]) -> str:
        """``<string>`` wrapping ``<SMS>``: escaped like ASP.NET, or bare like the manual."""
        sms = "<SMS>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items()) + "</SMS>"
        if self.config.fibo_reply_style == "bare":
            return f"<string>{sms}</string>"
        return f'{XML_DECLARATION}<string xmlns="http://tempuri.org/">{escape(sms)}</string>'

    def render_text(self, text: str) -> str:
        return f'{XML_DECLARATION}<string xmlns="http://tempuri.org/">{escape(text)}</string>'

    def fail(self, code: int, message: str | None = None) -> str:
        return self.render({"Code": code, "Message": message or _description(code), "Time": ""})

    # ------------------------------------------------------------------ methods

    def _login(self, params: dict[str, str]) -> FiboAccount | None:
        number = params.get("clientNo") or params.get("Username") or ""
        password = params.get("clientPass") or params.get("Password") or ""
        account = self.accounts.get(number)
        if account is None or not secrets.compare_digest(account.client_pass, password):
            return None
        return account

    def send_masked_sms(self, params: dict[str, str]) -> str:
        account = self._login(params)
        if account is None:
            return self.fail(3, "Send MT Error!...")
        sender = params.get("senderName", "")
        if sender not in account.sender_names:
            return self.fail(5, "Send MT Error!...")
        raw_phone = params.get("phoneNumber", "")
        phone = phones.domestic(raw_phone)
        if phone is None:
            return self.fail(10)
        message = params.get("smsMessage", "")
        if not message.strip():
            return self.fail(11)
        if len(message) > self.config.max_message_chars:
            return self.fail(23)
        now = self.clock.now()
        # Content only, whatever ``config.dedupe`` says: the seed's error table has 6 "Lặp nội dung" (repeated
        # content, seeds/fibo-sms-api.txt line 158) and says of smsGUID only "0 (mặc định)" (line 91); the v2.0
        # guide makes smsGUID "the client's own id, used later to read the status" (FIBO_API_V2.md line 20).
        # Neither manual refuses a send for a reused smsGUID, so the sandbox never does.
        key = (account.client_no, phone, message)
        self._forget_before(now - self.config.duplicate_window)
        if key in self._recent:
            return self.fail(6)
        cost = account.price_per_sms * segments(message)
        if self.balances[account.client_no] < cost:
            return self.fail(14)
        self.balances[account.client_no] -= cost
        self._recent[key] = now
        self._recent_order.append((now, key))
        self.ledger.add(
            gateway="fibo",
            kind="fibo",
            phone=phone,
            message_id=str(next(self._ids)),
            account=account.client_no,
            brandname=sender,
            accepted_at=now,
            request_id=_guid(params.get("smsGUID", "0")),
            message=message,
        )
        return self.render({"Code": 200, "Message": "Sending...", "Time": ""})

    def _forget_before(self, cutoff: float) -> None:
        while self._recent_order and self._recent_order[0][0] < cutoff:
            stamp, key = self._recent_order.popleft()
            if self._recent.get(key) == stamp:
                del self._recent[key]

    def balance(self, params: dict[str, str]) -> str:
        account = self._login(params)
        if account is None:
            return self.fail(3, "Get Balance Error!...")
        return self.render({"Code": 200, "AccountBalance": _plain(self.balances[account.client_no]), "Time": ""})

    def totals(self, params: dict[str, str]) -> str | None:
        """``success|failed|pending`` for the account, or None when the login is wrong."""
        account = self._login(params)
        if account is None:
            return None
        now = self.clock.now()
        success = failed = pending = 0
        for entry in self.ledger.select(gateway="fibo", account=account.client_no):
            if now < entry.accepted_at + self.config.dlr_delay:
                pending += 1
            elif delivery_fails(entry.phone, self.config.dlr_failure_rate):
                failed += 1
            else:
                success += 1
        return f"{success}|{failed}|{pending}"


def _guid(value: str) -> str:
    return "" if value in ("", "0") else value


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)
