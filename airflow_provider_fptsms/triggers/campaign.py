"""Poll ``detail-ads`` / ``dlr-ads`` from the triggerer until a QC campaign reaches a state.

Read-only by construction: these triggers only call ``campaign_status`` and
``delivery_report_counts``, so the triggerer may restart them at will.

The rules a wait needs — when it is over (:func:`campaign_outcome`, ``ReportCounts.complete``) and
what to log while it lasts (:func:`waiting_message`, :func:`found_message`, :func:`report_message`) —
live here once: the sensors' and the report operator's own checks (poke mode, the check before
deferring, ``execute_complete``) call the same functions, so both paths say and decide the same.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_fptsms.gateways.errors import SmsError
from airflow_provider_fptsms.sms.schedule import ORDER_CLOSE, ORDER_OPEN, describe_vn_time, parse_vn_time

if TYPE_CHECKING:
    from airflow_provider_fptsms.gateways.fpt import CampaignStatus, ReportCounts
    from airflow_provider_fptsms.hooks.fpt_async import FptSmsAsyncHook

WaitFor = Literal["approval", "sent"]
Outcome = Literal["approved", "sent", "rejected"]

_STATE_WORDS = {"pending_approval": "pending approval"}
_ORDER_HOURS = f"Mon-Fri {ORDER_OPEN:%H:%M}-{ORDER_CLOSE:%H:%M}"


async def async_hook(fpt_conn_id: str) -> FptSmsAsyncHook:
    """The async hook, its module imported in a thread: aiohttp and the HTTP provider take ~0.3 s to
    import the first time, which on the triggerer's event loop would stall every other trigger."""
    module = await asyncio.to_thread(importlib.import_module, "airflow_provider_fptsms.hooks.fpt_async")
    hook: FptSmsAsyncHook = module.FptSmsAsyncHook(fpt_conn_id)
    return hook


def campaign_outcome(status: CampaignStatus, wait_for: WaitFor) -> Outcome | None:
    """How a wait for ``wait_for`` ends on this ``detail-ads`` reading, or None while it goes on.

    A rejection ends every wait (no poll can make the telco change its mind).
    """
    if status.rejected:
        return "rejected"
    if wait_for == "approval":
        return "approved" if status.approved else None
    return "sent" if status.is_sent else None


#: the shortest wait before a trigger's first check, in seconds (see :func:`after_the_sensors_check`)
FIRST_CHECK_ENV = "FPTSMS_TRIGGER_FIRST_CHECK_SECONDS"
FIRST_CHECK_DEFAULT = 10.0


async def after_the_sensors_check(poll_interval: float) -> None:
    """Wait before a trigger's first check: one interval, and at least ``$FPTSMS_TRIGGER_FIRST_CHECK_SECONDS``
    (default 10). The sensor checked just before deferring, so asking again at once repeats that call.

    And a wait that ends before the deferred task's own process has exited meets a scheduler race in
    Airflow 3.2-3.3: the deferral's executor "success", processed after the trigger has already requeued
    the task, fails it as a "state mismatch" (apache/airflow#66374, #67287, #72716). ``make e2e`` hit it
    with a 3 s interval on a loaded machine, where the task process took 5 s to exit after deferring;
    production intervals (minutes) never come near it.
    """
    try:
        floor = float(os.environ.get(FIRST_CHECK_ENV, FIRST_CHECK_DEFAULT))
    except ValueError:
        floor = FIRST_CHECK_DEFAULT
    await asyncio.sleep(max(poll_interval, floor))


def every(seconds: float) -> str:
    """A poll interval for a log line: ``300s``, ``0.05s``."""
    return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds:g}s"


def _phones(total: int | None, quota: int | None) -> str:
    count = total or 0
    return f"{count:,} phone{'' if count == 1 else 's'}, quota {quota or 0:,}"


def waiting_message(
    status: CampaignStatus, wait_for: WaitFor, next_check: float | None, now: datetime | None = None
) -> str:
    """What a campaign wait found and what it waits for now, e.g. ``Campaign ABC: approved; waiting for
    ScheduleTime 2026-12-02 09:43 Vietnam time (19 h from now); next check in 300s``.

    ``next_check`` None: the sensor is about to defer (the trigger checks again one interval later).
    """
    schedule = describe_vn_time(status.sending_time, now)
    if not status.approved:
        then = f", then for ScheduleTime {schedule}" if wait_for == "sent" else f"; ScheduleTime {schedule}"
        waiting = f"waiting for telco approval (orders {_ORDER_HOURS} Vietnam time){then}"
    else:
        moment = parse_vn_time(status.sending_time)
        passed = moment is not None and moment <= (now or datetime.now(timezone.utc))
        waiting = (
            f"ScheduleTime {schedule} has passed; waiting for FPT to report it sent"
            if passed
            else f"waiting for ScheduleTime {schedule}"
        )
    state = _STATE_WORDS.get(status.state, status.state)
    then = "deferring to the triggerer" if next_check is None else f"next check in {every(next_check)}"
    return f"Campaign {status.campaign_code}: {state}; {waiting}; {then}"


def found_message(
    campaign_code: str,
    outcome: str | None,
    *,
    total: int | None,
    quota: int | None,
    sending_time: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> str:
    """How a campaign wait ended, e.g. ``Campaign ABC approved (1,234 phones, quota 1,500)``.

    Takes the fields a trigger event carries, so ``execute_complete`` words it as the poke does.
    """
    phones = _phones(total, quota)
    if outcome == "rejected":
        return f"Campaign {campaign_code} rejected by the telco: {reason or 'no reason given'} ({phones})"
    if outcome == "sent":
        return f"Campaign {campaign_code} sent ({phones}), ScheduleTime {describe_vn_time(sending_time, now)}"
    return f"Campaign {campaign_code} {outcome} ({phones})"


def status_found_message(status: CampaignStatus, outcome: str, now: datetime | None = None) -> str:
    """:func:`found_message` for a ``detail-ads`` reading."""
    return found_message(
        status.campaign_code,
        outcome,
        total=status.total,
        quota=status.quota,
        sending_time=status.sending_time,
        reason=status.reason,
        now=now,
    )


def report_message(
    campaign_code: str,
    counts: ReportCounts,
    expected_rows: int,
    *,
    next_check: float | None = None,
    deadline: float | None = None,
    now: datetime | None = None,
) -> str:
    """How far a ``dlr-ads`` report has got (counts only, never a phone); with ``next_check``, what the
    wait waits for, e.g. ``Report for ABC: 700,000/900,000 expected phones final (...); waiting for
    200,000 more; next check in 3600s``."""
    by_status = counts.by_status
    text = (
        f"Report for {campaign_code}: {counts.final:,}/{expected_rows:,} expected phones final "
        f"({counts.rows:,} rows: {by_status.get('delivered', 0):,} delivered, {by_status.get('failed', 0):,} failed, "
        f"{counts.pending:,} not final yet)"
    )
    if next_check is None:
        return text
    text += f"; waiting for {max(expected_rows - counts.final, 0):,} more; next check in {every(next_check)}"
    if deadline is not None:
        text += f"; deadline {describe_vn_time(datetime.fromtimestamp(deadline, timezone.utc), now)}"
    return text


class FptCampaignStatusTrigger(BaseTrigger):
    """Fire when the campaign is approved (``wait_for="approval"``) or sent (``"sent"``), or rejected.

    Events: ``{"status": "approved" | "sent" | "rejected" | "error", "campaign_code", "state",
    "total", "quota", "reason", "message"}`` — no secret, no phone.

    :param campaign_code: the CampaignCode to watch (``detail-ads``).
    :param wait_for: ``"approval"`` (telcos approved it) or ``"sent"`` (IsSent, after its ScheduleTime).
    :param fpt_conn_id: a ``fptsms`` connection, read on the triggerer.
    :param poll_interval: seconds between ``detail-ads`` calls; the first waits one interval too.
    """

    def __init__(
        self,
        campaign_code: str,
        wait_for: WaitFor = "approval",
        fpt_conn_id: str = "fptsms_default",
        poll_interval: float = 60.0,
    ) -> None:
        super().__init__()
        self.campaign_code = campaign_code
        self.wait_for = wait_for
        self.fpt_conn_id = fpt_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "campaign_code": self.campaign_code,
                "wait_for": self.wait_for,
                "fpt_conn_id": self.fpt_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await async_hook(self.fpt_conn_id)
        await after_the_sensors_check(self.poll_interval)
        while True:
            try:
                status = await hook.campaign_status(self.campaign_code)
            except SmsError as error:
                if error.retryable:
                    self.log.warning("detail-ads failed (%s); polling again in %s", error, every(self.poll_interval))
                    await asyncio.sleep(self.poll_interval)
                    continue
                yield TriggerEvent({"status": "error", "campaign_code": self.campaign_code, "message": str(error)})
                return
            outcome = campaign_outcome(status, self.wait_for)
            if outcome is not None:
                self.log.info("%s", status_found_message(status, outcome))
                yield TriggerEvent(
                    {
                        "status": outcome,
                        "campaign_code": self.campaign_code,
                        "state": status.state,
                        "total": status.total,
                        "quota": status.quota,
                        "sending_time": status.sending_time,
                        "reason": status.reason,
                    }
                )
                return
            self.log.info("%s", waiting_message(status, self.wait_for, self.poll_interval))
            await asyncio.sleep(self.poll_interval)


class FptCampaignReportTrigger(BaseTrigger):
    """Fire when the ``dlr-ads`` report has a final status for ``expected_rows`` phones, or at ``deadline``.

    Each poll counts the report while it downloads (:meth:`FptSmsAsyncHook.delivery_report_counts`):
    a million-row report neither holds the triggerer's event loop nor its memory.

    Events: ``{"status": "complete" | "deadline" | "error", "rows", "final", "pending", "message"}``.

    :param campaign_code: the campaign whose ``dlr-ads`` report to count.
    :param expected_rows: phones pushed to it: the report is complete when that many have a final status.
    :param fpt_conn_id: a ``fptsms`` connection, read on the triggerer.
    :param poll_interval: seconds between report downloads; the first waits one interval too.
    :param deadline: epoch seconds after which the wait ends with the counts so far (None: no deadline).
    """

    def __init__(
        self,
        campaign_code: str,
        expected_rows: int,
        fpt_conn_id: str = "fptsms_default",
        poll_interval: float = 3600.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.campaign_code = campaign_code
        self.expected_rows = expected_rows
        self.fpt_conn_id = fpt_conn_id
        self.poll_interval = poll_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "campaign_code": self.campaign_code,
                "expected_rows": self.expected_rows,
                "fpt_conn_id": self.fpt_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await async_hook(self.fpt_conn_id)
        await after_the_sensors_check(self.poll_interval)
        progress: dict[str, Any] = {"campaign_code": self.campaign_code, "rows": 0, "final": 0, "pending": 0}
        while True:
            try:
                counts = await hook.delivery_report_counts(self.campaign_code)
            except SmsError as error:
                if not error.retryable:
                    yield TriggerEvent({"status": "error", "campaign_code": self.campaign_code, "message": str(error)})
                    return
                self.log.warning("dlr-ads failed (%s); polling again in %s", error, every(self.poll_interval))
            else:
                progress.update(rows=counts.rows, final=counts.final, pending=counts.pending)
                if counts.complete(self.expected_rows):
                    self.log.info("%s", report_message(self.campaign_code, counts, self.expected_rows))
                    yield TriggerEvent({"status": "complete", **progress})
                    return
                self.log.info(
                    "%s",
                    report_message(
                        self.campaign_code,
                        counts,
                        self.expected_rows,
                        next_check=self.poll_interval,
                        deadline=self.deadline,
                    ),
                )
            if self.deadline is not None and time.time() >= self.deadline:  # also when dlr-ads keeps failing
                self.log.warning(
                    "Report for %s: deadline reached with %d/%d expected phones final",
                    self.campaign_code,
                    progress["final"],
                    self.expected_rows,
                )
                yield TriggerEvent({"status": "deadline", **progress})
                return
            await asyncio.sleep(self.poll_interval)
