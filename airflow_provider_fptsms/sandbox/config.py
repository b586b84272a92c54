"""What the sandbox simulates: accounts, delays and rules — all changeable at run time."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from airflow_provider_fptsms.sandbox.error_texts import check_style

DEFAULT_FPT_CLIENT_ID = "sandbox-client"
DEFAULT_FPT_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the public sandbox's demo credential
DEFAULT_FIBO_CLIENT_NO = "CL0000000001"
DEFAULT_FIBO_CLIENT_PASS = "sandbox-pass"  # noqa: S105 - the public sandbox's demo credential

#: how the simulated FPT gateway decides a CSKH send is a duplicate (2501); see ``SandboxConfig.dedupe``
DEDUPE_MODES = ("content", "request-id")
DEDUPE_ENV = "FPTSMS_SANDBOX_DEDUPE"


def _dedupe_from_env() -> str:
    """The default duplicate rule: ``$FPTSMS_SANDBOX_DEDUPE`` or ``content``.

    Read when a config is built, so in-process sandboxes (the pytest fixture builds ``SandboxConfig()``)
    and child processes (``SandboxProcess`` inherits the environment) follow the same variable.
    """
    return os.environ.get(DEDUPE_ENV, "content")


ERROR_TEXTS_ENV = "FPTSMS_SANDBOX_ERROR_TEXTS"
#: GetClientBalance's two reply shapes; see ``SandboxConfig.fibo_balance_style``
FIBO_BALANCE_STYLES = ("seed", "v2")


def _error_texts_from_env() -> str:
    """The default FPT error texts: ``$FPTSMS_SANDBOX_ERROR_TEXTS`` or ``manual`` (read as ``dedupe``'s is)."""
    return os.environ.get(ERROR_TEXTS_ENV, "manual")


def _check_dedupe(value: object) -> None:
    if value not in DEDUPE_MODES:
        raise ValueError(
            f"dedupe must be one of {list(DEDUPE_MODES)} (got {value!r}): 'content' = 2501 only for the same "
            "account + phone + text within duplicate_window (the manual); 'request-id' = also for a reused RequestId"
        )


@dataclass
class FptClient:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ("send_brandname_otp", "send_brandname")
    brandnames: tuple[str, ...] = ("FTI", "SANDBOX")
    #: messages (phones x segments) this account may still reserve for QC campaigns
    ads_quota: int = 100_000_000


@dataclass
class FiboAccount:
    client_no: str
    client_pass: str
    sender_names: tuple[str, ...] = ("FIBO", "SANDBOX")
    balance: Decimal = Decimal(1_000_000)
    price_per_sms: Decimal = Decimal(1)
    #: the client's name, which CheckClient answers as its Message (FIBO_API_V2.md, CheckClient row)
    name: str = "Fibo Sandbox Client"


@dataclass
class SandboxConfig:
    fpt_clients: list[FptClient] = field(
        default_factory=lambda: [FptClient(DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET)]
    )
    fibo_accounts: list[FiboAccount] = field(
        default_factory=lambda: [FiboAccount(DEFAULT_FIBO_CLIENT_NO, DEFAULT_FIBO_CLIENT_PASS)]
    )
    token_ttl: float = 86_400.0
    #: seconds during which FPT refuses a repeat with 2501 ("Duplicate message in 5 minutes", manual section 5)
    duplicate_window: float = 300.0
    #: FPT's duplicate rule (2501) for CSKH sends: ``"content"`` or ``"request-id"``.
    #:
    #: ``"content"`` (default) follows the manual: 2501 is "Duplicate message in 5 minutes"
    #: (seeds/fpt-sms-brandname-api.txt line 779), i.e. the same account sent the same text to the same
    #: phone within ``duplicate_window``. ``RequestId`` is "Value Option (<=100). Client can choose definition
    #: of Value distinguish the sending source, export the report" (lines 280 and 369): a free label, so it is
    #: validated (a string, <= 100 chars) and recorded on the ledger entry, but never a reason to refuse.
    #:
    #: ``"request-id"`` keeps the sandbox's earlier, stricter rule: 2501 for the same content OR for a
    #: RequestId the account used within the window. Nothing in the manual promises it; it is a switch for
    #: testing code against a gateway that would de-duplicate by id.
    #:
    #: The default comes from ``$FPTSMS_SANDBOX_DEDUPE``; CLI ``--dedupe``; PATCH /_sandbox/config ``dedupe``.
    #: Fibo has no such switch: its manuals know only duplicate content (code 6), see ``fibo_sim``.
    dedupe: str = field(default_factory=_dedupe_from_env)
    #: seconds from campaign creation to the telco's decision (approve or reject)
    approval_delay: float = 5.0
    #: when set, a campaign counts as sent this many seconds after approval instead of at ScheduleTime
    send_delay: float | None = None
    #: seconds from sending to a final delivery status (FPT: days; here: seconds)
    dlr_delay: float = 5.0
    #: share of messages whose delivery report ends "failed" (chosen by a hash of the phone, repeatable)
    dlr_failure_rate: float = 0.05
    blocked_words: tuple[str, ...] = ("casino", "cá cược")
    #: reject campaign ScheduleTime outside 08:00-11:30 / 13:30-20:00 Vietnam time, or in the past
    enforce_windows: bool = True
    max_message_chars: int = 612
    #: Fibo reply shape: "escaped" (ASP.NET: <string xmlns=...>&lt;SMS&gt;) or "bare" (as the manual prints).
    #: GET and POST-form replies only: a SOAP ``<MethodResult>`` is an xs:string, always escaped.
    fibo_reply_style: str = "escaped"
    #: GetClientBalance's reply: ``"seed"`` (default), ``<SMS><Code>200</Code><AccountBalance>1641060</AccountBalance>``
    #: as seeds/fibo-sms-api.txt line 66 prints it; ``"v2"``, the v2.0 guide's bare ``<string>529</string>``
    #: (FIBO_API_V2.md, GetClientBalance row: > 0 sendable, 0 none, < 0 wrong serviceType). "Both shapes exist in
    #: the field": a client must read both. CLI ``--fibo-balance-style``; PATCH /_sandbox/config ``fibo_balance_style``.
    fibo_balance_style: str = "seed"
    #: FPT's ``error_description`` texts: ``"manual"`` (default) = the manual's error table (section 5, lines
    #: 762-796) or its sample reply for that situation (e.g. line 529); ``"vi"`` = Vietnamese production-style
    #: texts (1005 ``Scope không hợp lệ cho request này.``, DESIGN.md field notes). See ``error_texts.py``.
    #: Default ``$FPTSMS_SANDBOX_ERROR_TEXTS``; CLI ``--error-texts``; PATCH /_sandbox/config ``error_texts``.
    error_texts: str = field(default_factory=_error_texts_from_env)
    #: FPT's ``session_id`` length. The manual: "Random string of characters (<= 32 characters)" on every call
    #: that takes it (lines 160, 274, 364, 466, 557), yet its own sample session_id has 43 characters
    #: (lines 170, 236, 287, 379, 481, 569) and the Postman example shows it answered "200 OK" (line 241).
    #: ``False`` (default) follows the example: any non-empty string is taken. ``True`` enforces the table's
    #: <= 32 (token: 1001 Invalid Request; the API calls: 1014 Input parameter error), refusing the sample.
    #: Either way session_id is compulsory where the manual lists it (token, CSKH, international, create-campaign,
    #: push-brandname-ads), not on detail-ads / dlr-ads, whose tables (lines 713-715, 744-750) do not list it.
    #: CLI ``--strict-session-id``; PATCH /_sandbox/config ``strict_session_id``.
    strict_session_id: bool = False
    max_body_bytes: int = 16 * 1024 * 1024
    #: when set, each accepted CSKH send is followed (after ``dlr_delay``) by a DLR POSTed here, as FPT does
    dlr_url: str | None = None
    #: the key sent as ``Authorization: Basic <key>`` with those DLRs (never shown by the admin API)
    dlr_key: str | None = field(default=None, repr=False)

    #: scalar settings changeable through PATCH /_sandbox/config
    TUNABLE = (
        "token_ttl",
        "duplicate_window",
        "dedupe",
        "approval_delay",
        "send_delay",
        "dlr_delay",
        "dlr_failure_rate",
        "blocked_words",
        "enforce_windows",
        "max_message_chars",
        "fibo_reply_style",
        "fibo_balance_style",
        "error_texts",
        "strict_session_id",
        "dlr_url",
        "dlr_key",
    )
    #: tunable but secret: ``public()`` shows only whether it is set
    SECRET = ("dlr_key",)

    def __post_init__(self) -> None:
        _check_dedupe(self.dedupe)
        check_style(self.error_texts)

    def update(self, changes: dict[str, Any]) -> None:
        unknown = sorted(set(changes) - set(self.TUNABLE))
        if unknown:
            raise ValueError(f"unknown or read-only settings {unknown}; tunable: {list(self.TUNABLE)}")
        if changes.get("fibo_reply_style", self.fibo_reply_style) not in ("escaped", "bare"):
            raise ValueError("fibo_reply_style must be 'escaped' or 'bare'")
        if "dedupe" in changes:
            _check_dedupe(changes["dedupe"])
        if "error_texts" in changes:
            check_style(changes["error_texts"])
        if changes.get("fibo_balance_style", self.fibo_balance_style) not in FIBO_BALANCE_STYLES:
            raise ValueError(f"fibo_balance_style must be one of {list(FIBO_BALANCE_STYLES)}")
        if not isinstance(changes.get("strict_session_id", False), bool):
            raise ValueError("strict_session_id must be true or false")
        url = changes.get("dlr_url")
        if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
            raise ValueError("dlr_url must be an http(s) URL or null")
        if changes.get("dlr_key") is not None and not isinstance(changes["dlr_key"], str):
            raise ValueError("dlr_key must be a string or null")
        for key, value in changes.items():
            if key == "blocked_words":
                value = tuple(str(word) for word in value)
            setattr(self, key, value)

    def public(self) -> dict[str, Any]:
        """Settings without any credential (safe to show on the admin API)."""
        shown = {key: getattr(self, key) for key in self.TUNABLE}
        for key in self.SECRET:
            shown[key] = "***" if shown[key] else None
        return shown

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


class Clock:
    """Wall clock plus an adjustable offset, so tests can jump to a campaign's ScheduleTime."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def set(self, timestamp: float) -> None:
        self.offset = timestamp - time.time()
