"""Counters reach Airflow's Stats (StatsD / OpenTelemetry): names, values and tags, never a phone."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pendulum
import pytest

from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator
from airflow_provider_fptsms.operators.campaign_push import FptPushCampaignOperator
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.webhook.app import create_dlr_app
from airflow_provider_fptsms.webhook.store import DlrStore


@pytest.fixture
def counters(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    from airflow.providers.common.compat.sdk import Stats

    seen: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()

    def incr(stat: str, count: int = 1, rate: float = 1, *, tags: dict[str, str] | None = None) -> None:
        seen[(stat, tuple(sorted((tags or {}).items())))] += count

    monkeypatch.setattr(Stats, "incr", incr)
    return seen


def context(task_id: str) -> Any:
    ti = SimpleNamespace(dag_id="metrics", run_id="manual__1", task_id=task_id, map_index=-1, try_number=1)
    return {"ti": ti, "logical_date": pendulum.datetime(2026, 6, 1, tz="UTC")}


def phones(n: int) -> list[str]:
    return [f"0912{i:06d}" for i in range(n)]


def test_sends_and_pushes_are_counted_by_gateway(
    fptsms_sandbox: SandboxHandle, tmp_path: Path, counters: Counter[Any]
) -> None:
    FptSendSmsOperator(
        task_id="send", phones=phones(5), message="Chao ban", suppress=phones(1), state_path=str(tmp_path / "s")
    ).execute(context("send"))
    assert counters[("fptsms.messages.sent", (("gateway", "FPT"),))] == 4
    assert counters[("fptsms.phones.suppressed", (("gateway", "FPT"),))] == 1
    assert not any(name == "fptsms.messages.failed" for name, _tags in counters)  # a zero sends nothing

    code = FptCreateCampaignOperator(
        task_id="create", message="[QC] Uu dai", quota=10, state_path=str(tmp_path / "s")
    ).execute(context("create"))
    FptPushCampaignOperator(
        task_id="push", campaign_code=str(code), phones=phones(10), suppress=phones(2), state_path=str(tmp_path / "s")
    ).execute(context("push"))
    assert counters[("fptsms.phones.pushed", (("gateway", "FPT"),))] == 8
    assert counters[("fptsms.phones.suppressed", (("gateway", "FPT"),))] == 1 + 2
    assert not any("84912" in str(key) or "0912" in str(key) for key in counters)


async def test_the_webhook_counts_reports_and_refusals(tmp_path: Path, counters: Counter[Any]) -> None:
    store = DlrStore(f"sqlite:///{tmp_path / 'dlr.db'}")
    app = create_dlr_app(store, "k3y-for-the-test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fpt") as client:
        auth = {"Authorization": "Basic k3y-for-the-test"}
        await client.post("/dlr", json={"smsid": "1", "status": 1, "telco": "viettel"}, headers=auth)
        await client.post("/dlr", json={"smsid": "2", "status": 0, "telco": "vina"}, headers=auth)
        await client.post("/dlr", json={"smsid": "3", "status": 1}, headers={"Authorization": "Basic wrong"})
        await client.post("/dlr", content=b"{not json", headers=auth)
    assert counters[("fptsms.dlr.received", (("status", "delivered"),))] == 1
    assert counters[("fptsms.dlr.received", (("status", "failed"),))] == 1
    assert counters[("fptsms.webhook.refused", (("http_status", "401"),))] == 1
    assert counters[("fptsms.webhook.refused", (("http_status", "400"),))] == 1
