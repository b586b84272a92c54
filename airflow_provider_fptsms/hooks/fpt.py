"""``FptSmsHook``: the FPT SMS Brandname API from Airflow (or a notebook) with one connection id.

It owns the I/O the protocol layer leaves out: a keep-alive session, the OAuth2 token cache
(shared by threads, refreshed before expiry and once on 1011/1012/1013), retries for
retryable errors only, failover between hosts, and masking of secrets and phones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import requests
from airflow.providers.http.hooks.http import HttpHook

from airflow_provider_fptsms._compat import connection_form_widgets, ui_field_behaviour
from airflow_provider_fptsms.delivery import Outcome, classify
from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.gateways.errors import (
    DuplicateMessageError,
    InvalidInputError,
    SmsError,
    TokenError,
    mask_phone,
)
from airflow_provider_fptsms.hooks._http import (
    GatewayHookMixin,
    GatewaySettings,
    mask,
    read_settings,
    replayable,
    requests_error,
    with_retries,
)
from airflow_provider_fptsms.hooks.results import SendResult
from airflow_provider_fptsms.sms.phones import normalise

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Refresh a token this long before FPT says it expires.
REFRESH_MARGIN = 300.0


class FptSettings(GatewaySettings):
    """A ``fptsms`` connection: login = client_id, password = client_secret, extras below."""

    @property
    def client_id(self) -> str:
        return self.login

    @property
    def client_secret(self) -> str:
        return self.password

    @cached_property  # read on every call of a bulk send: parse the extra once
    def scopes(self) -> tuple[str, ...]:
        scopes = self.extra.get("scopes") or fpt.DEFAULT_SCOPES
        if isinstance(scopes, str):
            scopes = scopes.replace(",", " ").split()
        return tuple(scopes)

    @property
    def brandname(self) -> str | None:
        return self.extra.get("brandname") or None

    @cached_property
    def token_key(self) -> TokenKey:
        return (self.urls[0], self.client_id, self.scopes)


def fpt_settings(conn: Any) -> FptSettings:
    settings = read_settings(
        FptSettings,
        conn,
        conn_id_field="fpt_conn_id",
        conn_type="fptsms",
        login_means="client_id",
        password_means="client_secret",  # noqa: S106 - a label, not a secret
    )
    mask(settings.password)
    if "fallback_hosts" not in settings.extra:
        twin = production_twin(settings.urls[0])
        if twin:
            settings = dataclasses.replace(settings, urls=(*settings.urls, twin))
    return settings


#: FPT's two equivalent production domains ("these two domains are similar, supporting each other").
PRODUCTION_HOSTS = ("app.sms.fpt.net", "service.sms.fpt.net")


def production_twin(url: str) -> str | None:
    """``https://app.sms.fpt.net`` -> ``https://service.sms.fpt.net`` (and back): the default failover host."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if host not in PRODUCTION_HOSTS:
        return None
    other = PRODUCTION_HOSTS[1 - PRODUCTION_HOSTS.index(host)]
    return f"{scheme}://{other}{rest[len(host) :]}"


@dataclass
class CachedToken:
    value: str = field(repr=False)
    session_id: str
    expires_at: float


TokenKey = tuple[str, str, tuple[str, ...]]  # (host, client_id, scopes)


class _TokenCache:
    """Process-wide tokens per (host, client_id, scopes): one fetch at a time per key, no stampede.

    Each key keeps one ``session_id`` for the process, so parallel workers (other processes)
    never replace each other's tokens (FPT 1012 is per client + session).
    """

    def __init__(self) -> None:
        self._tokens: dict[TokenKey, CachedToken] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}
        self._async_locks: dict[tuple[int, TokenKey], asyncio.Lock] = {}
        self._guard = threading.Lock()

    def fresh(self, key: TokenKey) -> CachedToken | None:
        """The cached token for ``key`` if it is not about to expire (no lock: a read of one dict entry)."""
        token = self._tokens.get(key)
        if token is not None and token.expires_at - REFRESH_MARGIN > time.monotonic():
            return token
        return None

    def _store(self, key: TokenKey, session_id: str, fetched: fpt.Token) -> CachedToken:
        token = CachedToken(fetched.access_token, session_id, time.monotonic() + fetched.expires_in)
        self._tokens[key] = token
        return token

    def _session_id(self, key: TokenKey) -> str:
        token = self._tokens.get(key)
        return token.session_id if token else fpt.new_session_id()

    def get(self, key: TokenKey, fetch: Callable[[str], fpt.Token]) -> CachedToken:
        token = self.fresh(key)
        if token is not None:
            return token
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            # another thread may have refreshed while we waited
            token = self.fresh(key)
            if token is None:
                session_id = self._session_id(key)
                token = self._store(key, session_id, fetch(session_id))
            return token

    async def aget(self, key: TokenKey, fetch: Callable[[str], Awaitable[fpt.Token]]) -> CachedToken:
        """The same cache for triggers and async bulk sends: one fetch per key and event loop."""
        token = self.fresh(key)
        if token is not None:
            return token
        with self._guard:
            lock = self._async_locks.setdefault((id(asyncio.get_running_loop()), key), asyncio.Lock())
        async with lock:
            token = self.fresh(key)
            if token is None:
                session_id = self._session_id(key)
                token = self._store(key, session_id, await fetch(session_id))
            return token

    def invalidate(self, key: TokenKey, token: CachedToken) -> None:
        """Forget ``token`` unless another caller already replaced it (never blocks: safe in async code)."""
        if self._tokens.get(key) is token:
            token.expires_at = 0.0

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()


TOKENS = _TokenCache()


class FptSmsHook(GatewayHookMixin, HttpHook):
    """Talk to FPT SMS Brandname.

    :param fpt_conn_id: a ``fptsms`` connection: host = base URL, login = client_id,
        password = client_secret; extra ``brandname``, ``scopes``, ``fallback_hosts``, ``timeout``,
        ``max_attempts``, ``backoff``.
    """

    conn_name_attr = "fpt_conn_id"
    default_conn_name = "fptsms_default"
    conn_type = "fptsms"
    hook_name = "FPT SMS Brandname"
    gateway = fpt.GATEWAY

    def __init__(self, fpt_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(method="POST", http_conn_id=fpt_conn_id, **kwargs)
        self.fpt_conn_id = fpt_conn_id

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The form's extra fields on Airflow 3.0/3.1, from ``conn-fields`` (3.2+ read those itself)."""
        return connection_form_widgets(cls.conn_type)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Labels, hidden fields, placeholders on Airflow 3.0/3.1 (3.2+ read ``ui-field-behaviour`` itself).

        Defined here, not in the mixin: those lines only call the methods a hook class defines itself."""
        return ui_field_behaviour(cls.conn_type)

    # ------------------------------------------------------------------ connection

    @cached_property
    def settings(self) -> FptSettings:
        return fpt_settings(self.get_connection(self.fpt_conn_id))

    # ------------------------------------------------------------------ plumbing

    def _fetch_token(self, session_id: str) -> fpt.Token:
        s = self.settings
        with scope_hint(s.scopes):
            token = self._post(fpt.token_request(s.client_id, s.client_secret, s.scopes, session_id), fpt.parse_token)
        mask(token.access_token)
        return token

    def _token(self) -> CachedToken:
        return TOKENS.get(self.settings.token_key, self._fetch_token)

    def get_token(self, scope: str | None = None) -> str:
        """A valid access token (cached for the process, shared by threads)."""
        if scope is not None and scope not in self.settings.scopes:
            raise InvalidInputError(
                "scope",
                scope,
                f"is not in the connection's scopes {list(self.settings.scopes)}",
                "add it to the connection extra 'scopes'",
            )
        return self._token().value

    def _post(self, request: fpt.FptRequest, parse: Callable[[int, bytes], T]) -> T:
        reply = self._send("POST", request.path, json=request.body)
        return parse(reply.status_code, reply.content)

    def _call(
        self,
        build: Callable[[str, str], fpt.FptRequest],
        parse: Callable[[int, bytes], T],
        *,
        replay_safe: bool,
        exchange: Callable[[fpt.FptRequest, Callable[[int, bytes], T]], T] | None = None,
        replays: Replays | None = None,
    ) -> T:
        """Authenticated call: replay once with a fresh token on 1011/1012/1013, retry what may be retried.

        The delivery model decides what may go again (:func:`~airflow_provider_fptsms.delivery.may_replay`):
        refusals that may pass always; an unknown outcome only when ``replay_safe`` (reads, and CSKH
        sends, which FPT's 5-minute duplicate rule makes safe). ``replays`` notes attempts that may
        have landed, so a 2501 on a later attempt can be read as "ours landed".
        """

        send = exchange or self._post

        def attempt() -> T:
            token = self._token()
            try:
                try:
                    return send(build(token.value, token.session_id), parse)
                except TokenError:
                    TOKENS.invalidate(self.settings.token_key, token)
                    fresh = self._token()
                    return send(build(fresh.value, fresh.session_id), parse)
            except SmsError as error:
                if replays is not None:
                    replays.note(error)
                raise

        s = self.settings
        return with_retries(attempt, max_attempts=s.max_attempts, backoff=s.backoff, retry_if=replayable(replay_safe))

    def _brandname(self, brandname: str | None) -> str:
        chosen = brandname or self.settings.brandname
        if not chosen:
            raise InvalidInputError(
                "brandname", chosen, "is not set", "pass brandname= or set the connection extra 'brandname'"
            )
        return chosen

    # ------------------------------------------------------------------ CSKH

    def send_cskh(
        self,
        phone: str,
        message: str,
        *,
        brandname: str | None = None,
        request_id: str | None = None,
        international: bool = False,
        replaying: bool = False,
    ) -> SendResult:
        """Send one customer-care message; returns a :class:`SendResult` (``sent`` or ``already_sent``).

        Safe to replay inside the call (5xx, 1007, lost reply): FPT refuses the same text to the same
        phone for 5 minutes, so a 2501 after an attempt that may have landed means it did
        (``already_sent``). A 2501 on the first attempt means the phone already holds this text from
        someone else: :class:`DuplicateMessageError` is raised, nothing was sent.

        :param phone: the recipient, in any spelling ``normalise`` accepts (invalid numbers fail before any call).
        :param message: the text, sent as UTF-8.
        :param brandname: overrides the connection extra ``brandname``.
        :param request_id: FPT's RequestId (<= 100 chars), a label for tracing and reports; one is made
            per call when omitted. No guarantee rests on FPT honouring it.
        :param international: use FPT's international endpoint (numbers with country code).
        :param replaying: this call repeats an earlier attempt whose outcome was unknown (a 2501 then
            means the earlier attempt landed).
        """
        chosen = self._brandname(brandname)
        phone = normalise(phone, international=international)  # bad numbers fail here, before any call
        request_id = request_id or new_request_id()
        replays = Replays(replaying)
        try:
            receipt = self._call(
                lambda token, session: fpt.cskh_request(
                    token, session, chosen, phone, message, request_id, international=international
                ),
                fpt.parse_cskh,
                replay_safe=True,
                replays=replays,
            )
        except DuplicateMessageError:
            if not replays.replaying:
                raise
            log.info("CSKH to %s was accepted by an earlier attempt (RequestId %s)", mask_phone(phone), request_id)
            return SendResult.reconciled(phone, request_id)
        log.info("CSKH to %s accepted: MessageId %s (%s)", mask_phone(phone), receipt.message_id, receipt.telco)
        return SendResult.ok(phone, request_id, receipt.message_id, receipt.telco)

    # ------------------------------------------------------------------ QC campaigns

    def create_campaign(
        self, name: str, message: str, schedule_time: str | datetime, quota: int, *, brandname: str | None = None
    ) -> str:
        """Create a QC campaign; returns its CampaignCode. Not replayed once it may have reached FPT."""
        chosen = self._brandname(brandname)
        code = self._call(
            lambda token, session: fpt.create_campaign_request(
                token, session, name, chosen, message, schedule_time, quota
            ),
            fpt.parse_campaign_created,
            replay_safe=False,
        )
        log.info("Created QC campaign %r: %s (quota %d)", name, code, quota)
        return code

    def push_campaign(self, campaign_code: str, phones: Sequence[str]) -> fpt.PushReceipt:
        """Push one chunk of phones; returns the receipt (messages charged, quota left, BatchId).

        Not replayed once it may have reached FPT: the caller reconciles with ``detail-ads`` Total.
        """
        chunk = [normalise(p) for p in phones]
        receipt = self._call(
            lambda token, session: fpt.push_campaign_request(token, session, campaign_code, chunk),
            fpt.parse_push,
            replay_safe=False,
        )
        log.info(
            "Pushed %d phones to %s: batch %s, %d quota left",
            len(chunk),
            campaign_code,
            receipt.batch_id,
            receipt.num_remain_quota,
        )
        return receipt

    def campaign_status(self, campaign_code: str) -> fpt.CampaignStatus:
        return self._call(
            lambda token, _session: fpt.campaign_detail_request(token, campaign_code),
            lambda status, body: fpt.parse_campaign_detail(status, body, campaign_code),
            replay_safe=True,
        )

    def delivery_report(self, campaign_code: str) -> list[fpt.DeliveryRecord]:
        return self._call(
            lambda token, _session: fpt.delivery_report_request(token, campaign_code),
            fpt.parse_delivery_report,
            replay_safe=True,
        )

    def download_delivery_report(self, campaign_code: str, path: str | Path) -> int:
        """Stream the raw ``dlr-ads`` CSV to ``path`` (flat memory); returns the number of data rows."""
        target = Path(path)

        def stream(request: fpt.FptRequest, _parse: Callable[[int, bytes], int]) -> int:
            with self._send("POST", request.path, json=request.body, stream=True) as reply:
                if reply.status_code != 200 or "json" in reply.headers.get("content-type", ""):
                    fpt.parse_delivery_report(reply.status_code, reply.content)  # raises the typed error
                lines, last = 0, b"\n"
                try:
                    with target.open("wb") as out:
                        for chunk in reply.iter_content(chunk_size=1 << 16):
                            out.write(chunk)
                            lines += chunk.count(b"\n")
                            last = chunk[-1:] or last
                except requests.RequestException as exc:
                    raise requests_error(exc, fpt.GATEWAY, request.path) from None
                lines += last != b"\n"  # a last row without its newline still counts
                return max(lines - 1, 0)  # minus the header

        return self._call(
            lambda token, _session: fpt.delivery_report_request(token, campaign_code),
            lambda _status, _body: 0,
            replay_safe=True,
            exchange=stream,
        )

    # ------------------------------------------------------------------ UI

    def test_connection(self) -> tuple[bool, str]:
        """The connection form's Test button: ask for a token with the configured scopes."""
        try:
            # A session of its own: checks the secret without replacing a running worker's token.
            self._fetch_token(fpt.new_session_id())
        except SmsError as error:
            return False, str(error)
        return True, f"Connected to {self.settings.urls[0]}; token granted for {' '.join(self.settings.scopes)}"


def new_request_id() -> str:
    """A RequestId for a call that was given none: unique, so FPT's reports can tell calls apart."""
    return f"call-{uuid.uuid4().hex}"


class Replays:
    """Inside one send: has an attempt whose outcome is unknown gone out (so a 2501 means it landed)?"""

    def __init__(self, replaying: bool = False) -> None:
        self.replaying = replaying

    def note(self, error: BaseException) -> None:
        if classify(error).outcome is Outcome.UNKNOWN:
            self.replaying = True


@contextmanager
def scope_hint(scopes: tuple[str, ...]) -> Iterator[None]:
    """Make a 1005 (invalid scopes) error say which scopes were asked for."""
    try:
        yield
    except SmsError as error:
        if error.code == 1005:
            error.next_step += f" (requested scopes: {' '.join(scopes)!r})"
            error.args = (error._render(),)
        raise
