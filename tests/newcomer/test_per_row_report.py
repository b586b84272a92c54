"""Issue 14, item 2: every input row ends in exactly one row of ``output_path``, for the send and the push.

The ground truth is the input file as written here (which data rows are valid, invalid, repeated)
and the sandbox's ledger (what reached a phone), not the operators' own counts.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from airflow_provider_fptsms._compat import AirflowFailException
from airflow_provider_fptsms.gateways.errors import InvalidInputError, NetworkError
from airflow_provider_fptsms.operators.campaign import (
    FptCreateCampaignOperator,
    FptPushCampaignOperator,
    chunk_ranges,
)
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.leaks import RAW_PHONE

#: a customer export as Excel writes it: ``;``, a blank line (it keeps its row number), mistakes
EXPORT = """ten;so_dien_thoai;uu_dai
An;0912 345 601;10%
Binh;024 3825 1234;10%
Chi;0912345601;15%

Dung;0912345603;casino
Em;12345;5%
Giang;0912345604;20%
"""
#: what a reader of EXPORT sees, data row by data row (row 4 is the blank line)
EXPECTED_SEND = {
    1: "sent",
    2: "invalid",  # a landline
    3: "duplicate",  # An's phone again
    5: "failed",  # the sandbox blocks the word "casino" (FPT code 6)
    6: "invalid",  # too short
    7: "sent",
}


@pytest.fixture
def connections(fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SandboxHandle:
    fast = {"backoff": 0.001, "max_attempts": 2, "timeout": 5}
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(fptsms_sandbox.fpt_connection(**fast)))
    monkeypatch.setenv("FPTSMS_STATE_PATH", str(tmp_path / "state"))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))
    return fptsms_sandbox


def context(task_id: str, map_index: int = -1, try_number: int = 1) -> Any:
    ti = SimpleNamespace(dag_id="crm", run_id="manual__1", task_id=task_id, map_index=map_index, try_number=try_number)
    return {"ti": ti, "logical_date": pendulum.datetime(2026, 6, 1, 7, 30, tz="UTC")}


def read_report(path: str | Path) -> list[dict[str, str]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def no_raw_phone(path: str | Path) -> bool:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        return RAW_PHONE.search(handle.read().replace(" ", "")) is None


def test_the_send_reports_every_row_once_with_its_status_and_reason(connections: SandboxHandle, tmp_path: Path) -> None:
    export = tmp_path / "khach_hang.csv"
    export.write_text(EXPORT, encoding="utf-8")
    summary = FptSendSmsOperator(
        task_id="send",
        phones=str(export),
        phone_column="so_dien_thoai",
        message="Chao {ten}, uu dai {uu_dai} cho ban",
        fail_on="all",
    ).execute(context("send"))
    rows = read_report(summary["output_path"])
    assert {int(r["row"]): r["status"] for r in rows} == EXPECTED_SEND
    assert [int(r["row"]) for r in rows] == sorted(EXPECTED_SEND)  # in the file's order, each row once
    by_row = {int(r["row"]): r for r in rows}
    assert by_row[2]["error"] == (
        "landline. Next step: brandname SMS reaches mobiles only; ask the customer for a mobile number"
    )
    assert by_row[2]["phone"] == "024 3***234"  # the value as typed, masked
    assert by_row[3]["error"] == "same phone as row 1: it gets one message, not two"
    assert by_row[5]["error_code"] == "6" and "Next step:" in by_row[5]["error"]
    assert by_row[6]["error"].startswith("too short. Next step: a Vietnamese mobile number has 10 digits")
    assert by_row[1]["message_id"] and by_row[7]["message_id"] and not by_row[2]["request_id"]
    assert no_raw_phone(summary["output_path"])
    ledger = connections.admin.summary()
    assert (ledger["total"], ledger["duplicates"]) == (2, 0)  # An and Giang, once each


def test_a_send_refused_for_invalid_rows_lists_every_row_and_sends_nothing(
    connections: SandboxHandle, tmp_path: Path
) -> None:
    export = tmp_path / "khach_hang.csv"
    export.write_text(EXPORT, encoding="utf-8")
    output = tmp_path / "ket_qua.csv"
    operator = FptSendSmsOperator(
        task_id="send", phones=str(export), message="Chao {ten}", output_path=str(output)
    )  # fail_on="any", the default
    with pytest.raises(InvalidInputError) as caught:
        operator.execute(context("send"))
    assert str(caught.value) == (
        "invalid phones='2 of 6 rows': are invalid ({'landline': 1, 'too short': 1}). Next step: fix or remove them "
        f"(every row and its status in {output}), or pass fail_on='all' / a ratio to send to the valid ones"
    )
    statuses = {int(r["row"]): r["status"] for r in read_report(output)}
    assert statuses == {1: "not_sent", 2: "invalid", 3: "duplicate", 5: "not_sent", 6: "invalid", 7: "not_sent"}
    assert connections.admin.summary()["total"] == 0


def _create(tmp_path: Path, quota: int) -> str:
    code = FptCreateCampaignOperator(
        task_id="create", message="[QC] Uu dai cuoi tuan", quota=quota, state_path=str(tmp_path / "state")
    ).execute(context("create"))
    assert isinstance(code, str)
    return code


def _audience(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """1,000 data rows: every 10th a bad number, every 25th a repeat of row 1; the expected statuses."""
    lines, expected = ["ten,so_dien_thoai"], {}
    for row in range(1, 1001):
        if row % 10 == 0:
            lines.append(f"k{row},09123")
            expected[row] = "invalid"
        elif row % 25 == 1 and row > 1:
            lines.append(f"k{row},0913000001")
            expected[row] = "duplicate"
        else:
            lines.append(f"k{row},0913{row:06d}")
            expected[row] = "pushed"
    path = tmp_path / "audience.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path, expected


def test_the_push_reports_every_row_once_and_a_retry_says_already_pushed(
    connections: SandboxHandle, tmp_path: Path
) -> None:
    audience, expected = _audience(tmp_path)
    code = _create(tmp_path, quota=1000)
    output = tmp_path / "push_report.csv.gz"

    def push(try_number: int) -> dict[str, Any]:
        return FptPushCampaignOperator(
            task_id="push", campaign_code=code, phones=str(audience), chunk_size=300, output_path=str(output)
        ).execute(context("push", try_number=try_number))

    summary = push(1)
    rows = read_report(output)
    assert [int(r["row"]) for r in rows] == list(range(1, 1001))
    assert {int(r["row"]): r["status"] for r in rows} == expected
    pushed = [r for r in rows if r["status"] == "pushed"]
    ledger = connections.admin.summary(campaign_code=code)
    assert len(pushed) == summary["pushed"] == ledger["total"] and ledger["duplicates"] == 0
    assert {r["chunk"] for r in pushed} == {"1", "2", "3"} and all(r["batch_id"] for r in pushed)
    assert next(r for r in rows if r["row"] == "10")["error"].startswith("too short. Next step:")
    assert (
        next(r for r in rows if r["row"] == "26")["error"]
        == "same phone as an earlier row: it gets one message, not two"
    )
    assert no_raw_phone(output)
    first = {r["row"]: (r["chunk"], r["batch_id"]) for r in pushed}
    push(2)  # a retry of a push that had finished: nothing is sent, every row is still accounted for
    again = read_report(output)
    assert {r["row"]: (r["chunk"], r["batch_id"]) for r in again if r["status"] == "already_pushed"} == first
    assert connections.admin.summary(campaign_code=code)["total"] == ledger["total"]


def test_mapped_pushes_report_every_row_exactly_once_between_them(connections: SandboxHandle, tmp_path: Path) -> None:
    audience, expected = _audience(tmp_path)
    unique = sum(1 for status in expected.values() if status == "pushed")
    code = _create(tmp_path, quota=1000)
    reports: list[dict[str, str]] = []
    for index, row_range in enumerate(chunk_ranges(unique, 400)):
        summary = FptPushCampaignOperator(
            task_id="push", campaign_code=code, phones=str(audience), chunk_size=100, row_range=row_range
        ).execute(context("push", map_index=index))
        reports += read_report(summary["output_path"])
        assert summary["output_path"].endswith(f"/push_{index}.csv")
    assert sorted(int(r["row"]) for r in reports) == list(range(1, 1001))
    assert {int(r["row"]): r["status"] for r in reports} == expected


def test_a_push_stopped_by_its_quota_still_accounts_for_every_row(connections: SandboxHandle, tmp_path: Path) -> None:
    audience, expected = _audience(tmp_path)
    code = _create(tmp_path, quota=500)
    output = tmp_path / "push_report.csv"
    with pytest.raises(AirflowFailException) as caught:
        FptPushCampaignOperator(
            task_id="push", campaign_code=code, phones=str(audience), chunk_size=200, output_path=str(output)
        ).execute(context("push"))
    assert "has 100 messages of quota left; chunk 3 of ~6 (200 phones) needs 200" in str(caught.value)
    rows = read_report(output)
    assert [int(r["row"]) for r in rows] == list(range(1, 1001))
    statuses = [r["status"] for r in rows if expected[int(r["row"])] == "pushed"]
    assert statuses == ["pushed"] * 400 + ["not_pushed"] * (len(statuses) - 400)
    refused = [r for r in rows if r["status"] == "not_pushed"]
    assert refused[0]["error"].startswith("not pushed: Campaign ") and "quota left" in refused[0]["error"]
    assert refused[-1]["error"].startswith("not pushed: the push stopped at an earlier chunk")
    assert connections.admin.summary(campaign_code=code)["total"] == 400


def test_a_chunk_whose_reply_was_lost_is_in_doubt_and_its_retry_reports_it_once(
    connections: SandboxHandle, tmp_path: Path
) -> None:
    audience, expected = _audience(tmp_path)
    code = _create(tmp_path, quota=1000)
    output = tmp_path / "push_report.csv"

    def push(try_number: int) -> FptPushCampaignOperator:
        return FptPushCampaignOperator(
            task_id="push",
            campaign_code=code,
            phones=str(audience),
            chunk_size=300,
            chunk_attempts=1,
            output_path=str(output),
        )

    first = push(1)
    real = first.hook.push_campaign
    calls = {"n": 0}

    def second_reply_lost(campaign_code: str, chunk: list[str]) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # FPT stores chunk 2, its reply never arrives
            connections.admin.set_faults(script=["lost_reply"], paths=["/api/push-brandname-ads"])
        return real(campaign_code, chunk)

    first.hook.push_campaign = second_reply_lost  # type: ignore[method-assign,assignment]
    with pytest.raises(NetworkError, match="ConnectionError talking to"):
        first.execute(context("push"))
    rows = read_report(output)
    assert [int(r["row"]) for r in rows] == list(range(1, 1001))
    pushed_rows = [r["status"] for r in rows if expected[int(r["row"])] == "pushed"]
    assert pushed_rows == ["pushed"] * 300 + ["in_doubt"] * 300 + ["not_pushed"] * (len(pushed_rows) - 600)
    doubt = next(r for r in rows if r["status"] == "in_doubt")
    assert doubt["error"].startswith("in doubt: the chunk's reply was lost; a retry reads detail-ads Total")
    push(2).execute(context("push", try_number=2))
    again = read_report(output)
    statuses = [r["status"] for r in again if expected[int(r["row"])] == "pushed"]
    assert statuses == ["already_pushed"] * 600 + ["pushed"] * (len(statuses) - 600)
    ledger = connections.admin.summary(campaign_code=code)
    assert (ledger["total"], ledger["duplicates"]) == (len(statuses), 0)
