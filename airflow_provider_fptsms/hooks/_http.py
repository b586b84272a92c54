"""What both hooks share: a header-clean keep-alive session, retries, host failover, masking."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import requests
import tenacity
from requests.adapters import HTTPAdapter

from airflow_provider_fptsms.delivery import CircuitBreaker, classify, may_replay
from airflow_provider_fptsms.gateways.errors import GatewayUnreachableError, InvalidInputError, NetworkError, SmsError
from airflow_provider_fptsms.gateways.fibo import redact_url

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Connection-extra keys that belong to this provider and must never become HTTP headers.
PROVIDER_EXTRAS = frozenset(
    {
        "scopes",
        "brandname",
        "sender_name",
        "timeout",
        "fallback_hosts",
        "service_path",
        "max_attempts",
        "backoff",
        "pool_size",
        "verify",
    }
)


@dataclass(frozen=True)
class GatewaySettings:
    """What a connection says, read and checked once per hook (secrets kept out of ``repr``)."""

    conn_id: str
    urls: tuple[str, ...]
    login: str
    password: str = field(repr=False)
    extra: dict[str, Any] = field(repr=False)
    timeout: float
    max_attempts: int
    backoff: float
    verify: bool


S = TypeVar("S", bound=GatewaySettings)


def read_settings(
    cls: type[S], conn: Any, *, conn_id_field: str, conn_type: str, login_means: str, password_means: str
) -> S:
    """Check a connection before any call: right type, credentials present, a host."""
    if conn.conn_type not in (conn_type, None, ""):
        raise InvalidInputError(
            conn_id_field,
            conn.conn_id,
            f"is a {conn.conn_type!r} connection, not {conn_type!r}",
            f"point {conn_id_field} at a connection of type {conn_type}",
        )
    if not conn.login:
        raise InvalidInputError("login", conn.login, "is empty", f"set the connection login to the {login_means}")
    if not conn.password:
        raise InvalidInputError("password", "***", "is empty", f"set the connection password to the {password_means}")
    extra = connection_extras(conn)
    backoff = extra.get("backoff")
    return cls(
        conn_id=conn.conn_id,
        urls=tuple(base_urls(conn.host, conn.schema, conn.port, extra.get("fallback_hosts"))),
        login=conn.login,
        password=conn.password,
        extra=extra,
        timeout=float(extra.get("timeout") or 30),
        max_attempts=int(extra.get("max_attempts") or 5),
        backoff=float(0.5 if backoff is None else backoff),
        verify=bool(extra.get("verify", True)),
    )


def connection_extras(conn: Any) -> dict[str, Any]:
    """The connection's extras, with only possible secrets registered with the masker.

    ``Connection.extra_dejson`` hands every extra to the masker, which warns "Skipping masking for a
    secret as it's too short" for a brandname such as ``FTI``: none of this provider's extras is a
    secret, so only the others (a header a user added, say) are registered, under their own key.
    """
    import json

    try:
        extra = json.loads(conn.extra) if conn.extra else {}
    except ValueError:
        raise InvalidInputError(
            "extra", "<not JSON>", "is not a JSON object", "write the connection's extra as JSON, e.g. {}"
        ) from None
    if not isinstance(extra, dict):
        raise InvalidInputError("extra", type(extra).__name__, "is not a JSON object", "write it as {...}")
    for key, value in extra.items():
        if key not in PROVIDER_EXTRAS and value not in (None, ""):
            mask(value, name=key)
    return extra


def mask(secret: Any, *, name: str | None = None) -> None:
    """Register a secret with Airflow's masker so it never shows in task logs; with ``name``, only if
    Airflow deems that name sensitive (``password``, ``api_key``, ...)."""
    if secret is None or secret == "":
        return
    from airflow.sdk.log import mask_secret  # every supported line has it; a failure here must not go unseen

    mask_secret(secret if name is None else {name: secret})


def retry_policy(
    *, max_attempts: int, backoff: float, retry_if: Callable[[BaseException], bool] | None = None
) -> dict[str, Any]:
    """Tenacity arguments shared by sync and async hooks: retryable errors only, backoff with jitter."""
    should_retry = retry_if or (lambda exc: isinstance(exc, SmsError) and exc.retryable)
    return {
        "retry": tenacity.retry_if_exception(should_retry),
        "stop": tenacity.stop_after_attempt(max(1, max_attempts)),
        "wait": tenacity.wait_random_exponential(multiplier=backoff, max=max(backoff * 32, backoff)),
        "before_sleep": _log_retry,
        "reraise": True,
    }


def replayable(replay_safe: bool, breaker: CircuitBreaker | None = None) -> Callable[[BaseException], bool]:
    """Retry rule, from the delivery model: refusals that may pass are retried; an unknown outcome
    only when a replay cannot duplicate (``replay_safe``); nothing once the breaker is open."""

    def retry_if(exc: BaseException) -> bool:
        if breaker is not None:
            breaker.record(exc)
            if breaker.open:
                return False
        return may_replay(classify(exc), replay_safe=replay_safe)

    return retry_if


class RedactQueryStrings(logging.Filter):
    """urllib3 logs every request line at DEBUG, query string included: Fibo's has the password and phone."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        return True


def install_url_redaction() -> None:
    """Idempotent: one filter on urllib3's request logger for the whole process."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
        logger.addFilter(RedactQueryStrings())


def base_urls(host: str | None, schema: str | None, port: int | None, fallback_hosts: Any) -> list[str]:
    """The connection host first, then ``fallback_hosts`` (list or comma-separated string)."""
    if not host:
        raise InvalidInputError("host", host, "is empty", "set the connection host, e.g. https://app.sms.fpt.net")
    fallbacks = fallback_hosts.split(",") if isinstance(fallback_hosts, str) else list(fallback_hosts or [])
    urls = []
    for index, item in enumerate([host, *fallbacks]):
        item = str(item).strip().rstrip("/")
        if not item:
            continue
        if "://" not in item:
            scheme = schema or "https"
            log.warning(
                "Connection host %r has no scheme: using %s://%s. Write http:// in the host for a plain-HTTP "
                "gateway (the sandbox), https:// to make it explicit.",
                item,
                scheme,
                item,
            )
            item = f"{scheme}://{item}"
        if index == 0 and port and item.count(":") < 2:
            item = f"{item}:{port}"
        urls.append(item)
    return urls


class GatewayHookMixin:
    """What the sync hooks share: a header-clean keep-alive session, host rotation, typed transport errors,
    and the connection form metadata. Mixed in before ``HttpHook`` so ``get_conn`` is ours."""

    conn_name_attr: str
    conn_type: str
    gateway: str

    @property
    def settings(self) -> GatewaySettings:
        raise NotImplementedError

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_provider_fptsms.get_provider_info import connection_type

        return dict(connection_type(cls.conn_type)["ui-field-behaviour"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.conn_name_attr}={getattr(self, self.conn_name_attr)!r})"

    @cached_property
    def _session(self) -> requests.Session:
        return new_session(verify=self.settings.verify)

    @cached_property
    def _hosts(self) -> HostRotation:
        return HostRotation(self.settings.urls)

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> Any:
        """The keep-alive session (no connection extra is ever sent as a header)."""
        return self._session

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange with the current host; moves to the next host after a network error or a 5xx."""
        base = self._hosts.current
        url = base + path
        try:
            reply = self._session.request(method, url, timeout=self.settings.timeout, **kwargs)
        except requests.RequestException as exc:
            self._hosts.failed(base)
            raise requests_error(exc, self.gateway, url) from None  # the exception text may hold secrets
        if reply.status_code >= 500:
            self._hosts.failed(base)
        return reply


def new_session(pool_size: int = 32, verify: bool = True) -> requests.Session:
    """A keep-alive session. Unlike ``HttpHook.get_conn`` it copies no connection extra into headers."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify
    return session


def network_error(exc: Exception, gateway: str, url: str, *, request_sent: bool, timed_out: bool) -> NetworkError:
    """A transport failure, typed; the caller says, from the exception's class, whether it left.

    The original exception's text is dropped on purpose: for Fibo it contains the password.
    """
    error = NetworkError(
        f"{type(exc).__name__} talking to {url}",
        gateway=gateway,
        code="network",
        next_step="retry; if it persists check the host, the scheme (http:// or https://), DNS and firewall",
    )
    error.request_sent = request_sent
    error.timed_out = timed_out
    return error


def requests_error(exc: requests.RequestException, gateway: str, url: str) -> NetworkError:
    """Classify a ``requests`` failure by class: never connected (refused, DNS, connect timeout) vs sent."""
    never_left = isinstance(exc, requests.ConnectTimeout) or _never_connected(exc)
    timed_out = isinstance(exc, requests.Timeout)
    return network_error(exc, gateway, url, request_sent=not never_left, timed_out=timed_out)


def _never_connected(exc: BaseException) -> bool:
    """urllib3 wraps "could not open a connection" as NewConnectionError (NameResolutionError is one too)."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        reason = current.reason if isinstance(current, MaxRetryError) else None
        inner = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = reason or inner or current.__cause__ or current.__context__
    return False


def unreachable(breaker: CircuitBreaker, gateway: str, url: str) -> GatewayUnreachableError:
    """One error for a bulk send the breaker stopped: names the host, its scheme and what to check."""
    scheme = url.split("://", 1)[0]
    last = breaker.last_error
    error = GatewayUnreachableError(
        f"{breaker.consecutive} calls in a row to {url} failed without an answer from {gateway} "
        f"(last: {last.description if last else 'unknown'}); stopped instead of retrying every message",
        gateway=gateway,
        code="unreachable",
        next_step=(
            f"check the connection host and port, and the scheme: {scheme}:// is used "
            "(write http:// for a plain-HTTP gateway such as the sandbox); then DNS, firewall and credentials. "
            "A retry sends only what was not sent"
        ),
    )
    error.request_sent = False
    return error


class HostRotation:
    """Which base URL to use now; moves to the next one after a connection error or a 5xx."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self._index = 0
        self._lock = threading.Lock()

    @property
    def current(self) -> str:
        return self.urls[self._index % len(self.urls)]

    def failed(self, url: str) -> None:
        with self._lock:
            if len(self.urls) > 1 and self.current == url:
                self._index += 1
                log.warning("Switching from %s to %s after a failure", url, self.current)


def with_retries(
    call: Callable[[], T],
    *,
    max_attempts: int,
    backoff: float,
    retry_if: Callable[[BaseException], bool] | None = None,
) -> T:
    """Retry ``call`` on retryable errors only: bounded attempts, exponential backoff with jitter."""
    return tenacity.Retrying(**retry_policy(max_attempts=max_attempts, backoff=backoff, retry_if=retry_if))(call)


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("Attempt %d failed (%s); retrying", state.attempt_number, exc)
