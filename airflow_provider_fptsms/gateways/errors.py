"""One typed error hierarchy for both gateways.

Every failure a caller can see — a gateway error code, an unreadable reply, or bad
input caught before any call — is an :class:`SmsError`.  Callers branch on the class
(``except QuotaError``) or on ``error.retryable``; humans read ``str(error)``, which
always names the gateway, the code, the manual's description and a next step.
"""

from __future__ import annotations

from typing import Any


class SmsError(Exception):
    """Base class: a gateway refused, failed, or we refused to call it."""

    retryable: bool = False

    def __init__(
        self,
        description: str,
        *,
        gateway: str = "",
        code: int | str | None = None,
        next_step: str = "",
        gateway_text: str | None = None,
        raw: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.description = description
        self.gateway = gateway
        self.code = code
        self.next_step = next_step
        #: what the gateway itself said (often Vietnamese); kept verbatim.
        self.gateway_text = gateway_text
        #: the raw reply (already free of secrets: replies never echo them), truncated.
        self.raw = raw[:500] if raw else raw
        self.http_status = http_status
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.gateway} error {self.code}" if self.code is not None else f"{self.gateway} error"
        head = head.strip() if self.gateway else ("error" if self.code is None else f"error {self.code}")
        text = f"{head}: {self.description}"
        if self.gateway_text and self.gateway_text.strip() != self.description:
            text += f" (gateway said: {self.gateway_text.strip()!r})"
        if self.next_step:
            text += f". Next step: {self.next_step}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: make errors survive pickling (multiprocessing, executors).
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[SmsError], state: dict[str, Any]) -> SmsError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._render())
    return error


class RetryableError(SmsError):
    """Transient: the same request may succeed later (network, 5xx, gateway busy)."""

    retryable = True


class NetworkError(RetryableError):
    """The gateway could not be reached, or its reply was lost on the way back.

    ``request_sent`` is True when the request may have reached the gateway (a dropped
    connection or a timeout after sending): the delivery model then treats the outcome as
    unknown. ``timed_out`` is True when no answer came in time (the gateway may still be working).
    Both are set by the transport code from the exception's class, never from its text.
    """

    request_sent: bool = False
    timed_out: bool = False


class GatewayBusyError(RetryableError):
    """The gateway said it processed nothing and to come back later (FPT 1007): a refusal, safe to retry."""


class GatewayUnreachableError(NetworkError):
    """A bulk send stopped early: too many consecutive calls in a row never reached a working gateway."""


class PermanentError(SmsError):
    """Retrying the same request cannot help; something must change first."""


class AuthError(PermanentError):
    """Credentials, scopes or permissions are wrong."""


class TokenError(AuthError):
    """The access token is invalid, replaced or expired: fetch a new one, then replay once."""


class AccountError(PermanentError):
    """The account exists but is not usable (not activated, expired, not provisioned)."""


class QuotaError(PermanentError):
    """Quota or prepaid balance is exhausted or not configured."""


class DuplicateMessageError(PermanentError):
    """The gateway already accepted this message (FPT 2501/1): for an idempotent retry, success."""


class InvalidPhoneError(PermanentError):
    """The recipient number is malformed, unknown or blocked."""


class ContentError(PermanentError):
    """Message content refused: template not registered, blocked keyword, too long, encoding."""


class BrandnameError(PermanentError):
    """The brandname / sender name is not registered, not activated or locked."""


class InvalidRequestError(PermanentError):
    """The gateway rejected the request's parameters (FPT 1001/1014, Fibo 11...)."""


class CampaignNameTakenError(InvalidRequestError):
    """FPT refused a campaign name that is already used by this account (names are single-use)."""


class MalformedReplyError(PermanentError):
    """The gateway's reply could not be read (HTML error page, truncated JSON, XML bomb...)."""


class UnknownGatewayError(PermanentError):
    """A code that is in neither manual; ``raw`` keeps the reply for support."""


#: Errors that would fail every message of a batch alike: a bulk send stops instead of burning through it.
BATCH_FATAL: tuple[type[SmsError], ...] = (AuthError, AccountError, BrandnameError, QuotaError)


class InvalidInputError(SmsError, ValueError):
    """Our own validation refused the input before any call was made.

    ``field`` names the argument; ``value`` must already be masked when it is a phone
    number or a secret (see :func:`mask_phone`).
    """

    def __init__(self, field: str, value: object, problem: str, next_step: str = "") -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r}: {problem}", gateway="", next_step=next_step)

    def _render(self) -> str:
        text = f"invalid {self.description}"
        if self.next_step:
            text += f". Next step: {self.next_step}"
        return text


def mask_phone(phone: object) -> str:
    """``84912345678`` -> ``84912***678``: enough to recognise a row, not to dial it."""
    text = str(phone)
    if len(text) <= 6:
        return "***"
    keep_head = min(5, len(text) - 6)
    return f"{text[:keep_head]}***{text[-3:]}"


def mask_phones(phones: list[str]) -> list[str]:
    """:func:`mask_phone` of many numbers at once, the common ``84xxxxxxxxx`` inline (a push report masks
    millions, and the call per number would double its cost)."""
    return [f"{p[:5]}***{p[-3:]}" if len(p) == 11 else mask_phone(p) for p in phones]


class ErrorSpec:
    """One row of a manual's error table: the codes that share a meaning, and what to do.

    Some codes are generic (FPT 1014 "Input parameter error" covers a taken campaign name and a
    campaign already sent): ``by_text`` lists ``(fragment, next step)`` pairs, and the first fragment
    found in the gateway's own text (case-insensitive) picks the next step; ``next_step`` is the
    fallback. The hint must fit what the gateway said, not just the code.
    """

    __slots__ = ("by_text", "codes", "description", "error_class", "next_step")

    def __init__(
        self,
        codes: tuple[int, ...],
        description: str,
        error_class: type[SmsError],
        next_step: str,
        by_text: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.codes = codes
        self.description = description
        self.error_class = error_class
        self.next_step = next_step
        self.by_text = tuple((fragment.lower(), step) for fragment, step in by_text)

    def next_step_for(self, gateway_text: str | None) -> str:
        """The next step that fits the gateway's text, else the row's general one."""
        said = (gateway_text or "").lower()
        return next((step for fragment, step in self.by_text if fragment in said), self.next_step)

    def __repr__(self) -> str:
        return f"ErrorSpec({self.codes}, {self.description!r}, {self.error_class.__name__})"


class ErrorTable:
    """Code -> :class:`ErrorSpec` lookup for one gateway, and the factory for its errors."""

    def __init__(self, gateway: str, specs: tuple[ErrorSpec, ...]) -> None:
        self.gateway = gateway
        self.specs = specs
        self._by_code: dict[int, ErrorSpec] = {}
        for spec in specs:
            for code in spec.codes:
                if code in self._by_code:
                    raise ValueError(f"{gateway} error table lists code {code} twice")
                self._by_code[code] = spec

    def __contains__(self, code: object) -> bool:
        return _as_code(code) in self._by_code

    def spec(self, code: object) -> ErrorSpec | None:
        parsed = _as_code(code)
        return None if parsed is None else self._by_code.get(parsed)

    def error(
        self,
        code: object,
        gateway_text: str | None = None,
        *,
        raw: str | None = None,
        http_status: int | None = None,
        context: str = "",
    ) -> SmsError:
        """Build the typed error for ``code``; unknown codes keep the raw reply."""
        spec = self.spec(code)
        parsed = _as_code(code)
        shown_code: int | str | None = parsed if parsed is not None else (str(code) if code else None)
        if spec is None:
            cls: type[SmsError] = UnknownGatewayError
            if http_status is not None and http_status >= 500:
                cls = RetryableError
            return cls(
                gateway_text or "code not in the gateway manual",
                gateway=self.gateway,
                code=shown_code,
                next_step="keep the raw reply and ask the gateway's support what this code means",
                gateway_text=gateway_text,
                raw=raw,
                http_status=http_status,
            )
        next_step = f"{spec.next_step_for(gateway_text)} {context}".strip()
        return spec.error_class(
            spec.description,
            gateway=self.gateway,
            code=shown_code,
            next_step=next_step,
            gateway_text=gateway_text,
            raw=raw,
            http_status=http_status,
        )


def _as_code(code: object) -> int | None:
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str):
        try:
            return int(code.strip())
        except ValueError:
            return None
    return None
