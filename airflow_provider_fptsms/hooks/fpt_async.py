"""``FptSmsAsyncHook``: the FPT calls that run inside an event loop.

Triggers use it to *wait* (``campaign_status``, ``delivery_report_counts``) without a worker slot;
operators use ``send_cskh_many`` on the worker to send thousands of messages with bounded
concurrency.  Nothing here is ever called to send from a trigger (a restarted triggerer
would send again).  Token cache, retry rules and masking are the sync hook's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import tenacity
from airflow.providers.http.hooks.http import HttpAsyncHook

from airflow_provider_fptsms.delivery import CircuitBreaker, Outcome, classify, replay_verdict
from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.gateways.errors import BATCH_FATAL, SmsError, TokenError
from airflow_provider_fptsms.hooks._http import (
    HostRotation,
    mask,
    network_error,
    replayable,
    retry_policy,
    unreachable,
)
from airflow_provider_fptsms.hooks.fpt import TOKENS, CachedToken, FptSettings, Replays, fpt_settings, scope_hint
from airflow_provider_fptsms.hooks.results import SendResult
from airflow_provider_fptsms.sms.phones import normalise

T = TypeVar("T")
log = logging.getLogger(__name__)
_JSON = {"Content-Type": "application/json"}
#: bytes of a streamed reply handled per step: ~1,000 report rows, a few milliseconds of the event loop.
REPORT_CHUNK = 1 << 16


@dataclass(frozen=True)
class CskhMessage:
    """One customer-care message of a bulk send."""

    phone: str = field(repr=False)
    message: str = field(repr=False)
    request_id: str | None = None
    brandname: str | None = None
    #: repeats an earlier attempt whose outcome was unknown (a 2501 then means that attempt landed)
    replaying: bool = False


class FptSmsAsyncHook(HttpAsyncHook):
    """Async FPT client on aiohttp; reads the same ``fptsms`` connection as :class:`FptSmsHook`.

    :param fpt_conn_id: a ``fptsms`` connection.
    """

    conn_name_attr = "fpt_conn_id"
    default_conn_name = "fptsms_default"
    conn_type = "fptsms"
    hook_name = "FPT SMS Brandname"

    def __init__(self, fpt_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(method="POST", http_conn_id=fpt_conn_id, **kwargs)
        self.fpt_conn_id = fpt_conn_id
        self._settings: FptSettings | None = None
        self._hosts: HostRotation | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(fpt_conn_id={self.fpt_conn_id!r})"

    async def settings(self) -> FptSettings:
        if self._settings is None:
            from airflow.providers.common.compat.connection import get_async_connection

            self._settings = fpt_settings(await get_async_connection(self.fpt_conn_id, hook=self))
            self._hosts = HostRotation(self._settings.urls)
        return self._settings

    @asynccontextmanager
    async def client(
        self, max_concurrency: int = 32, *, streaming: bool = False
    ) -> AsyncIterator[aiohttp.ClientSession]:
        """One aiohttp session (keep-alive pool of ``max_concurrency``); no extra ever becomes a header.

        The connection's ``timeout`` bounds a whole exchange, except with ``streaming``: a report of
        tens of megabytes may take longer than that to arrive, so there it bounds the connect and
        each read (the transfer must keep moving), not the total.
        """
        settings = await self.settings()
        connector = aiohttp.TCPConnector(limit=max_concurrency, ssl=bool(settings.verify))
        if streaming:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.timeout, sock_read=settings.timeout)
        else:
            timeout = aiohttp.ClientTimeout(total=settings.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            yield session

    # ------------------------------------------------------------------ plumbing

    async def _post(
        self,
        session: aiohttp.ClientSession,
        request: fpt.FptRequest,
        parse: Callable[[int, bytes], T],
        stream: Callable[[aiohttp.ClientResponse], Awaitable[T]] | None = None,
    ) -> T:
        """One exchange: ``parse(status, body)``, or ``stream(reply)`` for a reply below 500 whose body
        is read piece by piece (a 5xx body is read whole and parsed, and moves to the next host)."""
        assert self._hosts is not None
        base = self._hosts.current
        url = base + request.path
        try:
            # the body encoded here, with the C encoder, is cheaper than aiohttp's JSON payload per call
            async with session.post(url, data=json.dumps(request.body), headers=_JSON) as reply:
                if stream is not None and reply.status < 500:
                    return await stream(reply)  # inside the try: a transfer cut midway is a network error
                status, content = reply.status, await reply.read()
        except aiohttp.ClientConnectorError as exc:  # never connected: refused, DNS, connect timeout
            self._hosts.failed(base)
            timed_out = isinstance(exc, asyncio.TimeoutError)
            raise network_error(exc, fpt.GATEWAY, url, request_sent=False, timed_out=timed_out) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self._hosts.failed(base)
            timed_out = isinstance(exc, asyncio.TimeoutError)
            raise network_error(exc, fpt.GATEWAY, url, request_sent=True, timed_out=timed_out) from None
        if status >= 500:
            self._hosts.failed(base)
        return parse(status, content)

    async def _token(self, session: aiohttp.ClientSession) -> CachedToken:
        settings = self._settings or await self.settings()
        cached = TOKENS.fresh(settings.token_key)  # the hot path of a bulk send: no coroutine, no lock
        if cached is not None:
            return cached

        async def fetch(session_id: str) -> fpt.Token:
            request = fpt.token_request(settings.client_id, settings.client_secret, settings.scopes, session_id)
            with scope_hint(settings.scopes):
                token = await self._post(session, request, fpt.parse_token)
            mask(token.access_token)
            return token

        return await TOKENS.aget(settings.token_key, fetch)

    async def _call(
        self,
        session: aiohttp.ClientSession,
        build: Callable[[str, str], fpt.FptRequest],
        parse: Callable[[int, bytes], T],
        *,
        replay_safe: bool,
        replays: Replays | None = None,
        breaker: CircuitBreaker | None = None,
        stream: Callable[[aiohttp.ClientResponse], Awaitable[T]] | None = None,
    ) -> T:
        """The sync hook's ``_call`` rules on the event loop; ``breaker`` stops retries once it opens.

        ``stream`` (see :meth:`_post`) is called afresh for each attempt, so a retry starts from nothing.
        """
        settings = await self.settings()

        async def attempt() -> T:
            token = await self._token(session)
            try:
                try:
                    return await self._post(session, build(token.value, token.session_id), parse, stream)
                except TokenError:
                    TOKENS.invalidate(settings.token_key, token)
                    fresh = await self._token(session)
                    return await self._post(session, build(fresh.value, fresh.session_id), parse, stream)
            except SmsError as error:
                if replays is not None:
                    replays.note(error)
                raise

        # Fast path: most calls succeed at once; tenacity's machinery costs more than the request's own CPU.
        retry_if = replayable(replay_safe, breaker)
        try:
            return await attempt()
        except BaseException as exc:
            if not retry_if(exc) or settings.max_attempts <= 1:  # retry_if first: it also feeds the breaker
                raise
            log.warning("Attempt 1 failed (%s); retrying", exc)
        await asyncio.sleep(random.uniform(0, settings.backoff))
        policy = retry_policy(max_attempts=settings.max_attempts - 1, backoff=settings.backoff, retry_if=retry_if)
        return await tenacity.AsyncRetrying(**policy)(attempt)

    async def _with_client(self, work: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
        async with self.client(max_concurrency=4) as session:
            return await work(session)

    # ------------------------------------------------------------------ waiting (triggers)

    async def campaign_status(self, campaign_code: str) -> fpt.CampaignStatus:
        return await self._with_client(
            lambda session: self._call(
                session,
                lambda token, _session_id: fpt.campaign_detail_request(token, campaign_code),
                lambda status, body: fpt.parse_campaign_detail(status, body, campaign_code),
                replay_safe=True,
            )
        )

    async def delivery_report_counts(self, campaign_code: str) -> fpt.ReportCounts:
        """The ``dlr-ads`` report counted by status while it downloads: what a wait for the report needs.

        A trigger polls this for days on the triggerer's shared event loop: the body is never held
        whole (memory stays flat for a million rows) and the loop gets control back after every
        :data:`REPORT_CHUNK` bytes. Error replies raise the same typed errors as :meth:`delivery_report`.
        """
        async with self.client(max_concurrency=4, streaming=True) as session:
            return await self._call(
                session,
                lambda token, _session_id: fpt.delivery_report_request(token, campaign_code),
                fpt.count_delivery_report,
                replay_safe=True,
                stream=_count_report,
            )

    async def delivery_report(self, campaign_code: str) -> list[fpt.DeliveryRecord]:
        """Every row of the ``dlr-ads`` report, for callers that need the records (a wait needs only
        :meth:`delivery_report_counts`): the body and the rows are held in memory."""
        text = await self._with_client(
            lambda session: self._call(
                session,
                lambda token, _session_id: fpt.delivery_report_request(token, campaign_code),
                fpt.check_delivery_report,
                replay_safe=True,
            )
        )
        # a million-row report takes seconds to parse: not on the triggerer's event loop
        return await asyncio.to_thread(lambda: list(fpt.iter_delivery_report(text.splitlines())))

    # ------------------------------------------------------------------ bulk CSKH (worker side only)

    async def send_cskh_many(
        self,
        messages: Iterable[CskhMessage],
        *,
        max_concurrency: int = 32,
        international: bool = False,
        before_send: Callable[[CskhMessage], Awaitable[bool]] | None = None,
        on_result: Callable[[int, SendResult], None] | None = None,
        breaker_threshold: int = 10,
    ) -> list[SendResult]:
        """Send many CSKH messages, at most ``max_concurrency`` in flight; results in input order.

        Each message becomes one :class:`SendResult`: ``sent``, ``already_sent`` (a replay that FPT
        recognised), ``duplicate_content`` (FPT already held this text for the phone, not from us),
        ``failed`` (refused) or ``in_doubt`` (may have been accepted). Errors that would fail every
        message alike (auth, account, brandname, quota) stop the batch and are raised, as is
        :class:`GatewayUnreachableError` once ``breaker_threshold`` calls in a row found no gateway.

        :param messages: consumed lazily; a message is taken only when a slot is free.
        :param max_concurrency: messages in flight at once.
        :param international: use FPT's international endpoint.
        :param before_send: awaited for each message just before its request (the write-ahead record);
            False holds the message back (no request, no result).
        :param on_result: called with (index, result) as each message completes.
        :param breaker_threshold: consecutive transport/token failures that stop the batch.
        """
        settings = await self.settings()
        results: dict[int, SendResult] = {}
        queue = iter(enumerate(messages))
        breaker = CircuitBreaker(breaker_threshold)

        async with self.client(max_concurrency=max_concurrency) as session:

            async def one(item: CskhMessage) -> SendResult:
                brandname = item.brandname or settings.brandname or ""
                replays = Replays(item.replaying)
                phone = item.phone
                try:
                    phone = normalise(item.phone, international=international)
                    receipt = await self._call(
                        session,
                        lambda token, session_id: fpt.cskh_request(
                            token,
                            session_id,
                            brandname,
                            phone,
                            item.message,
                            item.request_id,
                            international=international,
                        ),
                        fpt.parse_cskh,
                        replay_safe=True,
                        replays=replays,
                        breaker=breaker,
                    )
                except BATCH_FATAL:
                    raise
                except SmsError as error:
                    verdict = replay_verdict(error, replaying=replays.replaying)
                    if verdict.outcome is Outcome.ACCEPTED:
                        return SendResult.reconciled(phone, item.request_id)
                    return SendResult.from_error(phone, item.request_id, error, verdict)
                breaker.record(None)
                return SendResult.ok(phone, item.request_id, receipt.message_id, receipt.telco)

            stop = asyncio.Event()  # set by a batch-fatal error or an open breaker: take no new message

            def report(index: int, result: SendResult) -> None:
                results[index] = result
                if on_result is not None:
                    on_result(index, result)

            async def worker() -> None:
                for index, item in queue:
                    if stop.is_set():
                        return  # taken from the iterator but never announced nor sent: no result, not in doubt
                    if before_send is not None and not await before_send(item):
                        continue  # held back by the caller (written ahead, and reported by it)
                    try:
                        result = await one(item)
                    except BATCH_FATAL as error:
                        stop.set()
                        report(index, SendResult.from_error(item.phone, item.request_id, error, classify(error)))
                        raise
                    except BaseException:
                        stop.set()
                        raise
                    report(index, result)
                    if breaker.open:
                        stop.set()
                    if stop.is_set():
                        return

            workers = [asyncio.create_task(worker()) for _ in range(max(1, max_concurrency))]
            try:
                # Let the messages already in flight finish and be recorded: cancelling them would
                # leave accepted messages unrecorded, to be re-sent by a retry after FPT's 5-minute window.
                outcomes = await asyncio.gather(*workers, return_exceptions=True)
            finally:
                for task in workers:
                    task.cancel()
            failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if failure is not None:
                raise failure
            if breaker.open:
                assert self._hosts is not None
                raise unreachable(breaker, fpt.GATEWAY, self._hosts.current)
        counts = Counter(r.status.value for r in results.values())
        log.info("Bulk CSKH: %d messages, %s", len(results), dict(counts))
        return [results[index] for index in sorted(results)]


async def _count_report(reply: aiohttp.ClientResponse) -> fpt.ReportCounts:
    """Feed a ``dlr-ads`` reply to the pure counter chunk by chunk, giving the loop back between chunks."""
    counter = fpt.DeliveryReportCounter(reply.status)
    async for chunk in reply.content.iter_chunked(REPORT_CHUNK):
        counter.feed(chunk)
        # a read that finds data already buffered returns without suspending: yield explicitly
        await asyncio.sleep(0)
    return counter.close()
