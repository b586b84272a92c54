"""Poll ``detail-ads`` / ``dlr-ads`` from the triggerer until a QC campaign reaches a state.

Read-only by construction: these triggers only call ``campaign_status`` and
``delivery_report``, so the triggerer may restart them at will.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_fptsms.gateways.errors import SmsError

WaitFor = Literal["approval", "sent"]


class FptCampaignStatusTrigger(BaseTrigger):
    """Fire when the campaign is approved (``wait_for="approval"``) or sent (``"sent"``), or rejected.

    Events: ``{"status": "approved" | "sent" | "rejected" | "error", "campaign_code", "state",
    "total", "quota", "reason", "message"}`` — no secret, no phone.
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
        from airflow_provider_fptsms.hooks.fpt_async import FptSmsAsyncHook

        hook = FptSmsAsyncHook(self.fpt_conn_id)
        while True:
            try:
                status = await hook.campaign_status(self.campaign_code)
            except SmsError as error:
                if error.retryable:
                    self.log.warning("detail-ads failed (%s); polling again in %ss", error, self.poll_interval)
                    await asyncio.sleep(self.poll_interval)
                    continue
                yield TriggerEvent({"status": "error", "campaign_code": self.campaign_code, "message": str(error)})
                return
            done = status.rejected or (status.approved if self.wait_for == "approval" else status.is_sent)
            if done:
                outcome = "rejected" if status.rejected else ("approved" if self.wait_for == "approval" else "sent")
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
            self.log.info("Campaign %s is %s; next check in %ss", self.campaign_code, status.state, self.poll_interval)
            await asyncio.sleep(self.poll_interval)


class FptCampaignReportTrigger(BaseTrigger):
    """Fire when the ``dlr-ads`` report has a final status for ``expected_rows`` phones, or at ``deadline``.

    Events: ``{"status": "complete" | "deadline" | "error", "rows", "final", "pending", "message"}``.
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
        from airflow_provider_fptsms.hooks.fpt_async import FptSmsAsyncHook

        hook = FptSmsAsyncHook(self.fpt_conn_id)
        progress: dict[str, Any] = {"campaign_code": self.campaign_code, "rows": 0, "final": 0, "pending": 0}
        while True:
            try:
                records = await hook.delivery_report(self.campaign_code)
            except SmsError as error:
                if not error.retryable:
                    yield TriggerEvent({"status": "error", "campaign_code": self.campaign_code, "message": str(error)})
                    return
                self.log.warning("dlr-ads failed (%s); polling again in %ss", error, self.poll_interval)
            else:
                final = sum(1 for r in records if r.status in ("delivered", "failed"))
                progress.update(rows=len(records), final=final, pending=len(records) - final)
                if final >= self.expected_rows:
                    yield TriggerEvent({"status": "complete", **progress})
                    return
                self.log.info("Report for %s: %d/%d final", self.campaign_code, final, self.expected_rows)
            if self.deadline is not None and time.time() >= self.deadline:  # also when dlr-ads keeps failing
                yield TriggerEvent({"status": "deadline", **progress})
                return
            await asyncio.sleep(self.poll_interval)
