"""A message id next to a masked phone must not give the number back: ids are keyed with the connection's secret."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum

from airflow_provider_fptsms.delivery import recipient_key
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle


def context() -> Any:
    ti = SimpleNamespace(dag_id="ids", run_id="manual__1", task_id="send", map_index=-1, try_number=1)
    return {"ti": ti, "logical_date": pendulum.datetime(2026, 6, 1, tz="UTC")}


def test_ids_are_keyed_and_stable() -> None:
    plain = recipient_key("op", "84912345678")
    keyed = recipient_key("op", "84912345678", "client-secret")
    assert keyed != plain and keyed == recipient_key("op", "84912345678", b"client-secret")
    assert keyed != recipient_key("op", "84912345678", "another-secret") and len(keyed) <= 100


def test_a_report_row_does_not_give_the_phone_back(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    report = tmp_path / "send.csv"
    summary = FptSendSmsOperator(
        task_id="send", phones=["0912345678"], message="Chao ban", output_path=str(report), state_path=str(tmp_path)
    ).execute(context())
    with report.open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["phone"] == "84912***678"
    head, _stars, tail = row["phone"].partition("***")
    candidates = [f"{head}{n:03d}{tail}" for n in range(1000)]  # every number the masked phone could be
    operation = summary["idempotency_key"]  # in the XCom, so an attacker has it
    assert row["request_id"] not in {recipient_key(operation, phone) for phone in candidates}
    sent = fptsms_sandbox.admin.ledger()[0]
    assert sent["request_id"] == row["request_id"]  # the gateway got the keyed id
