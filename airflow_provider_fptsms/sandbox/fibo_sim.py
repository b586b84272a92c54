"""The simulated Fibo SMS service: every method of the v2.0 guide (FIBO_API_V2.md) and the seed's three calls.

Transport-free: :meth:`FiboSimulator.call` takes a method's parameters (from a query string, a form or a SOAP
body) and returns the string the web method returns: an ``<SMS>`` or ``<DocumentElement>`` document, or bare
text (``www.Fibovietnam.com``, ``529``, ``56|12|0``). ``app.py`` wraps it in ``<string>`` for GET and POST,
``fibo_soap`` in ``<MethodResult>`` for SOAP.

Which code a refusal carries: the seed's calls (GetClientBalance, SendMaskedSMS, the totals) answer the seed's
table (seeds/fibo-sms-api.txt lines 148-183) and sample texts, as they always did; the v2.0 guide's methods
answer the guide's codes where it has one (100 wrong account, 101 wrong phone, 102 balance zero, 103 wrong
serviceType, 104 more messages than the balance) and the seed table's otherwise (5 sender name not declared,
6 repeated content, 11 invalid parameter, 23 message syntax). ``serviceType`` must be a whole number ("0 (mặc
định)", line 92; the guide's 1 and 3); an empty one is the default.
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from airflow_provider_fptsms.sandbox import fibo_api, fibo_xml, phones
from airflow_provider_fptsms.sandbox.config import Clock, FiboAccount, SandboxConfig
from airflow_provider_fptsms.sandbox.error_texts import (
    FIBO_BALANCE_ERROR,
    FIBO_SEND_ERROR,
    FIBO_SENDING,
    fibo_text,
)
from airflow_provider_fptsms.sandbox.fibo_store import FiboRecord, FiboStore, Filters
from airflow_provider_fptsms.sandbox.ledger import Ledger
from airflow_provider_fptsms.sms.text import segments

Params = Mapping[str, str]
#: About's reply (FIBO_API_V2.md: ``<string>www.Fibovietnam.com</string>``)
ABOUT = "www.Fibovietnam.com"
#: SendSMSToListMobilePhone's ``senderName`` for a long-code send (FIBO_API_V2.md: "``senderName`` (or ``n/a``)")
NO_SENDER = "n/a"
#: SendSMS's test mode (FIBO_API_V2.md: "serviceType 3 = test mode (stored, not delivered)")
TEST_MODE = "3"
#: GetClientSenderNameList's status for a registered name: the guide names the field, not its values
SENDER_ACTIVE = "1"


class _Refused(Exception):
    """Raised inside a method to answer ``<SMS><Code>code</Code><Message>...``."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


class FiboSimulator:
    def __init__(self, config: SandboxConfig, clock: Clock, ledger: Ledger) -> None:
        self.config = config
        self.clock = clock
        self.ledger = ledger
        self.store = FiboStore(config, clock)
        self._methods: dict[str, Callable[[Params], str]] = {
            "About": self.about,
            "CheckClient": self.check_client,
            "GetClientBalance": self.balance,
            "SendSMS": self.send_sms,
            "SendMaskedSMS": self.send_masked_sms,
            "SendBulkSMS": self.send_bulk_sms,
            "SendSMSToListMobilePhone": self.send_to_list,
            "GetSMSStatus": self.sms_status,
            "GetSMSSentList": self.sent_list,
            "GetClientSMSListOfPage": self.sms_list_of_page,
            "GetTotalPageOfClientSMS": self.total_pages,
            "GetCommingSMSList": self.incoming_list,
            "GetClientCommingSMSNotDividePage": self.incoming_not_divided,
            "GetClientSenderNameList": self.sender_names,
            "GetTotalMt": self.total_mt,
        }
        self.reset()

    def reset(self) -> None:
        self.accounts = {a.client_no: a for a in self.config.fibo_accounts}
        self.balances = {a.client_no: Decimal(a.balance) for a in self.config.fibo_accounts}
        self.store.reset()
        self._recent: dict[tuple[str, str, str], float] = {}
        self._recent_order: deque[tuple[float, tuple[str, str, str]]] = deque()

    def call(self, method: str, params: Params) -> str | None:
        """The result of ``method`` (any case), or None when the service has no such method."""
        found = fibo_api.BY_NAME.get(method.lower())
        if found is None:
            return None
        try:
            return self._methods[found.name](params)
        except _Refused as refused:
            return self.fail(refused.code, refused.message)

    # ------------------------------------------------------------------ rendering

    def render(self, fields: dict[str, Any], rows: str = "") -> str:
        """An ``<SMS>`` document (the transport wraps it)."""
        return fibo_xml.sms(fields, rows)

    def fail(self, code: int, message: str | None = None) -> str:
        return self.render({"Code": code, "Message": message or fibo_text(code), "Time": ""})

    def _sending(self, rows: str = "") -> str:
        """The send methods' success: Code 200 "Sending..." (seed line 97)."""
        return self.render({"Code": 200, "Message": FIBO_SENDING, "Time": ""}, rows)

    # ------------------------------------------------------------------ methods

    def _login(self, params: Params) -> FiboAccount | None:
        number = params.get("clientNo") or params.get("Username") or ""
        password = params.get("clientPass") or params.get("Password") or ""
        account = self.accounts.get(number)
        if account is None or not secrets.compare_digest(account.client_pass, password):
            return None
        return account

    def _account(self, params: Params) -> FiboAccount:
        """The v2.0 methods' login: 100 "Please check your account!" when wrong (FIBO_API_V2.md, CheckClient)."""
        account = self._login(params)
        if account is None:
            raise _Refused(100)
        return account

    def send_masked_sms(self, params: Params) -> str:
        """The seed's send (lines 83-106): its codes, its texts ("Send MT Error!..." with 5, line 104)."""
        account = self._login(params)
        if account is None:
            return self.fail(3, FIBO_SEND_ERROR)
        sender = params.get("senderName", "")
        if sender not in account.sender_names:
            return self.fail(5, FIBO_SEND_ERROR)
        raw_phone = params.get("phoneNumber", "")
        phone = phones.fibo(raw_phone)
        if phone is None:
            return self.fail(10)
        message = params.get("smsMessage", "")
        if not message.strip() or not _whole_number(params.get("serviceType", "")):
            return self.fail(11)
        if len(message) > self.config.max_message_chars:
            return self.fail(23)
        now = self.clock.now()
        # Content only, whatever ``config.dedupe`` says: the seed's error table has 6 "Lập nội dung" (read "Lặp",
        # repeated content, seeds/fibo-sms-api.txt line 158) and says of smsGUID only "0 (mặc định)" (line 91); the v2.0
        # guide makes smsGUID "the client's own id, used later to read the status" (FIBO_API_V2.md line 20).
        # Neither manual refuses a send for a reused smsGUID, so the sandbox never does.
        key = (account.client_no, phone, message)
        self._forget_before(now - self.config.duplicate_window)
        if key in self._recent:
            return self.fail(6)
        cost = account.price_per_sms * segments(message)
        if self.balances[account.client_no] < cost:
            return self.fail(14)
        self._accept(account, phone, message, sender, params, params.get("smsGUID", ""))
        return self._sending()

    def _accept(
        self,
        account: FiboAccount,
        phone: str,
        message: str,
        sender: str,
        params: Params,
        guid: str,
        *,
        test_mode: bool = False,
    ) -> FiboRecord:
        """Take one message: charge it, remember it for the duplicate rule, record it (store and ledger)."""
        service_type = params.get("serviceType", "") or "0"
        record = self.store.add(
            account.client_no, _guid(guid), phone, message, sender, service_type, test_mode=test_mode
        )
        if test_mode:  # "stored, not delivered": not charged, not on the ledger of what subscribers got
            return record
        now = record.accepted_at
        self.balances[account.client_no] -= account.price_per_sms * segments(message)
        key = (account.client_no, phone, message)
        self._recent[key] = now
        self._recent_order.append((now, key))
        self.ledger.add(
            gateway="fibo",
            kind="fibo",
            phone=phone,
            message_id=str(record.sms_id),
            account=account.client_no,
            brandname=sender,
            accepted_at=now,
            request_id=record.guid,
            message=message,
        )
        return record

    def _is_duplicate(self, account: FiboAccount, phone: str, message: str) -> bool:
        """Seed table 6 "Lập nội dung" (repeated content): the same text to the same phone within the window."""
        self._forget_before(self.clock.now() - self.config.duplicate_window)
        return (account.client_no, phone, message) in self._recent

    def _check_text(self, message: str) -> None:
        if not message.strip():
            raise _Refused(11)
        if len(message) > self.config.max_message_chars:
            raise _Refused(23)

    def _check_funds(self, account: FiboAccount, cost: Decimal) -> None:
        """102 balance zero, 104 more messages than the balance (FIBO_API_V2.md codes); nothing is taken."""
        balance = self.balances[account.client_no]
        if balance <= 0:
            raise _Refused(102)
        if balance < cost:
            raise _Refused(104)

    @staticmethod
    def _service_type(params: Params) -> str:
        value = params.get("serviceType", "")
        if not _whole_number(value):
            raise _Refused(103)
        return value

    def send_sms(self, params: Params) -> str:
        """SendSMS: a long-code message (no sender name); ``serviceType=3`` stores it without delivering it."""
        account = self._account(params)
        phone = phones.fibo(params.get("phoneNumber", ""))
        if phone is None:
            raise _Refused(101)
        message = params.get("smsMessage", "")
        self._check_text(message)
        test_mode = self._service_type(params) == TEST_MODE
        if not test_mode:
            if self._is_duplicate(account, phone, message):
                raise _Refused(6)
            self._check_funds(account, account.price_per_sms * segments(message))
        self._accept(account, phone, message, "", params, params.get("smsGUID", ""), test_mode=test_mode)
        return self._sending()

    def send_bulk_sms(self, params: Params) -> str:
        """SendBulkSMS: ``<DocumentElement><SMSLIST><PhoneNumber/><Message/></SMSLIST>...``, one text per row.

        Its rows carry no smsGUID, so a refused row could not be named back to the client: the guide documents
        no per-row refusal for this method, and the sandbox takes all the rows or none (the first bad row's
        code: 101 phone, 11 / 23 text, 6 repeated content; then 102 / 104 for the balance).
        """
        account = self._account(params)
        rows = fibo_xml.read_rows(params.get("smsList", ""), "SMSLIST", ("PhoneNumber", "Message"))
        if not rows:
            raise _Refused(11)
        self._service_type(params)
        taken: dict[tuple[str, str], None] = {}  # (phone, text), in the list's order
        for row in rows:
            phone = phones.fibo(row["PhoneNumber"])
            if phone is None:
                raise _Refused(101)
            self._check_text(row["Message"])
            if self._is_duplicate(account, phone, row["Message"]) or (phone, row["Message"]) in taken:
                raise _Refused(6)
            taken[(phone, row["Message"])] = None
        self._check_funds(account, sum((account.price_per_sms * segments(text) for _, text in taken), Decimal(0)))
        for phone, text in taken:
            self._accept(account, phone, text, "", params, "")
        return self._sending()

    def send_to_list(self, params: Params) -> str:
        """SendSMSToListMobilePhone: one ``smsContent`` to ``<Document><ListMobilePhone><PhoneNumber/><SMSGUID/>``
        rows; the rows it refuses (a wrong number, the same text to that phone within the window or twice in
        the list) come back as ``<ListWrongPhoneNumber>`` with their SMSGUID (FIBO_API_V2.md), the rest are sent.
        """
        account = self._account(params)
        sender = params.get("senderName", "")
        if sender != NO_SENDER and sender not in account.sender_names:
            raise _Refused(5)
        content = params.get("smsContent", "")
        self._check_text(content)
        rows = fibo_xml.read_rows(params.get("listPhoneNumber", ""), "ListMobilePhone", ("PhoneNumber", "SMSGUID"))
        if not rows:
            raise _Refused(11)
        self._service_type(params)
        taken: dict[str, str] = {}  # phone -> smsGUID, in the list's order
        wrong: list[dict[str, str]] = []
        for row in rows:
            phone = phones.fibo(row["PhoneNumber"])
            if phone is None or phone in taken or self._is_duplicate(account, phone, content):
                wrong.append(row)
            else:
                taken[phone] = row["SMSGUID"]
        if taken:
            self._check_funds(account, account.price_per_sms * segments(content) * len(taken))
        for phone, guid in taken.items():
            self._accept(account, phone, content, "" if sender == NO_SENDER else sender, params, guid)
        return self._sending("".join(fibo_xml.element("ListWrongPhoneNumber", row) for row in wrong))

    def _forget_before(self, cutoff: float) -> None:
        while self._recent_order and self._recent_order[0][0] < cutoff:
            stamp, key = self._recent_order.popleft()
            if self._recent.get(key) == stamp:
                del self._recent[key]

    # ------------------------------------------------------------------ account

    def about(self, params: Params) -> str:
        """A connectivity check: the guide lists no parameter of its own and its reply names no account, and public
        clients call it bare (``Service.asmx/About``), so the credentials are not checked."""
        return ABOUT

    def check_client(self, params: Params) -> str:
        """Code 0 and the client's name; a wrong login: 100 "Please check your account!" (FIBO_API_V2.md)."""
        account = self._account(params)
        return self.render({"Code": 0, "Message": account.name, "Time": ""})

    def balance(self, params: Params) -> str:
        """GetClientBalance in the shape ``config.fibo_balance_style`` chooses.

        ``seed``: ``<SMS><Code>200</Code><AccountBalance>…`` (line 66); a wrong login Code 3 "Get Balance
        Error!..." (line 73); a serviceType that is not a number 11 (the table's "invalid parameter").
        ``v2``: the bare number (FIBO_API_V2.md: "> 0 sendable, 0 none, < 0 wrong serviceType", so ``-1``
        for a serviceType that is not a number); a wrong login the guide's 100.
        """
        v2 = self.config.fibo_balance_style == "v2"
        account = self._login(params)
        if account is None:
            return self.fail(100) if v2 else self.fail(3, FIBO_BALANCE_ERROR)
        amount = _plain(self.balances[account.client_no])
        if not _whole_number(params.get("serviceType", "")):
            return "-1" if v2 else self.fail(11)
        return amount if v2 else self.render({"Code": 200, "AccountBalance": amount, "Time": ""})

    def sender_names(self, params: Params) -> str:
        """``<clientSenderName/><clientSenderNameStatus/>`` rows (FIBO_API_V2.md); the guide names neither the
        row element nor the status values: ``<SenderNameList>`` rows, status ``1`` for each registered name."""
        account = self._account(params)
        rows = [{"clientSenderName": name, "clientSenderNameStatus": SENDER_ACTIVE} for name in account.sender_names]
        return fibo_xml.table("SenderNameList", rows)

    # ------------------------------------------------------------------ statuses and history

    def sms_status(self, params: Params) -> str:
        """GetSMSStatus: ``smsList=<SMS><smsguid>…</smsguid>…</SMS>`` -> ``<DocumentElement><SMSLIST><smsguid/>
        <smsStatus/><sendername/></SMSLIST>…``; none known: ``<DocumentElement />`` (FIBO_API_V2.md)."""
        account = self._account(params)
        guids = fibo_xml.read_values(params.get("smsList", ""), "smsguid")
        if guids is None:
            raise _Refused(11)
        rows = [
            {"smsguid": r.guid, "smsStatus": self.store.status(r), "sendername": r.sender}
            for r in self.store.by_guids(account.client_no, guids)
        ]
        return fibo_xml.table("SMSLIST", rows)

    def sent_list(self, params: Params) -> str:
        """GetSMSSentList: the messages taken in the last ``minutes`` (a whole number >= 1), oldest first."""
        account = self._account(params)
        minutes = _positive(params.get("minutes", ""))
        rows = [self.store.row(r) for r in self.store.since(account.client_no, minutes * 60)]
        return fibo_xml.table("SMSLIST", rows)

    def sms_list_of_page(self, params: Params) -> str:
        """GetClientSMSListOfPage: page ``pageNO`` (from 1) of 20 rows, newest first, in GetSMSSentList's row shape
        (the guide gives the history no shape of its own); past the last page: ``<DocumentElement />``."""
        account = self._account(params)
        page = _positive(params.get("pageNO", ""))
        chosen = self.store.matching(account.client_no, _filters(params))
        start = (page - 1) * fibo_api.PAGE_SIZE
        rows = [self.store.row(r) for r in chosen[start : start + fibo_api.PAGE_SIZE]]
        return fibo_xml.table("SMSLIST", rows)

    def total_pages(self, params: Params) -> str:
        """GetTotalPageOfClientSMS: how many pages of 20 the same filters give, as bare text (``0``: none)."""
        account = self._account(params)
        count = len(self.store.matching(account.client_no, _filters(params)))
        return str(math.ceil(count / fibo_api.PAGE_SIZE))

    def incoming_list(self, params: Params) -> str:
        """GetCommingSMSList: inbound (MO) messages of the last ``minutes``; the sandbox receives none."""
        self._account(params)
        _positive(params.get("minutes", ""))
        return fibo_xml.table("SMSLIST", [])

    def incoming_not_divided(self, params: Params) -> str:
        """GetClientCommingSMSNotDividePage: inbound messages by date and filter; the sandbox receives none."""
        self._account(params)
        _filters(params)
        return fibo_xml.table("SMSLIST", [])

    # ------------------------------------------------------------------ totals

    def total_mt(self, params: Params) -> str:
        """GetTotalMt (seed lines 126-144): ``56|12|0``; a wrong login: Code 3 "Sai user hoặc mật khẩu" (line 155)."""
        totals = self.totals(params)
        return totals if totals is not None else self.fail(3)

    def totals(self, params: Params) -> str | None:
        """``success|failed|pending`` for the account (line 124), or None when the login is wrong. Takes
        ``Username``/``Password`` (the page's, lines 120-122) or ``clientNo``/``clientPass`` (lines 128-129)."""
        account = self._login(params)
        if account is None:
            return None
        success, failed, pending = self.store.totals(account.client_no)
        return f"{success}|{failed}|{pending}"


def _whole_number(value: str) -> bool:
    """A ``serviceType``: empty (the default) or digits."""
    return value == "" or (value.isascii() and value.isdigit())


def _positive(value: str) -> int:
    """``minutes`` / ``pageNO``: a whole number >= 1, else 11 (invalid parameter)."""
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise _Refused(11)
    return int(value)


def _day(value: str) -> date | None:
    """A ``fromDate`` / ``toDate``: ``MM-DD-YYYY`` (FIBO_API_V2.md) or empty (no bound)."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%m-%d-%Y").date()
    except ValueError:
        raise _Refused(11) from None


def _optional_int(value: str) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.lstrip("-").isdigit()):
        raise _Refused(11)
    return int(value)


def _filters(params: Params) -> Filters:
    return Filters(
        key=params.get("key", ""),
        from_day=_day(params.get("fromDate", "")),
        to_day=_day(params.get("toDate", "")),
        status=_optional_int(params.get("smsStatus", "")),
        service_type=_optional_int(params.get("serviceTypeID", "")),
    )


def _guid(value: str) -> str:
    return "" if value in ("", "0") else value


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)
