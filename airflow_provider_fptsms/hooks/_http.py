"""What both hooks share: a header-clean keep-alive session, retries, host failover, masking."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests
import tenacity
from requests.adapters import HTTPAdapter

from airflow_provider_fptsms.gateways.errors import InvalidInputError, NetworkError, SmsError

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
            item = f"{schema or 'https'}://{item}"
        if index == 0 and port and item.count(":") < 2:
            item = f"{item}:{port}"
        urls.append(item)
    return urls


def new_session(pool_size: int = 32, verify: bool = True) -> requests.Session:
    """A keep-alive session. Unlike ``HttpHook.get_conn`` it copies no connection extra into headers."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify
    return session


def network_error(exc: requests.RequestException, gateway: str, url: str) -> NetworkError:
    """A transport failure, typed; a refused connection is the only one known not to have been sent."""
    error = NetworkError(
        f"{type(exc).__name__} talking to {url}",
        gateway=gateway,
        code="network",
        next_step="retry; if it persists check the host, DNS and firewall",
    )
    error.request_sent = not isinstance(exc, requests.ConnectTimeout) and not _refused(exc)
    return error


def _refused(exc: requests.RequestException) -> bool:
    text = repr(exc)
    return isinstance(exc, requests.ConnectionError) and (
        "ConnectionRefused" in text or "NewConnectionError" in text or "NameResolution" in text
    )


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
    should_retry = retry_if or (lambda exc: isinstance(exc, SmsError) and exc.retryable)
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(should_retry),
        stop=tenacity.stop_after_attempt(max(1, max_attempts)),
        wait=tenacity.wait_random_exponential(multiplier=backoff, max=max(backoff * 32, backoff)),
        before_sleep=_log_retry,
        reraise=True,
    )
    return retrying(call)


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("Attempt %d failed (%s); retrying", state.attempt_number, exc)
