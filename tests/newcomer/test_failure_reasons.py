"""Issue 14, item 2 (partial): a failed send says why, in the task error and in every failed row."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_fptsms._compat import AirflowException
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle


def context() -> Any:
    ti = SimpleNamespace(dag_id="crm", run_id="manual__1", task_id="send", map_index=-1, try_number=1)
    return {"ti": ti}


def test_the_fail_policy_names_the_failure_and_the_rows_keep_its_text(
    fptsms_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FPTSMS_STATE_PATH", str(tmp_path / "state"))
    output = tmp_path / "results.csv"
    operator = FptSendSmsOperator(
        task_id="send",
        phones=["0912345670", "0912345671"],
        message="Khuyen mai casino cuoi tuan",  # a word the sandbox blocks: FPT code 6
        output_path=str(output),
        fail_on=0.0,
    )
    with pytest.raises(AirflowException) as caught:
        operator.execute(context())
    text = str(caught.value)
    assert "100.0% of recipients failed, above fail_on=0.0%" in text
    assert "most often 6 (2x): FPT error 6:" in text and "Next step:" in text
    assert f"every row and its status in {output}" in text
    rows = list(csv.DictReader(output.open()))
    assert [(r["status"], r["error_code"]) for r in rows] == [("failed", "6"), ("failed", "6")]
    assert all(r["error"].startswith("FPT error 6:") and "Next step:" in r["error"] for r in rows)
    assert "0912345670" not in output.read_text() and "0912345670" not in text
