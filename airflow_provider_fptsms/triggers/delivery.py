"""Wait in the triggerer until FPT has reported a final status for every CSKH message of a send.

The reports arrive by webhook (``fptsms-dlr-receiver`` or the API-server plugin) into the DLR
store; this trigger only reads that store, so the triggerer may restart it at will.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from sqlalchemy.exc import SQLAlchemyError

from airflow_provider_fptsms.triggers.campaign import after_the_sensors_check, every
from airflow_provider_fptsms.webhook.store import DlrStore


def dlrs_complete(summary: Mapping[str, Any]) -> bool:
    """Every message has a final DLR: the one rule the sensor (poke, pre-check) and the trigger share."""
    return bool(summary["final"] >= summary["total"])


def dlr_message(summary: Mapping[str, Any], next_check: float | None = None, *, deferring: bool = False) -> str:
    """What a DLR wait found (counts only, never a phone or id); with ``next_check`` (or ``deferring``,
    when the sensor hands the wait to the trigger), what it waits for."""
    text = (
        f"DLRs for {summary['total']:,} message(s): {summary['delivered']:,} delivered, {summary['failed']:,} failed, "
        f"{summary['pending']:,} pending, {summary['missing']:,} missing"
    )
    if dlrs_complete(summary):
        return text + "; all final"
    if next_check is None and not deferring:
        return text
    then = "deferring to the triggerer" if next_check is None else f"next check in {every(next_check)}"
    return text + f"; waiting for {summary['total'] - summary['final']:,} more; {then}"


class FptDeliveryTrigger(BaseTrigger):
    """Fire when every message id has a final DLR (``complete``) or at ``deadline`` (epoch seconds).

    Events: ``{"status": "complete" | "deadline", "summary": {...}}`` where the summary counts
    delivered / failed / pending / missing, by telco, ``final`` and ``total``; or
    ``{"status": "error", "message": ...}`` when the store cannot be read.

    :param message_ids: the ids to wait for, inline (fine for a few thousand) ...
    :param watch: ... or the key under which they were registered in the store (``DlrStore.watch``),
        which keeps the serialized trigger small however many messages were sent.
    :param db_url: the store's SQLAlchemy URL; None reads ``$FPTSMS_DLR_DB`` (else the default SQLite
        file) on the triggerer, which keeps a database password out of the serialized trigger.
    :param poll_interval: seconds between reads of the store; the first waits one interval too.
    :param deadline: epoch seconds after which the wait ends with the counts so far (None: no deadline).
    """

    def __init__(
        self,
        message_ids: list[str] | None = None,
        db_url: str | None = None,
        poll_interval: float = 30.0,
        deadline: float | None = None,
        watch: str | None = None,
    ) -> None:
        super().__init__()
        if (message_ids is None) == (watch is None):
            raise ValueError("pass exactly one of message_ids and watch")
        self.message_ids = None if message_ids is None else list(message_ids)
        self.watch = watch
        self.db_url = db_url
        self.poll_interval = poll_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "message_ids": self.message_ids,
                "db_url": self.db_url,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "watch": self.watch,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            store = DlrStore(self.db_url)
        except (SQLAlchemyError, OSError, ImportError) as error:  # bad URL, unwritable folder, missing driver
            yield TriggerEvent({"status": "error", "message": f"cannot open the DLR store: {type(error).__name__}"})
            return
        try:
            payload = await self._wait(store)
        finally:
            store.dispose()  # before yielding: the triggerer may never resume this generator
        yield TriggerEvent(payload)

    async def _wait(self, store: DlrStore) -> dict[str, Any]:
        ids = self.message_ids
        await after_the_sensors_check(self.poll_interval)
        while True:
            try:
                if ids is None:
                    ids = await asyncio.to_thread(store.watched, self.watch or "")
                summary = await asyncio.to_thread(store.summary, ids)
            except SQLAlchemyError as error:  # type only: driver messages may quote the URL
                return {"status": "error", "message": f"cannot read the DLR store {store!r}: {type(error).__name__}"}
            if dlrs_complete(summary):
                self.log.info("%s", dlr_message(summary))
                return {"status": "complete", "summary": summary}
            if self.deadline is not None and time.time() >= self.deadline:
                self.log.warning("%s; deadline reached", dlr_message(summary))
                return {"status": "deadline", "summary": summary}
            self.log.info("%s", dlr_message(summary, self.poll_interval))
            await asyncio.sleep(self.poll_interval)
