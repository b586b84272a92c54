"""Fibo SMS protocol, sans-IO: query builders, XML reply parsers (defusedxml), the error tables.

Fibo takes credentials in the query string (``clientNo``/``clientPass``) and answers an
ASP.NET ``<string>`` wrapping an ``<SMS>`` (or ``<DocumentElement>``) document, either bare (as the
manuals print it) or XML-escaped (as ASP.NET services really send it).  Both are read here.

The seed manual documents three calls; Fibo's v2.0 API guide (``../shared/FIBO_API_V2.md``) the
whole web service: ``CheckClient``, ``SendSMS``, ``SendBulkSMS``, ``SendSMSToListMobilePhone``,
``GetSMSStatus``, ``GetSMSSentList``, ``GetClientSenderNameList``. Each has a request builder and
a reply parser below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any
from urllib.parse import urlencode
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from airflow_provider_fptsms.gateways.errors import (
    AccountError,
    AuthError,
    BrandnameError,
    ContentError,
    DuplicateMessageError,
    ErrorSpec,
    ErrorTable,
    InvalidInputError,
    InvalidPhoneError,
    InvalidRequestError,
    MalformedReplyError,
    PermanentError,
    QuotaError,
    RetryableError,
)

GATEWAY = "Fibo"
#: The manual's path; public Fibo clients use ``/service.asmx`` (choose with the connection extra).
DEFAULT_SERVICE_PATH = "/Service.aspx"
SERVICE_PATHS = ("/Service.aspx", "/service.aspx", "/Service.asmx", "/service.asmx")
#: The manual's status-totals page (its spelling, "Webserivce").
STATUS_TOTALS_PATH = "/WebserivceFibo/PartnerMtTotal.aspx"
SUCCESS_CODES = frozenset({200, 1})
_SECRET_PARAMS = frozenset({"clientpass", "password"})

_CONTACT_FIBO = "contact Fibo support to fix the account setup"
# The seed manual's table (1-28) and the v2.0 integration guide's codes (100-301).
ERROR_TABLE = ErrorTable(
    GATEWAY,
    (
        ErrorSpec((2,), "Lỗi hệ thống (system error)", RetryableError, "retry later"),
        ErrorSpec(
            (3,),
            "Sai user hoặc mật khẩu (wrong user or password)",
            AuthError,
            "check the connection's login (clientNo) and password (clientPass)",
        ),
        ErrorSpec(
            (4,),
            "IP không được phép (IP not allowed)",
            AuthError,
            "ask Fibo to whitelist the public IP of your Airflow workers",
        ),
        ErrorSpec(
            (5,),
            "Chưa khai báo brandname/dịch vụ (brandname/service not declared)",
            BrandnameError,
            "check the sender name (connection extra 'sender_name') is registered for this account",
        ),
        ErrorSpec(
            (6,),
            "Lặp nội dung (duplicate content)",
            DuplicateMessageError,
            "the same content was just sent to this number; vary it or wait before resending",
        ),
        ErrorSpec(
            (7,),
            "Thuê bao từ chối nhận tin (subscriber refuses messages)",
            InvalidPhoneError,
            "remove this number from the list",
        ),
        ErrorSpec(
            (8,),
            "Không được phép gửi tin (not allowed to send)",
            AuthError,
            "ask Fibo to enable sending for this account",
        ),
        ErrorSpec(
            (9,),
            "Chưa khai báo template (template not declared)",
            ContentError,
            "register the message template with Fibo, or send a registered template exactly",
        ),
        ErrorSpec(
            (10,),
            "Định dạng thuê bao không đúng (wrong phone number format)",
            InvalidPhoneError,
            "fix the number: 84xxxxxxxxx or 0xxxxxxxxx",
        ),
        ErrorSpec(
            (11,),
            "Có tham số không hợp lệ (invalid parameter)",
            InvalidRequestError,
            "check serviceType, smsGUID and that the message is not empty",
        ),
        ErrorSpec((12,), "Tài khoản không đúng (wrong account)", AuthError, "check the connection's login (clientNo)"),
        ErrorSpec((13,), "Gửi tin: lỗi kết nối (send: connection error)", RetryableError, "retry later"),
        ErrorSpec(
            (14,),
            "Tài khoản không đủ (tiền) (insufficient balance)",
            QuotaError,
            "top up the Fibo account; check the balance before large sends",
        ),
        ErrorSpec((15,), "Tài khoản hết hạn (account expired)", AccountError, "renew the Fibo account"),
        ErrorSpec((16,), "Hết hạn dịch vụ (service expired)", AccountError, "renew the Fibo service"),
        ErrorSpec(
            (17,),
            "Hết hạn mức gửi test (test sending limit reached)",
            QuotaError,
            "ask Fibo to move the account out of test mode",
        ),
        ErrorSpec(
            (18,),
            "Hủy gửi tin (CSKH) (sending cancelled, customer care)",
            PermanentError,
            "the message was cancelled; check with Fibo before resending",
        ),
        ErrorSpec(
            (19,),
            "Hủy gửi tin (KD) (sending cancelled, business)",
            PermanentError,
            "the message was cancelled; check with Fibo before resending",
        ),
        ErrorSpec(
            (20,),
            "Gateway chưa hỗ trợ Unicode (gateway does not support Unicode)",
            ContentError,
            "strip Vietnamese accents from the message",
        ),
        ErrorSpec((21,), "Chưa set giá trả trước (prepaid price not set)", AccountError, _CONTACT_FIBO),
        ErrorSpec(
            (22,), "Tài khoản chưa kích hoạt (account not activated)", AccountError, "activate the account with Fibo"
        ),
        ErrorSpec(
            (23,),
            "Sai cú pháp tin nhắn (wrong message syntax)",
            ContentError,
            "check the message against the registered template",
        ),
        ErrorSpec((24,), "Thủ tục xử lý bị lỗi (processing procedure failed)", RetryableError, "retry later"),
        ErrorSpec((25,), "Chưa khai báo partner cho user (partner not declared for user)", AccountError, _CONTACT_FIBO),
        ErrorSpec(
            (26,), "Chưa khai báo GateOwner cho user (gate owner not declared for user)", AccountError, _CONTACT_FIBO
        ),
        ErrorSpec(
            (27,),
            "Gửi tin: gate trả mã lỗi (send: the gate returned an error)",
            PermanentError,
            "check the number and content; ask Fibo which gate error it was",
        ),
        ErrorSpec(
            (28,),
            "Hủy gửi tin (sending cancelled)",
            PermanentError,
            "the message was cancelled; check with Fibo before resending",
        ),
        ErrorSpec(
            (100,),
            "Bad account (wrong clientNo or clientPass)",
            AuthError,
            "check the connection's login (clientNo) and password (clientPass)",
        ),
        ErrorSpec((101,), "Bad phone number", InvalidPhoneError, "fix the number: 84xxxxxxxxx or 0xxxxxxxxx"),
        ErrorSpec((102, 104), "Balance not enough", QuotaError, "top up the Fibo account"),
        ErrorSpec((103,), "Wrong serviceType", InvalidRequestError, "use the serviceType the manual gives"),
        ErrorSpec((202,), "Error", PermanentError, "ask Fibo support; keep the smsGUID"),
        ErrorSpec((301,), "No SMS found", InvalidRequestError, "check the smsGUID or the date range"),
    ),
)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class FiboRequest:
    """A GET of ``path`` with query ``params``. ``repr`` never shows the password."""

    path: str
    params: dict[str, str] = field(repr=False)

    def redacted_params(self) -> dict[str, str]:
        return {k: ("***" if k.lower() in _SECRET_PARAMS else v) for k, v in self.params.items()}

    def __repr__(self) -> str:
        return f"FiboRequest(path={self.path!r}, params={self.redacted_params()!r})"


def method_path(method: str, service_path: str = DEFAULT_SERVICE_PATH) -> str:
    base = "/" + service_path.strip("/")
    return f"{base}/{method}"


def _credentials(client_no: str, client_pass: str) -> dict[str, str]:
    if not client_no:
        raise InvalidInputError("clientNo", client_no, "is empty", "set the connection's login")
    if not client_pass:
        raise InvalidInputError("clientPass", "***", "is empty", "set the connection's password")
    return {"clientNo": client_no, "clientPass": client_pass}


def send_masked_sms_request(
    client_no: str,
    client_pass: str,
    sender_name: str,
    phone: str,
    message: str,
    *,
    sms_guid: str = "0",
    service_type: str = "0",
    service_path: str = DEFAULT_SERVICE_PATH,
) -> FiboRequest:
    params = _credentials(client_no, client_pass)
    for name, value, hint in (
        ("senderName", sender_name, "set the connection extra 'sender_name' or pass sender_name="),
        ("phoneNumber", phone, "pass a phone number"),
        ("smsMessage", message, "pass a non-empty message"),
    ):
        if not value or not str(value).strip():
            raise InvalidInputError(name, value, "is empty", hint)
    params.update(
        senderName=sender_name,
        phoneNumber=phone,
        smsMessage=message,
        smsGUID=str(sms_guid),
        serviceType=str(service_type),
    )
    return FiboRequest(method_path("SendMaskedSMS", service_path), params)


def balance_request(
    client_no: str, client_pass: str, *, service_type: str = "1", service_path: str = DEFAULT_SERVICE_PATH
) -> FiboRequest:
    params = _credentials(client_no, client_pass)
    params["serviceType"] = str(service_type)
    return FiboRequest(method_path("GetClientBalance", service_path), params)


def status_totals_request(client_no: str, client_pass: str) -> FiboRequest:
    """``PartnerMtTotal.aspx``: the manual lists ``Username``/``Password`` for this page."""
    creds = _credentials(client_no, client_pass)
    return FiboRequest(STATUS_TOTALS_PATH, {"Username": creds["clientNo"], "Password": creds["clientPass"]})


_SECRET_QUERY = re.compile(r"(?i)\b(clientPass|Password|phoneNumber|smsMessage)=[^&#\s\"]*")


def redact_url(url: str) -> str:
    """Mask the password, the phone and the text in a Fibo URL before it reaches a log line or an exception."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", url)


def build_url(base_url: str, request: FiboRequest) -> str:
    return f"{base_url.rstrip('/')}{request.path}?{urlencode(request.params)}"


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class FiboReply:
    code: int
    message: str
    time: str
    fields: dict[str, str]

    @property
    def balance(self) -> Decimal | None:
        value = self.fields.get("AccountBalance")
        return _decimal(value) if value not in (None, "") else None


@dataclass(frozen=True)
class MtTotals:
    """Status totals: ``success|failed|pending``."""

    success: int
    failed: int
    pending: int


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(text: str, raw: str) -> Element:
    try:
        return fromstring(text.strip())
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedReplyError(
            f"reply is not readable XML ({type(exc).__name__})",
            gateway=GATEWAY,
            next_step="check the host points at the Fibo service and the service path",
            raw=raw,
        ) from None


def _find_sms(root: Element, raw: str) -> Element | str:
    """Return the ``<SMS>`` element, or the text of a bare ``<string>`` (e.g. ``529``)."""
    if _local(root.tag) == "SMS":
        return root
    for child in root.iter():
        if _local(child.tag) == "SMS":
            return child
    text = (root.text or "").strip()
    if text.startswith("<"):
        # ASP.NET style: the SMS document arrives XML-escaped inside <string xmlns="http://tempuri.org/">.
        return _find_sms(_parse_xml(text, raw), raw)
    return text


def _check_status(status: int, text: str) -> None:
    if status >= 500 or status in (408, 429):
        raise RetryableError(
            f"HTTP {status} from the Fibo service",
            gateway=GATEWAY,
            code=f"HTTP {status}",
            next_step="retry later",
            raw=text,
            http_status=status,
        )
    if status != 200:
        raise MalformedReplyError(
            f"HTTP {status} from the Fibo service",
            gateway=GATEWAY,
            code=f"HTTP {status}",
            next_step="check the host and the service path (connection extra 'service_path')",
            raw=text,
            http_status=status,
        )


def parse_sms_reply(body: bytes | str, status: int = 200) -> FiboReply:
    """Read a ``<string><SMS><Code>…`` reply; raise the typed error unless Code is 200 (or 1)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    _check_status(status, text)
    found = _find_sms(_parse_xml(text, text), text)
    if isinstance(found, str):
        # GetClientBalance may answer a bare <string>529</string>.
        if _decimal(found) is None:
            raise MalformedReplyError(f"unexpected reply text {found[:80]!r}", gateway=GATEWAY, raw=text)
        return FiboReply(code=200, message="", time="", fields={"AccountBalance": found})
    fields = {_local(child.tag): (child.text or "").strip() for child in found}
    raw_code = fields.get("Code", "")
    try:
        code = int(raw_code)
    except ValueError:
        raise MalformedReplyError(f"reply has no numeric <Code>: {raw_code!r}", gateway=GATEWAY, raw=text) from None
    reply = FiboReply(code=code, message=fields.get("Message", ""), time=fields.get("Time", ""), fields=fields)
    if code not in SUCCESS_CODES:
        raise ERROR_TABLE.error(code, reply.message or None, raw=text, http_status=status)
    return reply


def parse_balance(body: bytes | str, status: int = 200) -> Decimal:
    reply = parse_sms_reply(body, status)
    balance = reply.balance
    if balance is None:
        raise MalformedReplyError("balance reply has no <AccountBalance>", gateway=GATEWAY, raw=str(reply.fields))
    return balance


_TOTALS = re.compile(r"^\s*(-?\d+)\|(-?\d+)\|(-?\d+)\s*$")


def parse_status_totals(body: bytes | str, status: int = 200) -> MtTotals:
    """``505|6|0`` as plain text, inside ``<string>``, or in the SOAP ``GetTotalMtResult`` envelope."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    _check_status(status, text)
    candidate = text
    if text.lstrip().startswith("<"):
        root = _parse_xml(text, text)
        result = next((e.text or "" for e in root.iter() if _local(e.tag) == "GetTotalMtResult"), None)
        if result is None:
            found = _find_sms(root, text)
            if isinstance(found, Element):  # an <SMS><Code> error reply instead of totals
                code = (found.findtext("Code") or "").strip()
                raise ERROR_TABLE.error(code, (found.findtext("Message") or "").strip() or None, raw=text)
            result = found
        candidate = result
    match = _TOTALS.match(candidate)
    if not match:
        raise MalformedReplyError(
            f"status totals are not 'success|failed|pending': {candidate[:80]!r}", gateway=GATEWAY, raw=text
        )
    success, failed, pending = (int(group) for group in match.groups())
    return MtTotals(success, failed, pending)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


# --------------------------------------------------------------------------- the v2.0 guide's other methods


class FiboStatus(IntEnum):
    """A message's ``smsStatus`` / ``SMSStatus`` (v2.0 guide): 0 and 1 wait, 2..11 are final."""

    PENDING = 0
    SENDING = 1
    SENT_SUCCESS = 2
    SENT_FAILED = 3
    DELETED = 4
    TO_NUMBER_NOT_CORRECT = 5
    CAN_NOT_SEND = 6
    OUT_OF_DATE = 7
    SEND_MT_FAILED = 8
    OTHER = 9
    SPAM_SMS = 10
    RESTORE_TO_ACCOUNT_CLIENT = 11

    @property
    def final(self) -> bool:
        return self >= FiboStatus.SENT_SUCCESS

    @property
    def delivered(self) -> bool:
        return self is FiboStatus.SENT_SUCCESS


#: CheckClient's success code (the send and balance calls answer 200)
CHECK_CLIENT_OK = 0
#: ``senderName`` of SendSMSToListMobilePhone for a long-code send (the guide's ``n/a``)
NO_SENDER_NAME = "n/a"


def method_request(
    method: str,
    client_no: str,
    client_pass: str,
    *,
    service_path: str = DEFAULT_SERVICE_PATH,
    **params: str,
) -> FiboRequest:
    """Any method of the web service: credentials first, then its own parameters."""
    return FiboRequest(method_path(method, service_path), {**_credentials(client_no, client_pass), **params})


def _required(name: str, value: str, hint: str) -> str:
    if not value or not str(value).strip():
        raise InvalidInputError(name, value, "is empty", hint)
    return str(value)


def send_sms_request(
    client_no: str,
    client_pass: str,
    phone: str,
    message: str,
    *,
    sms_guid: str = "0",
    service_type: str = "0",
    service_path: str = DEFAULT_SERVICE_PATH,
) -> FiboRequest:
    """``SendSMS``: a long-code message (no sender name); ``serviceType=3`` is Fibo's test mode."""
    return method_request(
        "SendSMS",
        client_no,
        client_pass,
        service_path=service_path,
        phoneNumber=_required("phoneNumber", phone, "pass a phone number"),
        smsMessage=_required("smsMessage", message, "pass a non-empty message"),
        smsGUID=str(sms_guid),
        serviceType=str(service_type),
    )


def bulk_sms_list(messages: Iterable[tuple[str, str]]) -> str:
    """``smsList`` of SendBulkSMS: ``<DocumentElement><SMSLIST><PhoneNumber/><Message/></SMSLIST>...``."""
    rows = "".join(
        f"<SMSLIST><PhoneNumber>{escape(phone)}</PhoneNumber><Message>{escape(text)}</Message></SMSLIST>"
        for phone, text in messages
    )
    if not rows:
        raise InvalidInputError("smsList", "[]", "is empty", "pass at least one (phone, message)")
    return f"<DocumentElement>{rows}</DocumentElement>"


def send_bulk_request(
    client_no: str,
    client_pass: str,
    messages: Sequence[tuple[str, str]],
    *,
    service_type: str = "0",
    service_path: str = DEFAULT_SERVICE_PATH,
) -> FiboRequest:
    """``SendBulkSMS``: one text per phone, in one call (no sender name, no per-message GUID)."""
    return method_request(
        "SendBulkSMS",
        client_no,
        client_pass,
        service_path=service_path,
        smsList=bulk_sms_list(messages),
        serviceType=str(service_type),
    )


def phone_list(phones: Iterable[tuple[str, str]]) -> str:
    """``listPhoneNumber`` of SendSMSToListMobilePhone: a GUID per phone, so each message can be followed."""
    rows = "".join(
        f"<ListMobilePhone><PhoneNumber>{escape(phone)}</PhoneNumber><SMSGUID>{escape(guid)}</SMSGUID></ListMobilePhone>"
        for phone, guid in phones
    )
    if not rows:
        raise InvalidInputError("listPhoneNumber", "[]", "is empty", "pass at least one (phone, smsGUID)")
    return f"<Document>{rows}</Document>"


def send_to_list_request(
    client_no: str,
    client_pass: str,
    sender_name: str | None,
    content: str,
    phones: Sequence[tuple[str, str]],
    *,
    service_type: str = "0",
    service_path: str = DEFAULT_SERVICE_PATH,
) -> FiboRequest:
    """``SendSMSToListMobilePhone``: one text to many ``(phone, smsGUID)``; ``sender_name`` None: long code."""
    return method_request(
        "SendSMSToListMobilePhone",
        client_no,
        client_pass,
        service_path=service_path,
        senderName=sender_name or NO_SENDER_NAME,
        smsContent=_required("smsContent", content, "pass a non-empty message"),
        listPhoneNumber=phone_list(phones),
        serviceType=str(service_type),
    )


def sms_status_request(
    client_no: str, client_pass: str, guids: Iterable[str], *, service_path: str = DEFAULT_SERVICE_PATH
) -> FiboRequest:
    """``GetSMSStatus`` of our own GUIDs: ``smsList=<SMS><smsguid>...</smsguid>...</SMS>``."""
    items = "".join(f"<smsguid>{escape(guid)}</smsguid>" for guid in guids)
    if not items:
        raise InvalidInputError("smsList", "[]", "is empty", "pass the smsGUIDs of the messages to read")
    return method_request(
        "GetSMSStatus", client_no, client_pass, service_path=service_path, smsList=f"<SMS>{items}</SMS>"
    )


def sent_list_request(
    client_no: str, client_pass: str, minutes: int, *, service_path: str = DEFAULT_SERVICE_PATH
) -> FiboRequest:
    """``GetSMSSentList``: the messages sent in the last ``minutes``."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise InvalidInputError("minutes", minutes, "must be a positive whole number", "e.g. minutes=60")
    return method_request("GetSMSSentList", client_no, client_pass, service_path=service_path, minutes=str(minutes))


@dataclass(frozen=True)
class SentSms:
    """One row of GetSMSSentList (``phone`` as Fibo returns it: mask it before showing it)."""

    sms_id: str
    sms_guid: str
    phone: str = field(repr=False)
    created: str
    sent: str
    status: FiboStatus | None


@dataclass(frozen=True)
class SenderName:
    """One row of GetClientSenderNameList."""

    name: str
    status: str


def _document(body: bytes | str, status: int) -> tuple[Element | str, str]:
    """The reply's inner document (``<SMS>``, ``<DocumentElement>``, ``<Document>``) or its bare text."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    _check_status(status, text)
    root = _parse_xml(text, text)
    return _inner(root, text), text


def _inner(root: Element, raw: str) -> Element | str:
    if _local(root.tag) != "string":
        return root
    if len(root):
        return root[0]
    inner = (root.text or "").strip()
    return _inner(_parse_xml(inner, raw), raw) if inner.startswith("<") else inner


def _error_if_sms_code(document: Element | str, raw: str, status: int, ok: frozenset[int]) -> None:
    """An ``<SMS><Code>`` reply whose code is not in ``ok`` raises its typed error."""
    if isinstance(document, str) or _local(document.tag) != "SMS":
        return
    raw_code = (document.findtext("Code") or "").strip()
    if not raw_code:
        return
    try:
        code = int(raw_code)
    except ValueError:
        raise MalformedReplyError(f"reply has no numeric <Code>: {raw_code!r}", gateway=GATEWAY, raw=raw) from None
    if code not in ok:
        raise ERROR_TABLE.error(code, (document.findtext("Message") or "").strip() or None, raw=raw, http_status=status)


def parse_check_client(body: bytes | str, status: int = 200) -> str:
    """CheckClient: Code 0 and the client's name; a wrong account (100) raises :class:`AuthError`."""
    document, raw = _document(body, status)
    _error_if_sms_code(document, raw, status, frozenset({CHECK_CLIENT_OK}))
    if isinstance(document, str) or _local(document.tag) != "SMS":
        raise MalformedReplyError("CheckClient reply has no <SMS><Code>", gateway=GATEWAY, raw=raw)
    return (document.findtext("Message") or "").strip()


def wrong_number_error() -> InvalidPhoneError:
    """What a message listed in ``ListWrongPhoneNumber`` failed with: the guide says only that Fibo could
    not take the number, so the next step names both causes seen in practice."""
    return InvalidPhoneError(
        "Fibo could not take this number in the list send (ListWrongPhoneNumber)",
        gateway=GATEWAY,
        code=101,
        next_step="check the number (84xxxxxxxxx or 0xxxxxxxxx); if it has just received the same text, it was "
        "not sent again",
    )


def parse_list_send(body: bytes | str, status: int = 200) -> list[str]:
    """SendSMSToListMobilePhone / SendBulkSMS: Code 200, and the smsGUIDs Fibo could not take
    (``<ListWrongPhoneNumber><SMSGUID>``), in the reply's order."""
    document, raw = _document(body, status)
    _error_if_sms_code(document, raw, status, SUCCESS_CODES)
    if isinstance(document, str):
        raise MalformedReplyError(f"unexpected reply text {document[:80]!r}", gateway=GATEWAY, raw=raw)
    return [
        (guid.text or "").strip()
        for wrong in document.iter()
        if _local(wrong.tag) == "ListWrongPhoneNumber"
        for guid in wrong.iter()
        if _local(guid.tag).casefold() == "smsguid" and (guid.text or "").strip()
    ]


def _rows(document: Element | str, tag: str) -> list[dict[str, str]]:
    """The ``<tag>`` rows of a ``<DocumentElement>`` as dicts keyed by lower-case field name."""
    if isinstance(document, str):
        return []
    return [
        {_local(cell.tag).casefold(): (cell.text or "").strip() for cell in row}
        for row in document.iter()
        if _local(row.tag) == tag
    ]


def _status(value: str) -> FiboStatus | None:
    try:
        return FiboStatus(int(value))
    except ValueError:
        return None


def parse_sms_statuses(body: bytes | str, status: int = 200) -> dict[str, FiboStatus | None]:
    """GetSMSStatus: smsGUID -> status (None for a value outside the guide's enum); none known: ``{}``
    (``<DocumentElement />``)."""
    document, raw = _document(body, status)
    _error_if_sms_code(document, raw, status, SUCCESS_CODES)
    return {
        row["smsguid"]: _status(row.get("smsstatus", "")) for row in _rows(document, "SMSLIST") if row.get("smsguid")
    }


def parse_sent_list(body: bytes | str, status: int = 200) -> list[SentSms]:
    """GetSMSSentList: the rows, in the reply's order."""
    document, raw = _document(body, status)
    _error_if_sms_code(document, raw, status, SUCCESS_CODES)
    return [
        SentSms(
            sms_id=row.get("smsid", ""),
            sms_guid=row.get("smsguid", ""),
            phone=row.get("phonenumber", ""),
            created=row.get("createddate", ""),
            sent=row.get("sentdate", ""),
            status=_status(row.get("smsstatus", "")),
        )
        for row in _rows(document, "SMSLIST")
    ]


def parse_sender_names(body: bytes | str, status: int = 200) -> list[SenderName]:
    """GetClientSenderNameList: the account's sender names and their status."""
    document, raw = _document(body, status)
    _error_if_sms_code(document, raw, status, SUCCESS_CODES)
    if isinstance(document, str):
        return []
    names = []
    for row in document.iter():
        cells = {_local(cell.tag).casefold(): (cell.text or "").strip() for cell in row}
        if "clientsendername" in cells:
            names.append(SenderName(cells["clientsendername"], cells.get("clientsendernamestatus", "")))
    return names
