"""The simulated FPT SMS Brandname gateway: tokens, CSKH sends, and the QC campaign lifecycle.

Pure state machine: methods take the decoded JSON body and return ``(http_status, payload)``;
``app.py`` does the HTTP.  Error replies use the manual's shape and its own texts (``error_texts``:
the error table of section 5, or the sample reply the manual prints for that situation), or the
Vietnamese production-style texts when ``config.error_texts`` is ``"vi"``.

What is enforced where the manual is loose or contradicts itself is said once, next to the rule:
``session_id`` (``_session_id``), ``Quota`` (``create_campaign``), ``RequestId`` (``config.dedupe``).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import itertools
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.sandbox import phones
from airflow_provider_fptsms.sandbox.config import Clock, FptClient, SandboxConfig
from airflow_provider_fptsms.sandbox.error_texts import fpt_text
from airflow_provider_fptsms.sandbox.faults import FaultInjector
from airflow_provider_fptsms.sandbox.ledger import Ledger, LedgerEntry, delivery_fails
from airflow_provider_fptsms.sms.text import segments  # the network's part count, charged per phone

Reply = tuple[int, Any]
PARTNER_ID = "2215"
SEND_WINDOWS = ((time(8, 0), time(11, 30)), (time(13, 30), time(20, 0)))
DLR_HEADER = ("Phone", "Telco", "Status", "Error", "SendTime", "DoneTime", "BatchId")
#: "Random string of characters (<= 32 characters)" (lines 160, 274, 364, 466, 557); see config.strict_session_id
MAX_SESSION_ID = 32

_STATUS_BY_CODE = {1002: 403, 1003: 403, 1005: 403, 1010: 403, 1006: 500, 1007: 503}


def error(code: int, style: str = "manual", sample: str | None = None) -> Reply:
    """The manual's failure shape, ``{"error": code, "error_description": ...}`` (lines 213-217), with the
    text ``error_texts.fpt_text`` gives for ``style`` ("manual" or "vi") and, if any, the manual's sample."""
    status = _STATUS_BY_CODE.get(code, 401 if code in (1008, 1011, 1012, 1013) else 400)
    return status, {"error": code, "error_description": fpt_text(code, style, sample)}


class FptReject(Exception):
    """Raised inside a handler to answer with an error reply; ``sample`` names a manual sample (``FPT_SAMPLES``)."""

    def __init__(self, code: int, sample: str | None = None) -> None:
        super().__init__(code, sample)
        self.code = code
        self.sample = sample


@dataclass
class _Token:
    client: FptClient
    session_id: str
    scopes: frozenset[str]
    expires_at: float
    state: str = "valid"  # valid | replaced | expired


@dataclass
class Campaign:
    code: str
    client_id: str
    name: str
    brandname: str
    message: str
    schedule_time: str
    schedule_ts: float
    quota: int
    segments: int
    created_at: float
    used: int = 0
    phones: list[str] = field(default_factory=list)
    telcos: list[str] = field(default_factory=list)
    batches: list[tuple[str, int]] = field(default_factory=list)

    def blocked_word(self, words: tuple[str, ...]) -> str | None:
        lowered = self.message.lower()
        return next((w for w in words if w and w.lower() in lowered), None)


class FptSimulator:
    def __init__(self, config: SandboxConfig, clock: Clock, ledger: Ledger, faults: FaultInjector) -> None:
        self.config = config
        self.clock = clock
        self.ledger = ledger
        self.faults = faults
        #: called with (ledger entry, telco) after each accepted CSKH send (the DLR callback hooks in here)
        self.on_cskh_accepted: Callable[[LedgerEntry, str], None] | None = None
        self.reset()

    def reset(self) -> None:
        self.clients = {c.client_id: c for c in self.config.fpt_clients}
        self.ads_quota = {c.client_id: c.ads_quota for c in self.config.fpt_clients}
        self.tokens: dict[str, _Token] = {}
        self.sessions: dict[tuple[str, str], str] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.campaign_names: set[tuple[str, str]] = set()
        self._recent: dict[tuple[str, ...], float] = {}
        self._recent_order: deque[tuple[float, tuple[str, ...]]] = deque()
        self._message_ids = itertools.count(491785)
        self._batch_seq = itertools.count(82989)

    def _error(self, code: int, sample: str | None = None) -> Reply:
        return error(code, self.config.error_texts, sample)

    def _reply(self, reject: FptReject) -> Reply:
        return self._error(reject.code, reject.sample)

    def _session_id(self, body: dict[str, Any], code: int) -> str:
        """``session_id``: "Compulsory" wherever the manual lists it; its length only if ``strict_session_id``.

        The manual caps it at 32 characters and shows its own 43-character sample succeeding; which one the
        sandbox follows is ``config.strict_session_id`` (default: the sample). ``code``: 1001 for the token
        request (its other fields are checked with 1001 too), 1014 "Input parameter error" for the API calls.
        """
        value = body.get("session_id")
        if not isinstance(value, str) or not value:
            raise FptReject(code)
        if self.config.strict_session_id and len(value) > MAX_SESSION_ID:
            raise FptReject(code)
        return value

    # ------------------------------------------------------------------ auth

    def issue_token(self, body: dict[str, Any]) -> Reply:
        """3.1: every field of the table (lines 155-160) is Compulsory; only client_credentials (line 156)."""
        try:
            for name in ("grant_type", "client_id", "client_secret", "scope"):
                if not isinstance(body.get(name), str) or not body[name]:
                    raise FptReject(1001)
            session_id = self._session_id(body, 1001)
            if body["grant_type"] != "client_credentials":
                raise FptReject(1009)
            client = self.clients.get(body["client_id"])
            if client is None or not secrets.compare_digest(client.client_secret, body["client_secret"]):
                raise FptReject(1008, "invalid_client")
            wanted = frozenset(body["scope"].split())
            if not wanted or wanted - set(client.scopes):
                raise FptReject(1005)
        except FptReject as reject:
            return self._reply(reject)
        token = base64.b64encode(secrets.token_bytes(96)).decode("ascii")
        previous = self.sessions.get((client.client_id, session_id))
        if previous in self.tokens:
            self.tokens[previous].state = "replaced"
        self.sessions[(client.client_id, session_id)] = token
        self.tokens[token] = _Token(client, session_id, wanted, self.clock.now() + self.config.token_ttl)
        return 200, {
            "access_token": token,
            "expires_in": int(self.config.token_ttl),
            "token_type": "Bearer",
            "scope": " ".join(sorted(wanted, reverse=True)),
        }

    def expire_tokens(self) -> int:
        valid = [t for t in self.tokens.values() if t.state == "valid"]
        for token in valid:
            token.state = "expired"
        return len(valid)

    def _authorise(self, body: dict[str, Any], scope: str, unknown_token: str | None = None) -> _Token:
        """The token checks of every API call; ``unknown_token``: the manual's sample text for 1011 on this call."""
        value = body.get("access_token")
        token = self.tokens.get(value) if isinstance(value, str) else None
        if token is None:
            raise FptReject(1011, unknown_token)
        if token.state == "valid" and token.expires_at <= self.clock.now():
            token.state = "expired"
        if token.state == "valid" and self.faults.invalidate_token_now():
            token.state = "replaced"
        if token.state == "replaced":
            raise FptReject(1012)
        if token.state == "expired":
            raise FptReject(1013)
        if scope not in token.scopes:
            raise FptReject(1010)
        return token

    def _brandname(self, client: FptClient, body: dict[str, Any]) -> str:
        name = body.get("BrandName")
        if not isinstance(name, str) or not name:
            raise FptReject(1014)
        if name not in client.brandnames:
            raise FptReject(2504)
        return name

    # ------------------------------------------------------------------ CSKH

    def send_cskh(self, body: dict[str, Any], *, international: bool = False) -> Reply:
        try:
            token = self._authorise(body, fpt.SCOPE_CSKH, "token_invalid" if international else "token_incorrect")
            self._session_id(body, 1014)
            brandname = self._brandname(token.client, body)
            phone, telco = self._cskh_phone(body.get("Phone"), international)
            message = self._decode_message(body.get("Message"))
            request_id = body.get("RequestId")
            if request_id is not None and (not isinstance(request_id, str) or len(request_id) > fpt.MAX_REQUEST_ID):
                raise FptReject(1014)
        except FptReject as reject:
            return self._reply(reject)
        now = self.clock.now()
        client_id = token.client.client_id
        # 2501 "Duplicate message in 5 minutes" (manual section 5): the same text to the same phone. Both keys
        # are remembered whatever the mode, so switching ``dedupe`` at run time covers sends already made;
        # only "request-id" mode refuses on the RequestId one (a free label in the manual, see config.dedupe).
        keys: list[tuple[str, ...]] = [(client_id, "msg", phone, message)]
        if request_id:
            keys.append((client_id, "rid", request_id))
        refusing = keys if self.config.dedupe == "request-id" else keys[:1]
        self._forget_before(now - self.config.duplicate_window)
        if any(key in self._recent for key in refusing):
            return self._error(2501)
        blocked = next((w for w in self.config.blocked_words if w and w.lower() in message.lower()), None)
        if blocked:
            return self._error(6)
        if len(message) > self.config.max_message_chars:
            return self._error(4)
        for key in keys:
            self._recent[key] = now
            self._recent_order.append((now, key))
        message_id = str(next(self._message_ids))
        entry = self.ledger.add(
            gateway="fpt",
            kind="cskh_international" if international else "cskh",
            phone=phone,
            message_id=message_id,
            account=client_id,
            brandname=brandname,
            accepted_at=now,
            request_id=request_id or "",
            message=message,
        )
        if self.on_cskh_accepted is not None:
            self.on_cskh_accepted(entry, telco)
        return 200, {
            "MessageId": message_id,
            "Phone": phone,
            "BrandName": brandname,
            "Message": message,
            "PartnerId": PARTNER_ID,
            "Telco": telco,
        }

    def _cskh_phone(self, value: Any, international: bool) -> tuple[str, str]:
        if not isinstance(value, str) or not value:
            raise FptReject(1014)
        if international:
            found = phones.international(value)
            if found is None:
                raise FptReject(53)
            return found
        phone = phones.domestic(value)
        if phone is None:
            raise FptReject(53)
        return phone, phones.telco(phone)

    @staticmethod
    def _decode_message(value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise FptReject(1014)
        try:
            text = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise FptReject(8) from None
        if not text.strip():
            raise FptReject(1014)
        return text

    def _forget_before(self, cutoff: float) -> None:
        order, recent = self._recent_order, self._recent
        while order and order[0][0] < cutoff:
            stamp, key = order.popleft()
            if recent.get(key) == stamp:
                del recent[key]

    # ------------------------------------------------------------------ QC campaigns

    def create_campaign(self, body: dict[str, Any]) -> Reply:
        try:
            token = self._authorise(body, fpt.SCOPE_QC)
            self._session_id(body, 1014)
            client_id = token.client.client_id
            brandname = self._brandname(token.client, body)
            name = body.get("CampaignName")
            if not isinstance(name, str) or not name.strip() or len(name) > fpt.MAX_CAMPAIGN_NAME:
                raise FptReject(1014)
            if (client_id, name) in self.campaign_names:
                raise FptReject(1014, "campaign_name_taken")
            message = body.get("Message")
            if not isinstance(message, str) or not message.strip():
                raise FptReject(1014)
            schedule_time, schedule_ts = self._schedule(body.get("ScheduleTime"))
            # "Quota | Int | Compulsory" (line 474), the sample sends 1000 (line 492): a JSON string "1000" is not
            # an Int, nor is 1000.0 or true; 1014 "Input parameter error" as for any other bad field.
            quota = body.get("Quota")
            if isinstance(quota, bool) or not isinstance(quota, int) or quota <= 0:
                raise FptReject(1014)
            if quota > self.ads_quota[client_id]:
                raise FptReject(2502)
        except FptReject as reject:
            return self._reply(reject)
        self.ads_quota[client_id] -= quota
        code = base64.b64encode(PARTNER_ID.encode()).decode() + secrets.token_hex(7)[:13]
        self.campaign_names.add((client_id, name))
        self.campaigns[code] = Campaign(
            code=code,
            client_id=client_id,
            name=name,
            brandname=brandname,
            message=message,
            schedule_time=schedule_time,
            schedule_ts=schedule_ts,
            quota=quota,
            segments=segments(message),
            created_at=self.clock.now(),
        )
        return 200, {"CampaignCode": code}

    def _schedule(self, value: Any) -> tuple[str, float]:
        try:
            parsed = datetime.strptime(str(value), fpt.SCHEDULE_FORMAT)
        except ValueError:
            raise FptReject(1014) from None
        stamp = parsed.replace(tzinfo=fpt.VN_TZ).timestamp()
        if self.config.enforce_windows:
            moment = parsed.time()
            if not any(start <= moment <= end for start, end in SEND_WINDOWS):
                raise FptReject(1014)
            if stamp <= self.clock.now():
                raise FptReject(1014)
        return parsed.strftime(fpt.SCHEDULE_FORMAT), stamp

    def _campaign(self, token: _Token, code: Any) -> Campaign:
        campaign = self.campaigns.get(code) if isinstance(code, str) else None
        if campaign is None or campaign.client_id != token.client.client_id:
            raise FptReject(1014)
        return campaign

    def decision(self, campaign: Campaign) -> tuple[str, str | None, float]:
        """(pending | approved | rejected, reason, decided_at) as of now."""
        decided_at = campaign.created_at + self.config.approval_delay
        if self.clock.now() < decided_at:
            return "pending", None, decided_at
        word = campaign.blocked_word(self.config.blocked_words)
        if word:  # StatusDetail[Reason] "Reasons for not being approved" (line 725): the manual gives no text
            if self.config.error_texts == "vi":
                return "rejected", f"Nội dung chứa từ khóa bị chặn: {word}", decided_at
            return "rejected", f"Content contains a blocked keyword: {word}", decided_at
        return "approved", None, decided_at

    def sent_at(self, campaign: Campaign) -> float | None:
        state, _, decided_at = self.decision(campaign)
        if state != "approved":
            return None
        if self.config.send_delay is not None:
            return decided_at + self.config.send_delay
        return max(campaign.schedule_ts, decided_at)

    def is_sent(self, campaign: Campaign) -> bool:
        sent_at = self.sent_at(campaign)
        return sent_at is not None and self.clock.now() >= sent_at

    def push_campaign(self, body: dict[str, Any]) -> Reply:
        try:
            token = self._authorise(body, fpt.SCOPE_QC)
            self._session_id(body, 1014)
            campaign = self._campaign(token, body.get("CampaignCode"))
            if self.decision(campaign)[0] == "rejected":
                raise FptReject(1014)
            if self.is_sent(campaign):
                raise FptReject(1014, "campaign_sent")
            raw = body.get("PhoneList")
            if not isinstance(raw, str) or not raw.strip():
                raise FptReject(1014)
            accepted = [p for p in map(phones.domestic, raw.split(",")) if p]
            if not accepted:
                raise FptReject(53)
            needed = len(accepted) * campaign.segments
            if campaign.used + needed > campaign.quota:
                raise FptReject(1016)
        except FptReject as reject:
            return self._reply(reject)
        now = self.clock.now()
        campaign.used += needed
        batch_id = f"qc.{PARTNER_ID}.{int(now)}.{next(self._batch_seq)}"
        campaign.batches.append((batch_id, len(accepted)))
        add = self.ledger.add
        for phone in accepted:
            campaign.phones.append(phone)
            campaign.telcos.append(phones.telco(phone))
            add(
                gateway="fpt",
                kind="qc",
                phone=phone,
                message_id=batch_id + phone,
                account=campaign.client_id,
                brandname=campaign.brandname,
                accepted_at=now,
                campaign_code=campaign.code,
                batch_id=batch_id,
                message=campaign.message,
            )
        return 200, {"NumMessageSent": needed, "NumRemainQuota": campaign.quota - campaign.used, "BatchId": batch_id}

    def campaign_detail(self, body: dict[str, Any]) -> Reply:
        try:
            token = self._authorise(body, fpt.SCOPE_QC)
            campaign = self._campaign(token, body.get("CampaignCode"))
        except FptReject as reject:
            return self._reply(reject)
        state, reason, _ = self.decision(campaign)
        return 200, {
            "CampaignCode": campaign.code,
            "Total": str(len(campaign.phones)),
            "Quota": str(campaign.quota),
            "IsSent": "1" if self.is_sent(campaign) else "0",
            "SendingTime": campaign.schedule_time,
            "StatusDetail": {"Status": "1" if state == "approved" else "0", "Reason": reason or ""},
        }

    def delivery_report(self, body: dict[str, Any]) -> Reply:
        """``dlr-ads``: CSV, one row per pushed phone once sent; final statuses after ``dlr_delay``."""
        try:
            token = self._authorise(body, fpt.SCOPE_QC)
            campaign = self._campaign(token, body.get("campaign_code"))
        except FptReject as reject:
            return self._reply(reject)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(DLR_HEADER)
        sent_at = self.sent_at(campaign)
        if sent_at is not None and self.clock.now() >= sent_at:
            final = self.clock.now() >= sent_at + self.config.dlr_delay
            send_time = datetime.fromtimestamp(sent_at, fpt.VN_TZ).strftime("%Y-%m-%d %H:%M:%S")
            done_time = datetime.fromtimestamp(sent_at + self.config.dlr_delay, fpt.VN_TZ).strftime("%Y-%m-%d %H:%M:%S")
            batch_of = self._batch_index(campaign)
            for index, (phone, telco) in enumerate(zip(campaign.phones, campaign.telcos, strict=True)):
                if not final:
                    row = (phone, telco, "2", "", send_time, "", batch_of[index])
                elif delivery_fails(phone, self.config.dlr_failure_rate):
                    row = (phone, telco, "0", "DELIVERY_FAILED", send_time, done_time, batch_of[index])
                else:
                    row = (phone, telco, "1", "", send_time, done_time, batch_of[index])
                writer.writerow(row)
        return 200, out.getvalue()

    @staticmethod
    def _batch_index(campaign: Campaign) -> list[str]:
        return [batch_id for batch_id, count in campaign.batches for _ in range(count)]

    def campaigns_view(self) -> list[dict[str, Any]]:
        view = []
        for c in self.campaigns.values():
            state, reason, _ = self.decision(c)
            view.append(
                {
                    "CampaignCode": c.code,
                    "CampaignName": c.name,
                    "BrandName": c.brandname,
                    "ScheduleTime": c.schedule_time,
                    "Quota": c.quota,
                    "Used": c.used,
                    "Total": len(c.phones),
                    "Batches": len(c.batches),
                    "State": "sent" if self.is_sent(c) else state,
                    "Reason": reason,
                }
            )
        return view
