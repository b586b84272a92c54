"""Issue 14, item 2 (partial): the dry run shows which rows are invalid and why, one rendered message, the cost."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle


def context() -> Any:
    ti = SimpleNamespace(dag_id="crm", run_id="manual__1", task_id="send", map_index=-1, try_number=1)
    return {"ti": ti}


def test_the_dry_run_lists_invalid_rows_a_sample_and_the_cost(
    fptsms_sandbox: SandboxHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    """What the task log shows (Airflow's logger writes it to the console)."""
    rows = [
        {"phone": "0912345678", "ten": "An"},
        {"phone": "12345", "ten": "Binh"},
        {"phone": "0987654321", "ten": "Chi"},
        {"phone": "02438251234", "ten": "Dung"},
    ]

    def dry(**kwargs: Any) -> dict[str, Any]:
        operator = FptSendSmsOperator(task_id="send", phones=rows, message="Chao {ten}", dry_run=True, fail_on=0.6)
        for name, value in kwargs.items():
            setattr(operator, name, value)
        return operator.execute(context())

    preview = dry()
    report = capfd.readouterr().out
    assert "Invalid rows (2; not sent):" in report
    assert [(r["row"], r["phone"]) for r in preview["invalid_rows"]] == [(2, "***"), (4, "02438***234")]
    assert all(r["reason"] for r in preview["invalid_rows"]) and "02438251234" not in report
    assert "Sample message (row 1, 1 SMS part(s)): Chao An" in report
    assert "Estimated cost: set price_per_message= to see it (2 SMS parts)" in report
    assert dry(price_per_message=850.0)["estimated_cost"] == 1700
    assert "Estimated cost: 1,700 (2 SMS parts x 850)" in capfd.readouterr().out
    dry(mask_message=True)
    assert "Sample message (row 1, 1 SMS part(s)): *** (mask_message=True)" in capfd.readouterr().out
    assert fptsms_sandbox.admin.summary()["total"] == 0
