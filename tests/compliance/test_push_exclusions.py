"""Suppressed and capped phones inside a push: never pushed, each row reported once, a killed try resumed
without pushing anyone twice (judged by the sandbox ledger), and every refusal before any request."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from airflow_provider_fptsms.contact_history import ContactHistory
from airflow_provider_fptsms.gateways.errors import InvalidInputError, NetworkError
from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator
from airflow_provider_fptsms.operators.campaign_preview import FptCampaignPreviewOperator
from airflow_provider_fptsms.operators.campaign_push import FptPushCampaignOperator
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sms.schedule import ScheduleError, next_valid_slot

VN = "Asia/Ho_Chi_Minh"


def context(task_id: str = "t", try_number: int = 1, run: str = "manual__1") -> Any:
    ti = SimpleNamespace(dag_id="qc_dag", run_id=run, task_id=task_id, map_index=-1, try_number=try_number)
    return {"ti": ti, "logical_date": pendulum.datetime(2026, 6, 1, 7, 30, tz="UTC")}


def phones(n: int, start: int = 0) -> list[str]:
    return [f"0912{i:06d}" for i in range(start, start + n)]


def statuses(path: Path) -> Counter[str]:
    with path.open(newline="") as report:
        return Counter(row["status"] for row in csv.DictReader(report))


def create(tmp_path: Path, name: str, when: pendulum.DateTime, quota: int) -> str:
    code = FptCreateCampaignOperator(
        task_id="create",
        message="[QC] Uu dai",
        campaign_name=name,
        schedule_time=when.strftime("%Y-%m-%d %H:%M"),
        quota=quota,
        state_path=str(tmp_path / "state"),
    ).execute(context(run=name))
    assert isinstance(code, str)
    return code


def push(tmp_path: Path, code: str, source: Any, **kwargs: Any) -> FptPushCampaignOperator:
    kwargs.setdefault("output_path", str(tmp_path / "push.csv"))
    return FptPushCampaignOperator(
        task_id="push", campaign_code=code, phones=source, state_path=str(tmp_path / "state"), **kwargs
    )


def fill_history(phones84: list[str], when: pendulum.DateTime, times: int, advertiser: str = "SANDBOX") -> None:
    """Earlier campaigns of the advertiser already reached these phones (recorded as the push records them)."""
    history = ContactHistory()
    for index in range(times):
        history.reserve(advertiser, f"earlier-{index}", when.subtract(hours=index + 1), phones84, cap=3)


def test_a_killed_push_with_gaps_resumes_without_pushing_twice(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    when = next_valid_slot(pendulum.now(VN))
    audience = phones(1000)
    capped = ["84" + p[1:] for p in audience[100:1000:7]]  # scattered through every chunk
    fill_history(capped, when, times=3)
    dnc = [p for p in audience[50:1000:11] if "84" + p[1:] not in capped]
    code = create(tmp_path, "gaps", when, 1000)
    first = push(tmp_path, code, audience, chunk_size=100, chunk_attempts=1, suppress=dnc)
    original, calls = first.hook.push_campaign, {"n": 0}

    def dies_on_the_fifth_chunk(campaign_code: str, chunk: list[str]) -> Any:
        calls["n"] += 1
        if calls["n"] == 5:
            fptsms_sandbox.admin.set_faults(script=["drop"], paths=["/api/push-brandname-ads"])
        return original(campaign_code, chunk)

    first.hook.push_campaign = dies_on_the_fifth_chunk  # type: ignore[method-assign,assignment]
    with pytest.raises(NetworkError):
        first.execute(context("push"))
    landed = fptsms_sandbox.admin.summary(campaign_code=code)["total"]
    assert 0 < landed < 1000 - len(capped) - len(dnc)

    summary = push(tmp_path, code, audience, chunk_size=100, suppress=dnc).execute(context("push", try_number=2))
    expected = 1000 - len(capped) - len(dnc)
    ledger = fptsms_sandbox.admin.summary(campaign_code=code)
    assert (ledger["total"], ledger["unique"], ledger["duplicates"]) == (expected, expected, 0)
    pushed = {entry["phone"] for entry in fptsms_sandbox.admin.ledger(campaign_code=code)}
    assert not pushed & set(capped) and not pushed & {"84" + p[1:] for p in dnc}
    assert summary["pushed"] == expected and summary["pushed_this_try"] == expected - landed
    assert summary["capped"] == len(capped) and summary["suppression"]["suppressed"] == len(dnc)
    assert statuses(tmp_path / "push.csv") == {
        "already_pushed": landed,
        "pushed": expected - landed,
        "capped": len(capped),
        "suppressed": len(dnc),
    }


def test_the_cap_is_off_with_none_and_each_advertiser_counts_alone(
    fptsms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    when = next_valid_slot(pendulum.now(VN))
    busy = ["84" + p[1:] for p in phones(10)]
    fill_history(busy, when, times=3, advertiser="OTHER-BRAND")
    code = create(tmp_path, "own-brand", when, 10)
    assert push(tmp_path, code, phones(10)).execute(context("push"))["capped"] == 0  # another brand's sends
    fill_history(busy, when, times=3)
    code = create(tmp_path, "no-cap", when, 10)
    summary = push(tmp_path, code, phones(10), max_per_24h=None).execute(context("push", run="no-cap"))
    assert summary["pushed"] == 10 and "capped" not in summary


def test_the_send_operator_never_sends_to_a_suppressed_phone(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    report = tmp_path / "send.csv"
    summary = FptSendSmsOperator(
        task_id="send",
        phones=phones(5),
        message="Chao ban",
        suppress={"opt_outs": phones(2, start=1)},
        output_path=str(report),
        state_path=str(tmp_path / "state"),
    ).execute(context("send"))
    assert summary["sent"] == 3 and summary["suppression"]["by_list"] == {"opt_outs": 2}
    sent = {entry["phone"] for entry in fptsms_sandbox.admin.ledger()}
    assert sent == {"84912000000", "84912000003", "84912000004"}
    assert statuses(report) == {"sent": 3, "suppressed": 2}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"message": "Uu dai 20%"}, "does not start with an advertising label"),
        ({"message": "[QC] Uu dai", "schedule_time": "2027-01-20 22:30"}, "outside the advertising hours"),
        ({"message": "Uu dai", "auto_label": "[KM]"}, "auto_label"),
    ],
)
def test_content_and_hours_are_refused_before_any_request(
    fptsms_sandbox: SandboxHandle, tmp_path: Path, kwargs: dict[str, Any], error: str
) -> None:
    operator = FptCreateCampaignOperator(task_id="c", quota=5, state_path=str(tmp_path / "state"), **kwargs)
    with pytest.raises((InvalidInputError, ScheduleError), match=error):
        operator.execute(context())
    assert fptsms_sandbox.admin.requests() == {}


def test_auto_label_is_what_fpt_receives_and_counts(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    code = FptCreateCampaignOperator(
        task_id="c", message="x" * 156, auto_label=True, phones=phones(4), state_path=str(tmp_path / "state")
    ).execute(context())
    assert isinstance(code, str)
    [created] = [c for c in fptsms_sandbox.admin.campaigns() if c["CampaignCode"] == code]
    assert int(created["Quota"]) == 4 * 2  # 161 characters: 2 parts each
    push(tmp_path, code, phones(4)).execute(context("push"))
    assert {entry["message"] for entry in fptsms_sandbox.admin.ledger(campaign_code=code)} == {"[QC] " + "x" * 156}


def test_the_preview_counts_what_the_push_would_and_records_nothing(
    fptsms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    when = next_valid_slot(pendulum.now(VN))
    audience = [*phones(20), "12345", "0912000000"]
    capped = ["84" + p[1:] for p in phones(3, start=10)]
    fill_history(capped, when, times=3)
    preview = FptCampaignPreviewOperator(
        task_id="preview",
        message="Uu dai cuoi tuan",
        auto_label=True,
        schedule_time=when.strftime("%Y-%m-%d %H:%M"),
        phones=audience,
        suppress={"dnc": phones(2, start=15)},
        prices={"vina": 800},
        state_path=str(tmp_path / "state"),
    ).execute(context("preview"))
    assert (preview["suppressed"], preview["capped"], preview["to_push"]) == (2, 3, 15)
    assert preview["estimated_cost"]["vnd"] == 15 * 800
    markdown = preview["markdown"]
    for words in ("| Suppressed | 2 (dnc 2) |", "| Capped | 3 (more than 3 in 24 h) |", "| To push | 15 phones |"):
        assert words in markdown
    assert "```text\n[QC] Uu dai cuoi tuan\n```" in markdown
    assert "| Estimated cost | 15 SMS parts, about 12,000 VND |" in markdown and "| Quota asked | 18 |" in markdown
    assert "0912" not in markdown and "84912" not in markdown
    assert fptsms_sandbox.admin.requests() == {}  # nothing asked of FPT
    again = ContactHistory().capped("SANDBOX", "another", when, [*capped, "84912000001"], cap=3)
    assert again == [True, True, True, False]  # the preview recorded nothing
