"""Approval and sent sensors: poke mode, deferral to the trigger, and the trigger's events."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from airflow_provider_fptsms._compat import AirflowFailException, TaskDeferred
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sensors.campaign import FptCampaignApprovalSensor, FptCampaignSentSensor
from airflow_provider_fptsms.triggers.campaign import FptCampaignReportTrigger, FptCampaignStatusTrigger


def test_trigger_serializes_exactly() -> None:
    trigger = FptCampaignStatusTrigger("C1", wait_for="sent", fpt_conn_id="c", poll_interval=5)
    assert trigger.serialize() == (
        "airflow_provider_fptsms.triggers.campaign.FptCampaignStatusTrigger",
        {"campaign_code": "C1", "wait_for": "sent", "fpt_conn_id": "c", "poll_interval": 5},
    )
    report = FptCampaignReportTrigger("C1", 10, "c", 60, deadline=123.0)
    assert report.serialize() == (
        "airflow_provider_fptsms.triggers.campaign.FptCampaignReportTrigger",
        {"campaign_code": "C1", "expected_rows": 10, "fpt_conn_id": "c", "poll_interval": 60, "deadline": 123.0},
    )


async def test_trigger_waits_for_approval(fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str]) -> None:
    code = new_campaign("trg-approve")
    fptsms_sandbox.admin.configure(approval_delay=0.3)
    event = await anext(FptCampaignStatusTrigger(code, poll_interval=0.05).run())
    assert event.payload["status"] == "approved" and event.payload["total"] == 1
    assert fptsms_sandbox.admin.requests()["/api/detail-ads"] >= 2  # it really polled


async def test_trigger_reports_rejection_and_errors(
    fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str]
) -> None:
    code = new_campaign("trg-reject", message="Ca cuoc bong da")
    fptsms_sandbox.admin.configure(approval_delay=0, blocked_words=["cuoc"])
    event = await anext(FptCampaignStatusTrigger(code, poll_interval=0.05).run())
    assert event.payload["status"] == "rejected" and "cuoc" in event.payload["reason"]
    missing = await anext(FptCampaignStatusTrigger("nope", poll_interval=0.05).run())
    assert missing.payload["status"] == "error" and "1014" in missing.payload["message"]


async def test_trigger_survives_5xx_while_polling(
    fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str]
) -> None:
    code = new_campaign("trg-5xx")
    fptsms_sandbox.admin.configure(approval_delay=0, send_delay=0)
    fptsms_sandbox.admin.set_faults(script=["error_5xx"] * 6, paths=["/api/detail-ads"])
    event = await anext(FptCampaignStatusTrigger(code, wait_for="sent", poll_interval=0.01).run())
    assert event.payload["status"] == "sent"


async def test_report_trigger_complete_and_deadline(
    fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str]
) -> None:
    code = new_campaign("trg-report", phones=("0912345678", "0987654321"))
    fptsms_sandbox.admin.configure(approval_delay=0, send_delay=0, dlr_delay=0.3)
    early = await anext(FptCampaignReportTrigger(code, 2, poll_interval=0.01, deadline=0).run())
    assert early.payload["status"] == "deadline" and early.payload["final"] == 0
    done = await anext(FptCampaignReportTrigger(code, 2, poll_interval=0.05).run())
    assert done.payload == {"status": "complete", "campaign_code": code, "rows": 2, "final": 2, "pending": 0}
    fptsms_sandbox.admin.set_faults(error_5xx_rate=1.0, paths=["/api/dlr-ads"])  # dlr-ads down for good
    stuck = await anext(FptCampaignReportTrigger(code, 5, poll_interval=0.01, deadline=time.time() + 0.5).run())
    assert stuck.payload["status"] == "deadline"  # the deadline holds even when no read succeeds


def test_sensor_defers_while_pending(new_campaign: Callable[..., str]) -> None:
    code = new_campaign("sens-defer")
    sensor = FptCampaignApprovalSensor(task_id="approval", campaign_code=code, poll_interval=30)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, FptCampaignStatusTrigger) and trigger.campaign_code == code
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout is not None and deferred.value.timeout.total_seconds() == 12 * 3600
    result = sensor.execute_complete(
        {},
        {
            "status": "approved",
            "campaign_code": code,
            "state": "approved",
            "total": 1,
            "quota": 10,
            "sending_time": "x",
        },
    )
    assert result["state"] == "approved"
    with pytest.raises(AirflowFailException, match="blocked word"):
        sensor.execute_complete({}, {"status": "rejected", "reason": "blocked word"})


def test_sensor_returns_at_once_when_already_done(
    fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str]
) -> None:
    code = new_campaign("sens-done")
    fptsms_sandbox.admin.configure(approval_delay=0)
    result = FptCampaignApprovalSensor(task_id="a", campaign_code=code).execute({})
    assert result["state"] == "approved" and result["total"] == 1


def test_poke_mode_and_rejection(fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str]) -> None:
    code = new_campaign("sens-poke", message="Khuyen mai casino")
    sensor = FptCampaignSentSensor(task_id="sent", campaign_code=code, deferrable=False)
    assert sensor.poke({}).is_done is False
    fptsms_sandbox.admin.configure(approval_delay=0)
    with pytest.raises(AirflowFailException, match="casino"):
        sensor.poke({})
