"""The issue's scenario, judged by what subscribers receive (the sandbox ledger), not by our own counters.

10,000 phones, 1,000 of them on a DNC file, 500 already sent 3 advertising messages in the last 24 hours by
earlier campaigns of the same brandname: the push sends 8,500, suppresses 1,000, caps 500; a retry of the
same push sends nothing and says why.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator
from airflow_provider_fptsms.operators.campaign_push import FptPushCampaignOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sms.schedule import next_valid_slot


def context(task_id: str, run: str, try_number: int = 1) -> Any:
    ti = SimpleNamespace(dag_id="qc_dag", run_id=run, task_id=task_id, map_index=-1, try_number=try_number)
    return {"ti": ti, "logical_date": pendulum.now("UTC")}


def phones(n: int, start: int = 0) -> list[str]:
    return [f"0912{i:06d}" for i in range(start, start + n)]


def campaign(tmp_path: Path, name: str, when: pendulum.DateTime, audience: list[str]) -> str:
    code = FptCreateCampaignOperator(
        task_id="create",
        message=f"[QC] Uu dai {name}",
        campaign_name=name,
        schedule_time=when.strftime("%Y-%m-%d %H:%M"),
        quota=len(audience),
        state_path=str(tmp_path / "state"),
    ).execute(context("create", name))
    assert isinstance(code, str)
    return code


def push(tmp_path: Path, code: str, audience: Any, run: str, **kwargs: Any) -> FptPushCampaignOperator:
    return FptPushCampaignOperator(
        task_id="push",
        campaign_code=code,
        phones=audience,
        state_path=str(tmp_path / "state"),
        output_path=str(tmp_path / f"{run}.csv"),
        **kwargs,
    )


def test_dnc_and_frequency_cap_as_subscribers_see_them(
    fptsms_sandbox: SandboxHandle, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    first = next_valid_slot(pendulum.now("Asia/Ho_Chi_Minh"))
    slots = [first]
    for _ in range(3):
        slots.append(next_valid_slot(pendulum.now("Asia/Ho_Chi_Minh"), not_before=slots[-1].add(minutes=30)))
    assert slots[-1] - slots[0] < pendulum.duration(hours=24)  # every send is inside one 24-hour period
    busy = phones(500, start=9_000)  # already reached three times by this brandname
    for index, when in enumerate(slots[:3]):
        code = campaign(tmp_path, f"earlier-{index}", when, busy)
        assert (
            push(tmp_path, code, busy, f"earlier-{index}").execute(context("push", f"earlier-{index}"))["pushed"] == 500
        )

    audience = phones(10_000)
    dnc = tmp_path / "dnc.csv"
    dnc.write_text("so_dien_thoai\n" + "\n".join(f"+84 {p[1:]}" for p in phones(1_000, start=4_000)) + "\n")
    code = campaign(tmp_path, "tet", slots[3], audience)
    summary = push(
        tmp_path, code, audience, "tet", suppress={"dnc": str(dnc)}, chunk_size=700, prices={"default": 850}
    ).execute(context("push", "tet"))

    received = Counter(entry["phone"] for entry in fptsms_sandbox.admin.ledger(kind="qc"))
    this_campaign = {entry["phone"] for entry in fptsms_sandbox.admin.ledger(campaign_code=code)}
    assert len(this_campaign) == 8_500 and max(received.values()) == 3  # nobody gets a fourth message
    dnc_numbers = {"84" + p[1:] for p in phones(1_000, start=4_000)}
    assert not dnc_numbers & this_campaign
    assert (summary["pushed"], summary["suppression"]["suppressed"], summary["capped"]) == (8_500, 1_000, 500)
    assert summary["suppression"]["by_list"] == {"dnc": 1_000}
    assert (summary["cost"]["messages"], summary["cost"]["vnd"]) == (8_500, 8_500 * 850)
    with open(tmp_path / "tet.csv", newline="") as report:
        statuses = Counter(row["status"] for row in csv.DictReader(report))
    assert statuses == {"pushed": 8_500, "suppressed": 1_000, "capped": 500}

    again = push(tmp_path, code, audience, "tet", suppress={"dnc": str(dnc)}, chunk_size=700).execute(
        context("push", "tet", try_number=2)
    )
    said = capfd.readouterr().out
    assert "Nothing new to push: all 8500 phones" in said and "1000 suppressed, 500 capped (max_per_24h=3)" in said
    assert again["pushed_this_try"] == 0 and again["already_done"] is True
    assert (again["suppression"]["suppressed"], again["capped"]) == (1_000, 500)
    with open(tmp_path / "tet.csv", newline="") as report:
        statuses = Counter(row["status"] for row in csv.DictReader(report))
    assert statuses == {"already_pushed": 8_500, "suppressed": 1_000, "capped": 500}
    assert len({entry["phone"] for entry in fptsms_sandbox.admin.ledger(campaign_code=code)}) == 8_500
