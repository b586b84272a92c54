"""Issue 14, item 2 (partial): the dry run shows which rows are invalid and why, one rendered message, the cost."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_fptsms.gateways.errors import InvalidInputError
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
    assert "Estimated cost: set price_per_message= (or the connection's prices extra) to see it (2 SMS parts)" in report
    assert dry(price_per_message=850.0)["estimated_cost"] == 1700
    assert "Estimated cost: 2 SMS parts, about 1,700 VND" in capfd.readouterr().out
    dry(mask_message=True)
    assert "Sample message (row 1, 1 SMS part(s)): *** (mask_message=True)" in capfd.readouterr().out
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_the_dry_run_warns_about_emoji_and_its_units_explain_the_parts(
    fptsms_sandbox: SandboxHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    """Row 1 is 68 characters and one emoji, 70 UTF-16 units: one UCS-2 SMS; row 2's longer name makes two."""
    rows = [{"phone": "0912345678", "ten": "A"}, {"phone": "0987654321", "ten": "AB"}]
    operator = FptSendSmsOperator(
        task_id="send", phones=rows, message="Chao {ten} " + "x" * 60 + " \U0001f600", dry_run=True
    )
    preview = operator.execute(context())
    report = capfd.readouterr().out
    assert "   row  phone          segments  encoding units" in report
    assert "     1  84912***678           1  UCS-2       70" in report
    assert "     2  84987***321           2  UCS-2       71" in report
    assert (
        "Message cost (row 1): 1 emoji (U+1F600 grinning face) forces UCS-2, it counts 2 units: 1 SMS part(s), "
        "70 units; without it: 1 SMS part(s), GSM-7"
    ) in report
    assert preview["segments"] == 3


def test_the_dry_run_shows_the_rows_before_it_refuses_like_the_real_run(
    fptsms_sandbox: SandboxHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    operator = FptSendSmsOperator(task_id="send", phones=["0912345678", "12345"], message="Chao", dry_run=True)
    with pytest.raises(InvalidInputError) as caught:
        operator.execute(context())
    assert "Invalid rows (1; not sent):" in capfd.readouterr().out
    assert str(caught.value) == (
        "invalid phones='1 of 2 rows': are invalid ({'too short': 1}). Next step: fix or remove them (listed "
        "above), or pass fail_on='all' / a ratio to send to the valid ones"
    )
