"""Create / push / report operators against the sandbox: quotas, schedule rules, resume, exactly-once."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from airflow_provider_fptsms._compat import AirflowFailException, TaskDeferred
from airflow_provider_fptsms.gateways.errors import InvalidInputError, NetworkError
from airflow_provider_fptsms.operators.campaign import (
    FptCampaignReportOperator,
    FptCreateCampaignOperator,
    FptPushCampaignOperator,
    chunk_ranges,
    derive_campaign_name,
)
from airflow_provider_fptsms.operators.campaign_push import chunk_label, planned_chunks
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sms.schedule import ScheduleError
from tests.leaks import RAW_PHONE

pytestmark = [pytest.mark.usefixtures("fast_conn"), pytest.mark.exactly_once]


def context(task_id: str = "t", try_number: int = 1, run_id: str = "manual__1") -> Any:
    ti = SimpleNamespace(dag_id="qc_dag", run_id=run_id, task_id=task_id, map_index=-1, try_number=try_number)
    return {"ti": ti, "logical_date": pendulum.datetime(2026, 6, 1, 7, 30, tz="UTC")}


def phones(n: int, start: int = 0) -> list[str]:
    return [f"0912{i:06d}" for i in range(start, start + n)]


def create(tmp_path: Path, **kwargs: Any) -> Any:  # .execute() gives str, or a dict in dry-run mode
    kwargs.setdefault("message", "[QC] Khuyen mai 20% cuoi tuan")
    return FptCreateCampaignOperator(task_id="create", state_path=str(tmp_path / "state"), **kwargs)


def push(tmp_path: Path, code: str, source: Any, **kwargs: Any) -> FptPushCampaignOperator:
    return FptPushCampaignOperator(
        task_id="push", campaign_code=code, phones=source, state_path=str(tmp_path / "state"), **kwargs
    )


def test_campaign_names_are_deterministic_short_and_safe() -> None:
    moment = pendulum.datetime(2026, 6, 1, 7, 30)
    name = derive_campaign_name("Marketing: Tết 2026 / very long dag id for a campaign", moment)
    assert name == derive_campaign_name("Marketing: Tết 2026 / very long dag id for a campaign", moment)
    assert len(name) <= 29 and name.endswith("-2606010730") and all(c.isalnum() or c == "-" for c in name)
    assert derive_campaign_name("promo", moment) == "promo-2606010730"
    # a run without a logical date: its run id, hashed (the run id's own digits could look like a phone)
    run_name = derive_campaign_name("promo", "manual__2026-12-01T14:55:05.915800+00:00")
    assert re.fullmatch(r"promo-r[0-9a-f]{9}", run_name) and not RAW_PHONE.search(run_name)
    assert run_name != derive_campaign_name("promo", "manual__2026-12-01T14:55:05.915801+00:00")


def test_dry_run_validates_and_calls_nothing(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    audience = [*phones(3), "0912000001", "12345", "+84 912 000 002"]
    preview = create(tmp_path, phones=audience, quota_margin=2, dry_run=True).execute(context())
    assert preview["quota"] == 3 * 1 + 2 and preview["audience"]["invalid"] == 1
    assert preview["audience"]["duplicates"] == 2 and preview["campaign_name"] == "qc-dag-2606010730"
    long_text = "x" * 200  # FPT: 200 characters = 2 messages
    assert (
        create(tmp_path, message=long_text, phones=phones(10), dry_run=True, auto_label=True).execute(context())[
            "quota"
        ]
        == 20
    )
    assert fptsms_sandbox.admin.requests() == {}


def test_bad_schedule_fails_before_any_call_with_next_slot(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    tomorrow = pendulum.now("Asia/Ho_Chi_Minh").add(days=1).format("YYYY-MM-DD")
    with pytest.raises(ScheduleError) as caught:
        create(tmp_path, schedule_time=f"{tomorrow} 12:15", quota=10).execute(context())
    assert "next valid slot" in str(caught.value).lower() or caught.value.next_slot is not None
    with pytest.raises(InvalidInputError, match="message"):
        create(tmp_path, message="  ", quota=10).execute(context())
    with pytest.raises(InvalidInputError, match="quota"):
        create(tmp_path, quota=-1).execute(context())
    assert fptsms_sandbox.admin.requests() == {}


def test_create_is_idempotent(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    first = create(tmp_path, phones=phones(5)).execute(context())
    again = create(tmp_path, phones=phones(5)).execute(context(try_number=2))
    assert first == again
    campaigns = fptsms_sandbox.admin.campaigns()
    assert [c["CampaignName"] for c in campaigns] == ["qc-dag-2606010730"] and campaigns[0]["Quota"] == 5


def test_a_rerun_with_a_changed_message_or_audience_does_not_reuse_the_old_campaign(
    fptsms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    create(tmp_path, phones=phones(5)).execute(context())
    with pytest.raises(AirflowFailException, match=r"different message.*new campaign_name"):
        create(tmp_path, message="[QC] Khuyen mai da sua", phones=phones(5)).execute(context(try_number=2))
    with pytest.raises(AirflowFailException, match=r"quota \(5 then, 8 now\)"):
        create(tmp_path, phones=phones(8)).execute(context(try_number=3))
    fixed = create(tmp_path, message="[QC] Khuyen mai da sua", campaign_name="qc-dag-v2", phones=phones(5))
    assert fixed.execute(context(try_number=4)) != create(tmp_path, phones=phones(5)).execute(context(try_number=5))
    assert len(fptsms_sandbox.admin.campaigns()) == 2


@pytest.mark.gateway_texts
def test_a_5xx_after_the_campaign_was_created_is_treated_like_a_lost_reply(
    fptsms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    from airflow_provider_fptsms.gateways.errors import RetryableError

    first = create(tmp_path, quota=5)
    real = first.hook.create_campaign

    def created_then_502(*args: Any, **kwargs: Any) -> str:
        real(*args, **kwargs)
        raise RetryableError("bad gateway", gateway="FPT", http_status=502)

    first.hook.create_campaign = created_then_502
    with pytest.raises(RetryableError):
        first.execute(context())
    code = create(tmp_path, quota=5).execute(context(try_number=2))  # not "name exists" on every retry
    names = sorted(c["CampaignName"] for c in fptsms_sandbox.admin.campaigns())
    assert names == ["qc-dag-2606010730", "qc-dag-2606010730-r2"] and code


@pytest.mark.gateway_texts
def test_a_name_taken_by_someone_else_fails_on_every_try(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    from airflow_provider_fptsms._compat import AirflowFailException

    create(tmp_path / "elsewhere", campaign_name="shared-name", quota=5).execute(context())  # another state folder
    for try_number in (1, 2, 3):  # no Airflow retry either: AirflowFailException
        with pytest.raises(AirflowFailException, match=r"already exists.*pass a new campaign_name"):
            create(tmp_path, campaign_name="shared-name", quota=5).execute(context(try_number=try_number))
    assert [c["CampaignName"] for c in fptsms_sandbox.admin.campaigns()] == ["shared-name"]  # no -r2 behind it


@pytest.mark.gateway_texts
def test_create_after_a_lost_reply_makes_one_usable_campaign(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    fptsms_sandbox.admin.set_faults(script=["lost_reply"], paths=["/api/create-campaign"])
    with pytest.raises(NetworkError):
        create(tmp_path, quota=10).execute(context())
    code = create(tmp_path, quota=10).execute(context(try_number=2))
    names = sorted(c["CampaignName"] for c in fptsms_sandbox.admin.campaigns())
    assert names == ["qc-dag-2606010730", "qc-dag-2606010730-r2"]
    assert code == next(c["CampaignCode"] for c in fptsms_sandbox.admin.campaigns() if c["CampaignName"].endswith("r2"))


def test_push_file_in_chunks(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    audience = tmp_path / "audience.csv.gz"
    rows = ["name,so_dien_thoai", *[f"c{i},{p}" for i, p in enumerate(phones(2500))], "bad,123", "dup,0912000000"]
    audience.write_bytes(gzip.compress("\n".join(rows).encode()))
    code = create(tmp_path, phones=str(audience)).execute(context())
    summary = push(
        tmp_path, code, str(audience), chunk_size=1000, invalid_output=str(tmp_path / "invalid.csv")
    ).execute(context("push"))
    assert (summary["pushed"], summary["chunks"], summary["remain_quota"]) == (2500, 3, 0)
    assert summary["phones"]["invalid"] == 1 and summary["phones"]["duplicates"] == 1
    assert (tmp_path / "invalid.csv").read_text().splitlines()[1].startswith("2501,")  # data row 2501: "bad,123"
    ledger = fptsms_sandbox.admin.summary(campaign_code=code)
    assert (ledger["total"], ledger["duplicates"]) == (2500, 0)


def _fault_on_third_chunk(operator: FptPushCampaignOperator, sandbox: SandboxHandle, fault: str) -> None:
    """Chunks 1-2 are acknowledged; chunk 3's push call meets ``fault``."""
    _fault_on_nth_chunk(operator, sandbox, fault, 3)


def _fault_on_nth_chunk(operator: FptPushCampaignOperator, sandbox: SandboxHandle, fault: str, nth: int) -> None:
    original = operator.hook.push_campaign
    calls = {"n": 0}

    def nth_chunk_fails(campaign_code: str, chunk: list[str]) -> Any:
        calls["n"] += 1
        if calls["n"] == nth:
            sandbox.admin.set_faults(script=[fault], paths=["/api/push-brandname-ads"])
        return original(campaign_code, chunk)

    operator.hook.push_campaign = nth_chunk_fails  # type: ignore[method-assign,assignment]


@pytest.mark.parametrize(("fault", "landed"), [("lost_reply", 3000), ("drop", 2000), ("error_5xx", 2000)])
def test_resume_after_a_failed_chunk_sends_each_phone_once(
    fptsms_sandbox: SandboxHandle, tmp_path: Path, fault: str, landed: int
) -> None:
    code = create(tmp_path, quota=5000).execute(context())
    operator = push(tmp_path, code, phones(5000), chunk_size=1000, chunk_attempts=1)  # the fault kills the try
    _fault_on_third_chunk(operator, fptsms_sandbox, fault)
    with pytest.raises(NetworkError if fault != "error_5xx" else Exception):
        operator.execute(context("push"))
    assert fptsms_sandbox.admin.summary(campaign_code=code)["total"] == landed
    summary = push(tmp_path, code, phones(5000), chunk_size=1000).execute(context("push", try_number=2))
    assert summary["pushed"] == 5000 and summary["pushed_this_try"] == 5000 - landed
    ledger = fptsms_sandbox.admin.summary(campaign_code=code)
    assert (ledger["total"], ledger["unique"], ledger["duplicates"]) == (5000, 5000, 0)


@pytest.mark.parametrize(("fault", "landed"), [("lost_reply", True), ("drop", False), ("error_5xx", False)])
def test_a_failed_chunk_is_recovered_within_the_try(
    fptsms_sandbox: SandboxHandle, tmp_path: Path, fault: str, landed: bool
) -> None:
    code = create(tmp_path, quota=5000).execute(context())
    operator = push(tmp_path, code, phones(5000), chunk_size=1000)
    _fault_on_third_chunk(operator, fptsms_sandbox, fault)
    summary = operator.execute(context("push"))
    assert summary["pushed"] == summary["pushed_this_try"] == 5000 and summary["chunks"] == 5
    state = json.loads(next((tmp_path / "state" / "pushes").glob("*.json")).read_text())
    reconciled = [c["index"] for c in state["chunks"] if c["batch_id"] == "reconciled-from-detail-ads"]
    assert reconciled == ([2] if landed else [])  # detail-ads decided: recorded as landed, or pushed again
    ledger = fptsms_sandbox.admin.summary(campaign_code=code)
    assert (ledger["total"], ledger["unique"], ledger["duplicates"]) == (5000, 5000, 0)


def test_rerun_after_completion_sends_nothing(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    code = create(tmp_path, quota=300).execute(context())
    push(tmp_path, code, phones(300), chunk_size=100).execute(context("push"))
    summary = push(tmp_path, code, phones(300), chunk_size=100).execute(context("push", try_number=2))
    assert summary["pushed_this_try"] == 0 and fptsms_sandbox.admin.summary()["total"] == 300


def test_push_stops_before_the_quota_is_exceeded(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    code = create(tmp_path, quota=250).execute(context())
    with pytest.raises(AirflowFailException, match="quota"):
        push(tmp_path, code, phones(400), chunk_size=100).execute(context("push"))
    assert fptsms_sandbox.admin.summary()["total"] == 200
    small = create(tmp_path, campaign_name="tiny", quota=5).execute(context())
    with pytest.raises(AirflowFailException, match="1016"):
        push(tmp_path, small, phones(10), chunk_size=10).execute(context("push"))
    assert fptsms_sandbox.admin.summary(campaign_code=small)["total"] == 0


def test_mapped_ranges_cover_the_list_once(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    assert chunk_ranges(2500, 1000) == [(1, 1000), (1001, 2000), (2001, 2500)]
    code = create(tmp_path, quota=2500).execute(context())
    for index, row_range in enumerate(chunk_ranges(2500, 1000)):
        ctx = context("push")
        ctx["ti"].map_index = index
        push(tmp_path, code, phones(2500), chunk_size=400, row_range=row_range).execute(ctx)
    ledger = fptsms_sandbox.admin.summary(campaign_code=code)
    assert (ledger["total"], ledger["duplicates"]) == (2500, 0)


def test_report_waits_then_summarises(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    code = create(tmp_path, quota=20).execute(context())
    push(tmp_path, code, phones(20), chunk_size=10).execute(context("push"))
    report = FptCampaignReportOperator(
        task_id="report",
        campaign_code=code,
        wait_for_complete=True,
        output_path=str(tmp_path / "out" / "dlr.csv"),
        poll_interval=1,
    )
    with pytest.raises(TaskDeferred) as deferred:
        report.execute(context("report"))
    assert deferred.value.trigger.serialize()[1]["expected_rows"] == 20
    fptsms_sandbox.admin.configure(approval_delay=0, send_delay=0, dlr_delay=0, dlr_failure_rate=0.3)
    summary = report.execute_complete(context("report"), {"status": "complete"})
    assert summary["rows"] == 20 and summary["delivered"] + summary["failed"] == 20 and summary["failed"] > 0
    assert summary["by_error"] == {"DELIVERY_FAILED": summary["failed"]}
    assert (tmp_path / "out" / "dlr.csv").read_text().startswith("Phone,Telco,Status")


def test_extra_link_opens_the_campaign_on_the_portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_fptsms.links import FptCampaignLink

    operator = create(tmp_path, quota=10)
    assert FptCampaignLink().get_link(operator, ti_key=None) == ""  # nothing created yet
    code = operator.execute(context())
    link = FptCampaignLink().get_link(operator, ti_key=None)
    assert link.startswith("https://partner.sms.fpt.net/?search=") and code.replace("=", "%3D") in link
    monkeypatch.setenv("FPTSMS_PORTAL_URL", "https://portal.example/")
    pusher = push(tmp_path, "MjIxNQ==abc", ["0912345678"])
    assert FptCampaignLink().get_link(pusher, ti_key=None) == "https://portal.example/?search=MjIxNQ%3D%3Dabc"


def test_quota_covers_a_long_message_however_the_gateway_counts_it(
    fptsms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    message = "Khuyen mai cuoi tuan " * 15  # 315 GSM-7 characters: 2 blocks of 160, but 3 network parts
    code = create(tmp_path, message=message, phones=phones(100), auto_label=True).execute(context())
    summary = push(tmp_path, code, phones(100), chunk_size=40).execute(context("push"))
    assert summary["pushed"] == 100 and summary["remain_quota"] == 0


def test_reconciliation_counts_the_other_ranges_of_a_fanned_out_push(
    fptsms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """Range A's second chunk is dropped; range B pushes as many phones meanwhile. Total grew by
    exactly A's chunk size, but the chunk did not land: it must be pushed again, not recorded."""
    audience = phones(1500)
    code = create(tmp_path, quota=1500).execute(context())
    first = push(tmp_path, code, audience, chunk_size=500, row_range=(1, 1000), chunk_attempts=1)
    _fault_on_nth_chunk(first, fptsms_sandbox, "drop", 2)
    with pytest.raises(NetworkError):
        first.execute(context("push", run_id="r"))
    push(tmp_path, code, audience, chunk_size=500, row_range=(1001, 1500)).execute(context("push_b", run_id="r"))
    summary = push(tmp_path, code, audience, chunk_size=500, row_range=(1, 1000)).execute(
        context("push", try_number=2, run_id="r")
    )
    assert summary["pushed"] == 1000 and summary["pushed_this_try"] == 500
    ledger = fptsms_sandbox.admin.summary(campaign_code=code)
    assert (ledger["total"], ledger["unique"], ledger["duplicates"]) == (1500, 1500, 0)


@pytest.mark.parametrize(
    ("total", "mine", "others", "expected"),
    [
        (50, (0, 50), [], True),  # (acknowledged rows, rows in flight) per range; baseline 0
        (0, (0, 50), [], False),
        (75, (0, 50), [], None),  # neither fits: someone else pushed
        (1000, (500, 500), [(500, 0)], False),  # the other range's 500 explain the growth
        (1500, (500, 500), [(500, 0)], True),
        (1000, (500, 500), [(0, 500)], None),  # two equal chunks in flight: one landed, which?
        (1300, (500, 500), [(0, 300)], True),  # different sizes: only one explanation
        (1000, (500, 300), [(0, 500)], False),
    ],
)
def test_chunk_landed(total: int, mine: tuple[int, int], others: list[tuple[int, int]], expected: bool | None) -> None:
    from airflow_provider_fptsms.operators.campaign import chunk_landed
    from airflow_provider_fptsms.state import Chunk, PushProgress

    def record(key: str, acknowledged: int, in_flight: int) -> PushProgress:
        chunks = [Chunk(0, 1, acknowledged, "b", acknowledged, None)] if acknowledged else []
        flying = Chunk(len(chunks), 1, in_flight, "", 0, None) if in_flight else None
        return PushProgress(key=key, campaign_code="C", chunks=chunks, in_flight=flying, baseline_total=0)

    assert chunk_landed(total, record("C@a", *mine), [record(f"C@{i}", *o) for i, o in enumerate(others)]) is expected


def test_literal_audiences_are_masked_when_rendered(tmp_path: Path) -> None:
    from tests.compat import redact

    create(tmp_path, phones=["0912000881"], quota=1).render_template_fields({})
    push(tmp_path, "C1", ["0912000882"]).render_template_fields({})
    assert redact("0912000881 0912000882") == "*** ***"


def test_reconciliation_waits_while_another_ranges_chunk_in_flight_makes_it_ambiguous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mine (500) and theirs (500) in flight, Total grew by 500: either could have landed. Once the other
    range records its chunk as acknowledged, the same Total says mine did not land."""
    from airflow_provider_fptsms.operators import campaign_push as module
    from airflow_provider_fptsms.state import Chunk, PushProgress

    def other(acknowledged: bool, version: int) -> PushProgress:
        chunk = Chunk(0, 1, 500, "b1" if acknowledged else "", 500, None)
        return PushProgress(
            key="C@2",
            campaign_code="C",
            chunks=[chunk] if acknowledged else [],
            in_flight=None if acknowledged else chunk,
            baseline_total=0,
            version=version,
        )

    reads = iter([other(False, 3), other(False, 3), other(True, 4), other(True, 4)])  # before / after each Total
    operator = push(tmp_path, "C", ["0912000000"], row_range=(1, 1))
    mine = PushProgress(key="C@1", campaign_code="C", in_flight=Chunk(0, 1, 500, "", 0, None), baseline_total=0)
    monkeypatch.setattr(operator.store, "pushes_for", lambda code: [next(reads)])
    monkeypatch.setattr(operator.store, "save_push", lambda record, owner: None)
    monkeypatch.setattr(operator.hook, "campaign_status", lambda code: SimpleNamespace(total=500))
    monkeypatch.setattr(module.time, "sleep", lambda seconds: None)
    assert operator._reconcile(mine, "try1") is False and mine.in_flight is None and mine.chunks == []


@pytest.mark.parametrize(
    ("rows", "row_range", "chunk_size", "planned"),
    [
        (5000, None, 1000, 5),
        (5001, None, 1000, 6),  # a CSV header counts: the total is an upper bound, hence "~"
        (2500, (2001, 2500), 400, 2),
        (2500, (1, 1000), 400, 3),
        (None, (1, 1000), 400, 3),  # a remote file: the range still bounds it
        (None, None, 400, None),
        (0, None, 10, 1),
    ],
)
def test_planned_chunks(rows: int | None, row_range: tuple[int, int] | None, chunk_size: int, planned: int) -> None:
    assert planned_chunks(rows, row_range, chunk_size) == planned


def test_chunk_labels_count_from_one_like_the_summary() -> None:
    assert chunk_label(0, 12) == "chunk 1 of ~12" and chunk_label(11, 12) == "chunk 12 of ~12"
    assert chunk_label(12, 12) == "chunk 13" and chunk_label(2, None) == "chunk 3"  # estimate passed / unknown


def test_chunk_messages_are_one_based_and_name_the_planned_total(
    fptsms_sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The third of five chunks loses its reply: every line says "chunk 3 of ~5", and the last
    progress line counts the same way as the summary's ``chunks``. (Operator logs go through
    Airflow's structlog to stdout, not to ``caplog``.)"""
    code = create(tmp_path, quota=5000).execute(context())
    operator = push(tmp_path, code, phones(5000), chunk_size=1000)
    _fault_on_third_chunk(operator, fptsms_sandbox, "lost_reply")
    capsys.readouterr()
    summary = operator.execute(context("push"))
    logged = capsys.readouterr().out
    assert "Chunk 3 of ~5, attempt 1 of 3: " in logged
    assert "Chunk 3 of ~5 (1000 phones) had landed before the reply was lost: recorded, not re-sent" in logged
    assert summary["chunks"] == 5 and "Pushed 5 of ~5 chunks, 5000 phones (5000 this try" in logged
    assert "chunk 0" not in logged.lower()


@pytest.mark.gateway_texts
def test_pushing_to_a_campaign_already_sent_says_to_create_a_new_one(
    fptsms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """FPT answers 1014 "Campaign is already sent." once ScheduleTime has passed: the user is told
    that more phones cannot go to it, not something about campaign names."""
    code = create(tmp_path, quota=10).execute(context())
    push(tmp_path, code, phones(3), chunk_size=10).execute(context("push"))
    fptsms_sandbox.admin.advance_clock(8 * 86_400)  # approved, and past any ScheduleTime "next_valid" picks
    # AirflowFailException: no task retry, the gateway's answer would not change
    with pytest.raises(AirflowFailException) as caught:
        push(tmp_path, code, phones(6), chunk_size=10).execute(context("push", try_number=2))
    said = (
        "Chiến dịch đã được gửi."
        if os.environ.get("FPTSMS_SANDBOX_ERROR_TEXTS") == "vi"
        else "Campaign is already sent."
    )
    assert str(caught.value) == (
        f"FPT error 1014: Input parameter error (gateway said: '{said}'). Next step: the "
        "campaign was already sent at its ScheduleTime; pushing more phones to it is not possible. Create a new "
        "campaign (a new CampaignName) for the phones not pushed yet. Chunk 2 was not pushed; 3 phones were "
        "pushed before."
    )
    assert fptsms_sandbox.admin.summary(campaign_code=code)["total"] == 3
