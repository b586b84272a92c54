"""FPT SMS Brandname protocol, sans-IO: request builders, reply parsers, the error table.

Field names are the manual's, case-sensitive (``BrandName``, ``RequestId``, ``campaign_code``).
Nothing here opens a socket or imports Airflow: hooks feed bytes in and get typed values
or typed errors out.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_fptsms.gateways.errors import (
    AuthError,
    BrandnameError,
    CampaignNameTakenError,
    ContentError,
    DuplicateMessageError,
    ErrorSpec,
    ErrorTable,
    GatewayBusyError,
    InvalidInputError,
    InvalidPhoneError,
    InvalidRequestError,
    MalformedReplyError,
    PermanentError,
    QuotaError,
    RetryableError,
    SmsError,
    TokenError,
)

GATEWAY = "FPT"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

SCOPE_CSKH = "send_brandname_otp"
SCOPE_QC = "send_brandname"
DEFAULT_SCOPES = (SCOPE_CSKH, SCOPE_QC)

TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a secret
CSKH_PATH = "/api/push-brandname-otp"
CSKH_INTERNATIONAL_PATH = "/api/push-brandname-international"
CREATE_CAMPAIGN_PATH = "/api/create-campaign"
PUSH_CAMPAIGN_PATH = "/api/push-brandname-ads"
CAMPAIGN_DETAIL_PATH = "/api/detail-ads"
DELIVERY_REPORT_PATH = "/api/dlr-ads"

SCHEDULE_FORMAT = "%Y-%m-%d %H:%M"  # the manual's "yyyy-mm-dd HH:ii"
MAX_CAMPAIGN_NAME = 32
MAX_REQUEST_ID = 100
MAX_SESSION_ID = 32

# Manual section 5, every row. Where a row lists several codes ("2501 or 1") they share a meaning.
_CHECK_CREDENTIALS = (
    "check the connection's login (client_id) and password (client_secret) against "
    "developer.sms.fpt.net > My apps, and that you use the Live pair in production"
)
#: What a 1014 says when a campaign name is taken: the manual's sample "Campaign name already exists."
#: (line 529) and the production texts' Vietnamese ("đã tồn tại"; FPT answers in Vietnamese in production).
NAME_TAKEN_WORDS = ("exist", "tồn tại")
#: ... and when the campaign was already sent: "Campaign is already sent." (line 609), "đã được gửi" / "đã gửi".
CAMPAIGN_SENT_WORDS = ("already sent", "đã được gửi", "đã gửi")

ERROR_TABLE = ErrorTable(
    GATEWAY,
    (
        ErrorSpec(
            (1001,),
            "Invalid Request",
            InvalidRequestError,
            "check the request fields against the manual; this is a bug if it comes from the hook",
        ),
        ErrorSpec(
            (1002,),
            "Client is not allowed to access",
            AuthError,
            "ask FPT to enable API access for this client_id (and whitelist your IP if required)",
        ),
        ErrorSpec((1003,), "Access is denied", AuthError, "ask FPT to grant this application access to the endpoint"),
        ErrorSpec(
            (1004,),
            "Response requirement type is not supported",
            InvalidRequestError,
            "send JSON (Content-Type: application/json) as the manual requires",
        ),
        ErrorSpec(
            (1005,),
            "Invalid scopes",
            AuthError,
            "set the connection extra 'scopes' to only the scopes this app has "
            "(send_brandname_otp for CSKH, send_brandname for QC), or enable the missing scope "
            "on developer.sms.fpt.net",
        ),
        ErrorSpec((1006,), "Server error", RetryableError, "retry later; FPT had a server error"),
        ErrorSpec(
            (1007,),
            "Server temporarily unable to process requests from client",
            GatewayBusyError,
            "retry later with backoff; FPT is busy",
        ),
        ErrorSpec(
            (1008,), "Client information is invalid (wrong client_id or client_secret)", AuthError, _CHECK_CREDENTIALS
        ),
        ErrorSpec(
            (1009,), "Invalid permission type", AuthError, "use grant_type client_credentials (the only one FPT allows)"
        ),
        ErrorSpec(
            (1010,),
            "Scope is insufficient permission to access",
            AuthError,
            "add send_brandname_otp (CSKH) or send_brandname (QC) to the connection extra 'scopes' "
            "and to the app on developer.sms.fpt.net",
        ),
        ErrorSpec((1011,), "Invalid Access token", TokenError, "fetch a new token and replay the request"),
        ErrorSpec(
            (1012,),
            "Access token has been changed",
            TokenError,
            "another process fetched a token for the same session; fetch a new token and replay "
            "(share one token per client and session)",
        ),
        ErrorSpec((1013,), "Access token is expired", TokenError, "fetch a new token and replay the request"),
        ErrorSpec(
            (1014,),
            "Input parameter error",
            InvalidRequestError,
            "fix the field named in the gateway's text (CampaignName: <= 32 characters and single-use; "
            "ScheduleTime: 'YYYY-MM-DD HH:mm')",
            # 1014 is generic: the manual's samples use it for both of these. Production answers in
            # Vietnamese: "đã được gửi" (was sent) and "đã tồn tại" (already exists) are those texts' words.
            by_text=tuple(
                (fragment, step)
                for fragments, step in (
                    (
                        CAMPAIGN_SENT_WORDS,
                        "the campaign was already sent at its ScheduleTime; pushing more phones to it is not "
                        "possible. Create a new campaign (a new CampaignName) for the phones not pushed yet",
                    ),
                    (NAME_TAKEN_WORDS, "campaign names are single-use at FPT: pass a new name"),
                )
                for fragment in fragments
            ),
        ),
        ErrorSpec((1015,), "This permission type is not supported", AuthError, "use grant_type client_credentials"),
        ErrorSpec(
            (1016,),
            "The number of messages sent has exceeded the quota",
            QuotaError,
            "create the campaign with a larger Quota (phones x segments) or push fewer phones",
        ),
        ErrorSpec(
            (2501, 1),
            "Duplicate message in 5 minutes",
            DuplicateMessageError,
            "FPT holds an identical text to this phone from the last 5 minutes; if it is not a retry of "
            "ours, change the text or wait 5 minutes",
        ),
        ErrorSpec((2502,), "Sending quota has expired", QuotaError, "top up or renew the sending quota with FPT"),
        ErrorSpec(
            (2503,),
            "The sending quota has not been configured yet",
            QuotaError,
            "ask FPT to configure a sending quota for this account",
        ),
        ErrorSpec(
            (2504, 54),
            "Brandname is not activated or locked",
            BrandnameError,
            "check the brandname spelling in the connection extra 'brandname' and its status with FPT",
        ),
        ErrorSpec(
            (2505, -11),
            "Phone number is blocked",
            InvalidPhoneError,
            "remove this number from the list; the subscriber or telco blocks brandname SMS",
        ),
        ErrorSpec((2506,), "Service error", RetryableError, "retry later; FPT's service had an error"),
        ErrorSpec(
            (2507,),
            "Undefined error",
            PermanentError,
            "check the message and number, then ask FPT support with the MessageId/RequestId",
        ),
        ErrorSpec(
            (2, -8),
            "Brandname has not been registered with Telco yet",
            BrandnameError,
            "register the brandname with this telco through FPT before sending to its subscribers",
        ),
        ErrorSpec((3,), "Service error from Telco", RetryableError, "retry later; the telco had an error"),
        ErrorSpec(
            (4, -14, 901),
            "Message length exceeds rules of Telco",
            ContentError,
            "shorten the message (strip accents to use GSM-7 and fit more per segment)",
        ),
        ErrorSpec(
            (5, -20, 55),
            "The message content (template) is not registered or wrong content sent compared to the "
            "registered template",
            ContentError,
            "send exactly a template registered for this brandname, or register the template with FPT",
        ),
        ErrorSpec(
            (6, -18),
            "Content sent exists blocked key words",
            ContentError,
            "remove the blocked keywords (links, competitor names, banned words) from the message",
        ),
        ErrorSpec(
            (7,),
            "Content contains Vietnamese characters (Unicode) when encoding (Direction Viettel Bank)",
            ContentError,
            "strip Vietnamese accents from the message",
        ),
        ErrorSpec(
            (8,),
            "Cannot decrypt, message sent is not encrypted.. (Direction Viettel Bank)",
            ContentError,
            "send the message Base64-encoded from UTF-8 (the hook does this for CSKH)",
        ),
        ErrorSpec(
            (53, -10, 902),
            "Wrong phone number",
            InvalidPhoneError,
            "fix the number: Vietnamese numbers as 84xxxxxxxxx or 0xxxxxxxxx",
        ),
    ),
)


def new_session_id() -> str:
    """A fresh ``session_id`` (32 hex chars, the manual's limit)."""
    return uuid.uuid4().hex


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class FptRequest:
    """A JSON POST to ``path``. ``repr`` hides the token and the client secret."""

    path: str
    body: dict[str, Any]

    def redacted(self) -> dict[str, Any]:
        return {k: ("***" if k in _SECRET_FIELDS else v) for k, v in self.body.items()}

    def __repr__(self) -> str:
        return f"FptRequest(path={self.path!r}, fields={sorted(self.body)})"


_SECRET_FIELDS = frozenset({"access_token", "client_secret"})


def token_request(client_id: str, client_secret: str, scopes: Iterable[str], session_id: str) -> FptRequest:
    scope = " ".join(s for s in scopes if s)
    if not client_id:
        raise InvalidInputError("client_id", client_id, "is empty", "set the connection's login")
    if not client_secret:
        raise InvalidInputError("client_secret", "***", "is empty", "set the connection's password")
    if not scope:
        raise InvalidInputError("scopes", scope, "no scope requested", f"use {' '.join(DEFAULT_SCOPES)!r}")
    return FptRequest(
        TOKEN_PATH,
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
            "session_id": session_id,
            "grant_type": "client_credentials",
        },
    )


def encode_message(message: str) -> str:
    """CSKH messages travel Base64 of their UTF-8 bytes (ASCII-only encoders break Vietnamese)."""
    return base64.b64encode(message.encode("utf-8")).decode("ascii")


def cskh_request(
    access_token: str,
    session_id: str,
    brandname: str,
    phone: str,
    message: str,
    request_id: str | None = None,
    *,
    international: bool = False,
) -> FptRequest:
    _require("brandname", brandname, "set the connection extra 'brandname' or pass brandname=")
    _require("phone", phone, "pass a phone number")
    _require("message", message, "pass a non-empty message")
    body: dict[str, Any] = {
        "access_token": access_token,
        "session_id": session_id,
        "BrandName": brandname,
        "Phone": phone,
        "Message": encode_message(message),
    }
    if request_id is not None:
        if not request_id or len(request_id) > MAX_REQUEST_ID:
            raise InvalidInputError("request_id", request_id, f"must be 1..{MAX_REQUEST_ID} characters")
        body["RequestId"] = request_id
    return FptRequest(CSKH_INTERNATIONAL_PATH if international else CSKH_PATH, body)


def format_schedule_time(value: str | datetime) -> str:
    """``datetime`` (aware: converted to Vietnam time) or ``'YYYY-MM-DD HH:mm'`` -> the manual's format."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(VN_TZ)
        return value.strftime(SCHEDULE_FORMAT)
    try:
        parsed = datetime.strptime(value.strip(), SCHEDULE_FORMAT)
    except (ValueError, AttributeError):
        raise InvalidInputError(
            "schedule_time", value, "is not 'YYYY-MM-DD HH:mm'", "e.g. '2026-06-18 09:00' (Vietnam time)"
        ) from None
    return parsed.strftime(SCHEDULE_FORMAT)


def create_campaign_request(
    access_token: str,
    session_id: str,
    campaign_name: str,
    brandname: str,
    message: str,
    schedule_time: str | datetime,
    quota: int,
) -> FptRequest:
    _require("campaign_name", campaign_name, "pass a campaign name")
    if len(campaign_name) > MAX_CAMPAIGN_NAME:
        raise InvalidInputError(
            "campaign_name",
            campaign_name,
            f"is {len(campaign_name)} characters, FPT allows {MAX_CAMPAIGN_NAME}",
            "shorten it; names are also single-use",
        )
    _require("brandname", brandname, "set the connection extra 'brandname' or pass brandname=")
    _require("message", message, "pass a non-empty message")
    if isinstance(quota, bool) or not isinstance(quota, int) or quota <= 0:
        raise InvalidInputError("quota", quota, "must be a positive integer", "quota = phones x segments")
    return FptRequest(
        CREATE_CAMPAIGN_PATH,
        {
            "access_token": access_token,
            "session_id": session_id,
            "CampaignName": campaign_name,
            "BrandName": brandname,
            "Message": message,  # QC messages are plain text, unlike CSKH
            "ScheduleTime": format_schedule_time(schedule_time),
            "Quota": quota,
        },
    )


def push_campaign_request(access_token: str, session_id: str, campaign_code: str, phones: Sequence[str]) -> FptRequest:
    _require("campaign_code", campaign_code, "pass the CampaignCode returned by create-campaign")
    if not phones:
        raise InvalidInputError("phones", [], "is empty", "push at least one phone")
    return FptRequest(
        PUSH_CAMPAIGN_PATH,
        {
            "access_token": access_token,
            "session_id": session_id,
            "CampaignCode": campaign_code,
            "PhoneList": ",".join(phones),
        },
    )


def campaign_detail_request(access_token: str, campaign_code: str) -> FptRequest:
    _require("campaign_code", campaign_code, "pass the CampaignCode returned by create-campaign")
    return FptRequest(CAMPAIGN_DETAIL_PATH, {"access_token": access_token, "CampaignCode": campaign_code})


def delivery_report_request(access_token: str, campaign_code: str) -> FptRequest:
    _require("campaign_code", campaign_code, "pass the CampaignCode returned by create-campaign")
    # dlr-ads alone spells the field in lower case.
    return FptRequest(DELIVERY_REPORT_PATH, {"access_token": access_token, "campaign_code": campaign_code})


def _require(name: str, value: object, next_step: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInputError(name, value, "is empty", next_step)


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_in: int
    token_type: str
    scope: str


@dataclass(frozen=True)
class CskhReceipt:
    message_id: str
    phone: str = field(repr=False)
    brandname: str
    partner_id: str
    telco: str
    message: str = field(default="", repr=False)


@dataclass(frozen=True)
class PushReceipt:
    num_message_sent: int
    num_remain_quota: int
    batch_id: str


@dataclass(frozen=True)
class CampaignStatus:
    """``detail-ads``: approval (``StatusDetail``), progress (``Total``) and sending state."""

    campaign_code: str
    total: int
    quota: int
    is_sent: bool
    sending_time: str | None
    approved: bool
    rejected: bool
    reason: str | None

    @property
    def state(self) -> str:
        if self.rejected:
            return "rejected"
        if self.is_sent:
            return "sent"
        return "approved" if self.approved else "pending_approval"


def parse_json_reply(status: int, body: bytes | str) -> dict[str, Any]:
    """Decode an FPT JSON reply, raising the typed error for any error shape.

    Accepts ``{"error", "error_description"}`` (manual samples) and ``{"Error",
    "Error_description"}`` (manual tables), codes as numbers or strings.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _unreadable(status, text, "reply is not a JSON object")
    lowered = {k.lower(): v for k, v in data.items() if isinstance(k, str)}
    if "error" in lowered and lowered["error"] not in (None, "", 0, "0"):
        described = lowered.get("error_description")
        raise ERROR_TABLE.error(
            lowered["error"], None if described is None else str(described), raw=text, http_status=status
        )
    if status != 200:
        raise _unreadable(status, text, f"HTTP {status} without an error code")
    return data


def _unreadable(status: int, text: str, why: str) -> SmsError:
    cls = RetryableError if status >= 500 or status in (408, 429) else MalformedReplyError
    return cls(
        f"{why} (HTTP {status})",
        gateway=GATEWAY,
        code=f"HTTP {status}",
        next_step="retry later" if cls is RetryableError else "check the host points at the FPT API",
        raw=text,
        http_status=status,
    )


def _field(data: dict[str, Any], name: str, *, required: bool = True) -> Any:
    if name in data:
        return data[name]
    lowered = name.lower()
    for key, value in data.items():
        if key.lower() == lowered:
            return value
    if required:
        raise MalformedReplyError(
            f"reply has no {name!r} field", gateway=GATEWAY, next_step="check the API version", raw=json.dumps(data)
        )
    return None


def _int(data: dict[str, Any], name: str, default: int | None = None) -> int:
    value = _field(data, name, required=default is None)
    if (value is None or value == "") and default is not None:
        return default
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise MalformedReplyError(
            f"field {name!r} is not a number: {value!r}", gateway=GATEWAY, raw=json.dumps(data)
        ) from None


def _str(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = _field(data, name, required=required)
    return "" if value is None else str(value)


def parse_token(status: int, body: bytes | str) -> Token:
    data = parse_json_reply(status, body)
    return Token(
        access_token=_str(data, "access_token"),
        expires_in=_int(data, "expires_in", default=86400),
        token_type=_str(data, "token_type", required=False) or "Bearer",
        scope=_str(data, "scope", required=False),
    )


def parse_cskh(status: int, body: bytes | str) -> CskhReceipt:
    data = parse_json_reply(status, body)
    return CskhReceipt(
        message_id=_str(data, "MessageId"),
        phone=_str(data, "Phone", required=False),
        brandname=_str(data, "BrandName", required=False),
        partner_id=_str(data, "PartnerId", required=False),
        telco=_str(data, "Telco", required=False),
        message=_str(data, "Message", required=False),
    )


def parse_campaign_created(status: int, body: bytes | str) -> str:
    """The new CampaignCode; a 1014 that says the name exists becomes :class:`CampaignNameTakenError`."""
    try:
        data = parse_json_reply(status, body)
    except InvalidRequestError as error:
        said = (error.gateway_text or "").lower()
        if error.code == 1014 and any(word in said for word in NAME_TAKEN_WORDS):
            raise CampaignNameTakenError(
                "Campaign name already exists",
                gateway=GATEWAY,
                code=error.code,
                next_step="campaign names are single-use at FPT: pass a new name",
                gateway_text=error.gateway_text,
                raw=error.raw,
                http_status=error.http_status,
            ) from None
        raise
    return _str(data, "CampaignCode")


def parse_push(status: int, body: bytes | str) -> PushReceipt:
    data = parse_json_reply(status, body)
    return PushReceipt(
        num_message_sent=_int(data, "NumMessageSent"),
        num_remain_quota=_int(data, "NumRemainQuota"),
        batch_id=_str(data, "BatchId"),
    )


def parse_campaign_detail(status: int, body: bytes | str, campaign_code: str = "") -> CampaignStatus:
    data = parse_json_reply(status, body)
    detail = _field(data, "StatusDetail", required=False)
    if isinstance(detail, list):  # some PHP backends wrap single objects in a list
        detail = detail[0] if detail else None
    detail = detail if isinstance(detail, dict) else {}
    approval = str(_field(detail, "Status", required=False) or "0").strip()
    reason = _str(detail, "Reason", required=False).strip() or None
    approved = approval == "1"
    return CampaignStatus(
        campaign_code=_str(data, "CampaignCode", required=False) or campaign_code,
        total=_int(data, "Total", default=0),
        quota=_int(data, "Quota", default=0),
        is_sent=str(_field(data, "IsSent", required=False) or "0").strip() == "1",
        sending_time=_str(data, "SendingTime", required=False) or None,
        approved=approved,
        rejected=not approved and reason is not None,
        reason=reason,
    )


# --------------------------------------------------------------------------- delivery report CSV


@dataclass(frozen=True)
class DeliveryRecord:
    """One row of the ``dlr-ads`` CSV, read by header name. ``status`` is normalised."""

    phone: str = field(repr=False)
    status: str  # delivered | failed | pending | unknown
    status_code: str
    telco: str = ""
    error: str = ""
    message_id: str = ""
    sent_time: str = ""
    done_time: str = ""
    extra: dict[str, str] = field(default_factory=dict, repr=False)


# Normalised header name (lower case, no spaces/underscores) -> DeliveryRecord field.
_HEADER_ALIASES = {
    "phone": "phone",
    "phonenumber": "phone",
    "msisdn": "phone",
    "isdn": "phone",
    "mobile": "phone",
    "sdt": "phone",
    "sodienthoai": "phone",
    "status": "status",
    "dlrstatus": "status",
    "state": "status",
    "trangthai": "status",
    "telco": "telco",
    "operator": "telco",
    "network": "telco",
    "nhamang": "telco",
    "error": "error",
    "errorcode": "error",
    "errcode": "error",
    "reason": "error",
    "messageid": "message_id",
    "smsid": "message_id",
    "msgid": "message_id",
    "batchid": "message_id",
    "senttime": "sent_time",
    "sendtime": "sent_time",
    "sendingtime": "sent_time",
    "donetime": "done_time",
    "deliveredtime": "done_time",
    "dlrtime": "done_time",
    "receivedtime": "done_time",
}
# DLR status values: the manual's 1 / 0 / 2 / -11, and the words SMSCs commonly use.
_STATUS_WORDS = {
    "1": "delivered",
    "success": "delivered",
    "delivered": "delivered",
    "delivrd": "delivered",
    "thanhcong": "delivered",
    "0": "failed",
    "failed": "failed",
    "fail": "failed",
    "failure": "failed",
    "undeliv": "failed",
    "undelivered": "failed",
    "rejectd": "failed",
    "rejected": "failed",
    "expired": "failed",
    "thatbai": "failed",
    "2": "pending",
    "-11": "pending",
    "pending": "pending",
    "waiting": "pending",
    "enroute": "pending",
    "accepted": "pending",
    "": "pending",
}


def normalise_dlr_status(value: str) -> str:
    key = value.strip().lower().replace(" ", "").replace("_", "")
    return _STATUS_WORDS.get(key, "unknown")


def _header_key(name: str) -> str:
    return name.strip().lstrip("\ufeff").lower().replace(" ", "").replace("_", "").replace("-", "")


def _header_mapping(header: Sequence[str]) -> dict[int, str]:
    """Column index -> :class:`DeliveryRecord` field, from the header row; the first column of a kind wins.

    A report without a phone column is not a ``dlr-ads`` report (an HTML page, another export).
    """
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        target = _HEADER_ALIASES.get(_header_key(name))
        if target and target not in mapping.values():
            mapping[index] = target
    if "phone" not in mapping.values():
        raise MalformedReplyError(
            f"delivery report header has no phone column: {header[:12]!r}",
            gateway=GATEWAY,
            next_step="check that dlr-ads returned the CSV report",
        )
    return mapping


def _is_blank_row(row: Sequence[str]) -> bool:
    """Spreadsheet exports end with empty or comma-only lines: they are not phones."""
    return not any(cell.strip() for cell in row)


def iter_delivery_report(lines: Iterable[str]) -> Iterator[DeliveryRecord]:
    """Stream ``DeliveryRecord`` rows from CSV text lines, reading columns by the header row."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    mapping = _header_mapping(header)
    names = [name.strip().lstrip("\ufeff") for name in header]
    for row in reader:
        if _is_blank_row(row):
            continue
        values: dict[str, str] = {}
        extra: dict[str, str] = {}
        for index, cell in enumerate(row):
            target = mapping.get(index)
            if target:
                values[target] = cell.strip()
            elif index < len(names):
                extra[names[index]] = cell
        status_code = values.pop("status", "")
        yield DeliveryRecord(status=normalise_dlr_status(status_code), status_code=status_code, extra=extra, **values)


def parse_delivery_report(status: int, body: bytes | str) -> list[DeliveryRecord]:
    """The whole ``dlr-ads`` reply: CSV on success, the JSON error shape otherwise."""
    text = check_delivery_report(status, body)
    return list(iter_delivery_report(text.splitlines()))


def check_delivery_report(status: int, body: bytes | str) -> str:
    """The ``dlr-ads`` reply as CSV text, or its typed error: cheap enough for an event loop, which can
    then parse a large report in a thread."""
    text = body.decode("utf-8-sig", "replace") if isinstance(body, bytes) else body
    if _is_report_error(status, text):
        raise _report_error(status, text)
    return text


def _is_report_error(status: int, head: str) -> bool:
    """FPT answers a failed ``dlr-ads`` with the JSON error shape, sometimes under HTTP 200."""
    return status != 200 or head.lstrip()[:1] == "{"


def _report_error(status: int, text: str) -> SmsError:
    """The typed error of a ``dlr-ads`` reply that is not a CSV report."""
    try:
        parse_json_reply(status, text)
    except SmsError as error:
        return error
    return _unreadable(status, text, "expected a CSV delivery report")


#: A row whose status is one of these will not change any more: the one rule for "this phone's report is in",
#: shared by the report trigger, the report operator and anything else that waits for a report.
FINAL_DLR_STATUSES = frozenset({"delivered", "failed"})


@dataclass(frozen=True)
class ReportCounts:
    """How far a ``dlr-ads`` report has got, without its rows: what a wait needs, in constant memory.

    ``by_status`` counts rows per normalised status (delivered, failed, pending, unknown).
    """

    by_status: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, statuses: Iterable[str]) -> ReportCounts:
        """Counts of normalised statuses, e.g. ``ReportCounts.of(r.status for r in records)``."""
        counts: dict[str, int] = {}
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        return cls(counts)

    @property
    def rows(self) -> int:
        return sum(self.by_status.values())

    @property
    def final(self) -> int:
        return sum(n for status, n in self.by_status.items() if status in FINAL_DLR_STATUSES)

    @property
    def pending(self) -> int:
        """Rows without a final status yet (``pending`` and ``unknown``)."""
        return self.rows - self.final

    def complete(self, expected_rows: int) -> bool:
        """True once ``expected_rows`` phones (what was pushed) have a final status."""
        return self.final >= expected_rows


class DeliveryReportCounter:
    """Count a ``dlr-ads`` reply by status as its bytes arrive: memory stays flat however long the report.

    Feed the body in chunks of any size with :meth:`feed`; each call parses only the whole CSV
    records it completes (a quoted field may hold a newline), so its work is bounded by the chunk.
    :meth:`close` returns the :class:`ReportCounts`, or raises the typed error of an error reply
    (the JSON error shape, or any HTTP status but 200) — the same rules as :func:`check_delivery_report`
    and :func:`iter_delivery_report`, which read a whole body.

    :param status: the reply's HTTP status.
    """

    #: the longest record (or error body) kept while waiting for its end: nothing in a DLR row is this long.
    MAX_PENDING = 1 << 20
    #: distinct raw status values remembered with their normalised status (a few in practice).
    _STATUS_CACHE = 256

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self._tail = b""
        self._started = False  # the first non-blank byte has been seen
        self._error = status != 200  # keep the body to raise its error at close()
        self._status_column: int | None = None
        self._header_seen = False
        self._counts: dict[str, int] = {}
        self._normalised: dict[str, str] = {}

    def feed(self, chunk: bytes) -> None:
        """Count the records ``chunk`` completes; keep the unfinished last one for the next call."""
        data = self._tail + chunk if self._tail else chunk
        if not self._started:
            data = self._start(data)
        if self._error:
            self._tail = data[: self.MAX_PENDING]  # an error body: its head is enough
            return
        end = _record_end(data)
        self._tail = data[end:]
        if len(self._tail) > self.MAX_PENDING:
            raise MalformedReplyError(
                f"delivery report has a record longer than {self.MAX_PENDING:,} bytes",
                gateway=GATEWAY,
                next_step="check that dlr-ads returned the CSV report",
            )
        if end:
            self._count(data[:end])

    def close(self) -> ReportCounts:
        """The counts, once the whole body was fed; the typed error if the reply was one."""
        tail, self._tail = self._tail, b""
        if self._error:
            raise _report_error(self.status, tail.decode("utf-8-sig", "replace"))
        if tail:
            self._count(tail)  # a last record without its newline
        return ReportCounts(dict(self._counts))

    def _start(self, data: bytes) -> bytes:
        """Drop the BOM and leading blank space; decide CSV vs error reply on the first byte that says."""
        head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
        if head:
            self._started = True
            self._error = self._error or _is_report_error(self.status, head[:1].decode("ascii", "replace"))
            return head if not self._error else data
        return data if self._error else b""

    def _count(self, records: bytes) -> None:
        reader = csv.reader(io.StringIO(records.decode("utf-8", "replace"), newline=""))
        if not self._header_seen:
            header = next(reader, None)
            if header is None:
                return
            self._header_seen = True
            mapping = _header_mapping(header)
            self._status_column = next((i for i, name in mapping.items() if name == "status"), None)
        column, counts = self._status_column, self._counts
        for row in reader:
            cell = row[column] if column is not None and column < len(row) else ""
            if not cell.strip() and _is_blank_row(row):
                continue
            status = self._status_of(cell)
            counts[status] = counts.get(status, 0) + 1

    def _status_of(self, cell: str) -> str:
        status = self._normalised.get(cell)
        if status is None:
            status = normalise_dlr_status(cell)
            if len(self._normalised) < self._STATUS_CACHE:
                self._normalised[cell] = status
        return status


def _record_end(data: bytes) -> int:
    """Index just past the last newline that ends a CSV record (outside any quoted field); 0 if none.

    Quotes come in pairs inside a field (``""`` escapes one), so a newline ends a record when the
    quotes since the last record end are even.
    """
    if b'"' not in data:
        return data.rfind(b"\n") + 1
    end = position = odd = 0
    while (newline := data.find(b"\n", position)) >= 0:
        odd ^= data.count(b'"', position, newline) & 1
        position = newline + 1
        if not odd:
            end = position
    return end


def count_delivery_report(status: int, body: bytes) -> ReportCounts:
    """A whole ``dlr-ads`` reply counted by status (the streaming counter fed at once)."""
    counter = DeliveryReportCounter(status)
    counter.feed(body)
    return counter.close()
