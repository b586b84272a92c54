"""Wait in the triggerer until Fibo reports a final status for every message of a send, by our smsGUIDs.

Fibo has no delivery webhook: its ``GetSMSStatus`` is pulled. The GUIDs are registered in the DLR
store under a watch key (as the FPT wait does), so the serialized trigger stays small however many
messages were sent, and the triggerer may restart it at will.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_fptsms.gateways.errors import SmsError
from airflow_provider_fptsms.gateways.fibo import FiboStatus
from airflow_provider_fptsms.triggers.campaign import after_the_sensors_check, every


def status_summary(guids: Iterable[str], statuses: Mapping[str, FiboStatus | None]) -> dict[str, Any]:
    """Counts for a send's GUIDs: ``delivered`` (SentSuccess), ``failed`` (any other final status),
    ``pending`` (Pending, Sending, or a value outside the guide's enum), ``missing`` (Fibo does not
    know the GUID yet), ``final``, ``total`` and ``by_status`` (names of the guide's enum)."""
    wanted = list(dict.fromkeys(guids))
    by_status: Counter[str] = Counter()
    missing = 0
    for guid in wanted:
        if guid not in statuses:
            missing += 1
            continue
        status = statuses[guid]
        by_status[status.name.lower() if status is not None else "unknown"] += 1
    delivered = by_status["sent_success"]
    final = sum(count for name, count in by_status.items() if name != "unknown" and FiboStatus[name.upper()].final)
    return {
        "total": len(wanted),
        "final": final,
        "delivered": delivered,
        "failed": final - delivered,
        "pending": len(wanted) - final - missing,
        "missing": missing,
        "by_status": dict(by_status),
    }


def statuses_complete(summary: Mapping[str, Any]) -> bool:
    """Every message has a final status: the one rule the sensor (poke, pre-check) and the trigger share."""
    return bool(summary["final"] >= summary["total"])


def status_message(summary: Mapping[str, Any], next_check: float | None = None, *, deferring: bool = False) -> str:
    """What a Fibo status wait found (counts only, never a phone or a GUID) and what it waits for."""
    text = (
        f"Fibo statuses for {summary['total']:,} message(s): {summary['delivered']:,} delivered, "
        f"{summary['failed']:,} failed, {summary['pending']:,} pending, {summary['missing']:,} not known yet"
    )
    if statuses_complete(summary):
        return text + "; all final"
    if next_check is None and not deferring:
        return text
    then = "deferring to the triggerer" if next_check is None else f"next check in {every(next_check)}"
    return text + f"; waiting for {summary['total'] - summary['final']:,} more; {then}"


def read_summary(fibo_conn_id: str, guids: list[str]) -> dict[str, Any]:
    """One reading through the (synchronous) hook: the sensor calls it directly, the trigger in a thread."""
    from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

    return status_summary(guids, FiboSmsHook(fibo_conn_id).sms_status(guids))


class FiboDeliveryTrigger(BaseTrigger):
    """Fire when every registered GUID has a final Fibo status (``complete``) or at ``deadline``.

    Events: ``{"status": "complete" | "deadline", "summary": {...}}`` (see :func:`status_summary`), or
    ``{"status": "error", "message": ...}`` when Fibo refuses the reads for good (a wrong account).
    A failed read that may pass (a timeout, a 5xx) is logged and tried again at the next interval.

    :param watch: the key under which the sensor registered the GUIDs in the DLR store.
    :param fibo_conn_id: a ``fibosms`` connection.
    :param db_url: the DLR store's SQLAlchemy URL; None reads ``$FPTSMS_DLR_DB`` on the triggerer.
    :param poll_interval: seconds between reads.
    :param deadline: epoch seconds after which the wait ends with the counts so far.
    """

    def __init__(
        self,
        watch: str,
        fibo_conn_id: str = "fibosms_default",
        db_url: str | None = None,
        poll_interval: float = 60.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.watch = watch
        self.fibo_conn_id = fibo_conn_id
        self.db_url = db_url
        self.poll_interval = poll_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "watch": self.watch,
                "fibo_conn_id": self.fibo_conn_id,
                "db_url": self.db_url,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        from airflow_provider_fptsms.webhook.store import DlrStore

        await after_the_sensors_check(self.poll_interval)
        store = await asyncio.to_thread(DlrStore, self.db_url)
        try:
            guids = await asyncio.to_thread(store.watched, self.watch)
        finally:
            store.dispose()
        summary: dict[str, Any] | None = None
        while True:
            try:
                summary = await asyncio.to_thread(read_summary, self.fibo_conn_id, guids)
            except SmsError as error:
                if not error.retryable:
                    return {"status": "error", "message": str(error)}
                self.log.warning(
                    "Reading Fibo statuses failed, trying again in %s: %s", every(self.poll_interval), error
                )
            else:
                if statuses_complete(summary):
                    self.log.info("%s", status_message(summary))
                    return {"status": "complete", "summary": summary}
            if self.deadline is not None and time.time() >= self.deadline:
                last = summary or status_summary(guids, {})
                self.log.warning("%s; deadline reached", status_message(last))
                return {"status": "deadline", "summary": last}
            if summary is not None:
                self.log.info("%s", status_message(summary, self.poll_interval))
            await asyncio.sleep(self.poll_interval)
