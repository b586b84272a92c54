"""Sensors say what they found and what they wait for — in the same words on the poke and trigger paths."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_fptsms._compat import TaskDeferred
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sensors.campaign import FptCampaignApprovalSensor, FptCampaignSentSensor
from airflow_provider_fptsms.triggers.campaign import FptCampaignStatusTrigger


def test_poke_says_what_it_waits_for_then_what_it_found(
    fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str], capfd: pytest.CaptureFixture[str]
) -> None:
    code = new_campaign("msg-poke", phones=("0912345678", "0987654321"))
    sensor = FptCampaignSentSensor(task_id="sent", campaign_code=code, deferrable=False, poke_interval=120)
    assert sensor.poke({}).is_done is False
    out = capfd.readouterr().out
    seen = [out]
    assert f"Campaign {code}: pending approval; waiting for telco approval" in out
    assert "then for ScheduleTime" in out and "Vietnam time (" in out and "from now)" in out
    assert "next check in 120s" in out
    fptsms_sandbox.admin.configure(approval_delay=0)
    assert sensor.poke({}).is_done is False
    out = capfd.readouterr().out
    seen.append(out)
    assert f"Campaign {code}: approved; waiting for ScheduleTime" in out
    approval = FptCampaignApprovalSensor(task_id="approval", campaign_code=code, deferrable=False)
    assert approval.poke({}).is_done is True
    found = capfd.readouterr().out
    assert f"Campaign {code} approved (2 phones, quota 10)" in found
    assert all("912345678" not in text for text in (*seen, found))  # counts, never phones


def test_a_first_check_that_succeeds_says_what_it_found(
    fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str], capfd: pytest.CaptureFixture[str]
) -> None:
    code = new_campaign("msg-done")
    fptsms_sandbox.admin.configure(approval_delay=0)
    FptCampaignApprovalSensor(task_id="a", campaign_code=code).execute({})
    assert f"Campaign {code} approved (1 phone, quota 10)" in capfd.readouterr().out


async def test_trigger_and_execute_complete_use_the_same_words(
    fptsms_sandbox: SandboxHandle, new_campaign: Callable[..., str], capfd: pytest.CaptureFixture[str]
) -> None:
    code = new_campaign("msg-trigger")
    sensor = FptCampaignApprovalSensor(task_id="approval", campaign_code=code, poll_interval=0.05)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    before = capfd.readouterr().out
    assert f"Campaign {code}: pending approval; waiting for telco approval" in before
    assert "; deferring to the triggerer" in before
    fptsms_sandbox.admin.configure(approval_delay=0.2)
    trigger = deferred.value.trigger
    assert isinstance(trigger, FptCampaignStatusTrigger)
    event = await anext(trigger.run())
    polled = capfd.readouterr().out
    assert "next check in 0.05s" in polled and f"Campaign {code} approved (1 phone, quota 10)" in polled
    sensor.execute_complete({}, event.payload)
    assert f"Campaign {code} approved (1 phone, quota 10)" in capfd.readouterr().out
