"""The sandbox calls a DLR webhook back, as FPT does for CSKH messages (manual 4.1, "2nd way").

After each accepted CSKH send, and ``dlr_delay`` seconds later, one final report is POSTed to
``config.dlr_url`` with ``Authorization: Basic <dlr_key>``: status 1, or 0 with error
``DELIVERY_FAILED`` for the phones ``delivery_fails`` picks (the same ones the QC report fails).
Posts run as tasks on the sandbox's event loop, so sends stay fast; a post that fails is retried
a few times, then counted as failed.  ``reset()`` cancels whatever is still pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import Counter
from typing import Any

import aiohttp

from airflow_provider_fptsms.sandbox.config import SandboxConfig
from airflow_provider_fptsms.sandbox.ledger import LedgerEntry, delivery_fails

log = logging.getLogger(__name__)


class DlrPusher:
    """Schedules and sends DLR callbacks; ``counters`` say how many were posted, failed, retried, cancelled."""

    def __init__(self, config: SandboxConfig, attempts: int = 4, backoff: float = 0.2, timeout: float = 10.0) -> None:
        self.config = config
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.counters: Counter[str] = Counter()
        #: pending posts and the generation (reset count) each belongs to; touched only on the loop thread
        self._tasks: dict[asyncio.Task[None], int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def view(self) -> dict[str, Any]:
        """For ``GET /_sandbox/dlr``: where reports go (never the key) and what happened to them."""
        return {
            "url": self.config.dlr_url,
            "key_set": bool(self.config.dlr_key),
            "delay": self.config.dlr_delay,
            "pending": self.pending,
            **{name: self.counters[name] for name in ("scheduled", "posted", "failed", "retries", "cancelled")},
        }

    def schedule(self, entry: LedgerEntry, telco: str) -> None:
        """Called for an accepted CSKH send, on the event loop serving it; no-op when no URL is set."""
        url, key = self.config.dlr_url, self.config.dlr_key
        if not url:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the simulator driven directly, without a server: nothing to post from
            return
        failed = delivery_fails(entry.phone, self.config.dlr_failure_rate)
        body = {
            "smsid": entry.message_id,
            "status": 0 if failed else 1,
            "telco": telco,
            "error": "DELIVERY_FAILED" if failed else None,
            "mt_count": 1,
        }
        self._loop = loop
        task = loop.create_task(self._deliver(url, key or "", body, max(self.config.dlr_delay, 0.0), self._generation))
        self._tasks[task] = self._generation
        task.add_done_callback(lambda done: self._tasks.pop(done, None))
        self.counters["scheduled"] += 1

    async def _deliver(self, url: str, key: str, body: dict[str, Any], delay: float, generation: int) -> None:
        try:
            await asyncio.sleep(delay)
            for attempt in range(self.attempts):
                if generation != self._generation:  # reset while we slept
                    return
                if await self._post(url, key, body):
                    self._count("posted", generation)
                    return
                if attempt + 1 < self.attempts:
                    self._count("retries", generation)
                    await asyncio.sleep(self.backoff * 2**attempt)
            self._count("failed", generation)
            log.warning("DLR for smsid %s not accepted after %d attempts", body["smsid"], self.attempts)
        except asyncio.CancelledError:
            self._count("cancelled", generation)
            raise
        finally:
            await self._close_when_idle()

    def _count(self, name: str, generation: int) -> None:
        if generation == self._generation:  # a post cut short by reset() belongs to no one
            self.counters[name] += 1

    async def _post(self, url: str, key: str, body: dict[str, Any]) -> bool:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        headers = {"Authorization": f"Basic {key}", "Accept": "application/json"}
        try:
            async with self._session.post(url, json=body, headers=headers) as reply:
                if reply.status != 200:
                    return False
                answer = await reply.json(content_type=None)
                return isinstance(answer, dict) and str(answer.get("status")) == "1"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            log.info("DLR post for smsid %s failed: %s", body["smsid"], type(exc).__name__)
            return False

    async def _close_when_idle(self) -> None:
        """Close the HTTP session once nothing is pending, so no session outlives a burst."""
        current = asyncio.current_task()
        if any(task is not current for task in self._tasks) or self._session is None:
            return
        session, self._session = self._session, None
        await session.close()

    def reset(self) -> None:
        """Cancel pending posts and zero the counters; safe from any thread (the test's or the server's)."""
        with self._lock:
            self._generation += 1
            generation, loop = self._generation, self._loop
            self.counters.clear()
        if loop is None or loop.is_closed():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._cancel_before(generation)
            return
        with contextlib.suppress(RuntimeError):  # the loop stopped in between
            loop.call_soon_threadsafe(self._cancel_before, generation)

    def _cancel_before(self, generation: int) -> None:
        """On the loop thread: cancel the posts scheduled before that reset (not those scheduled since)."""
        for task, born in list(self._tasks.items()):
            if born < generation:
                task.cancel()
