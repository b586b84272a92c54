"""Issue 14, item 3, as a daily job meets it: a day with nobody to message (0-byte file, header only, empty list)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_fptsms._compat import AirflowSkipException
from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.operators.campaign import FptPushCampaignOperator
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle


def context() -> Any:
    ti = SimpleNamespace(dag_id="daily", run_id="scheduled__1", task_id="send", map_index=-1, try_number=1)
    return {"ti": ti}


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Any]:
    zero = tmp_path / "khach_hang.csv"
    zero.write_text("")
    header = tmp_path / "khach_hang_header.csv"
    header.write_text("ten;so_dien_thoai\n")
    return {"0-byte file": str(zero), "header only": str(header), "empty list": []}


@pytest.mark.parametrize("case", ["0-byte file", "header only", "empty list"])
def test_an_empty_source_says_it_is_empty_and_on_empty_decides(
    fptsms_sandbox: SandboxHandle, sources: dict[str, Any], case: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FPTSMS_STATE_PATH", str(tmp_path / "state"))
    column = None if case == "empty list" else "so_dien_thoai"

    def send(on_empty: str) -> FptSendSmsOperator:
        return FptSendSmsOperator(
            task_id="send", phones=sources[case], phone_column=column, message="Chao {ten}", on_empty=on_empty
        )

    with pytest.raises(InvalidInputError) as caught:
        send("fail").execute(context())
    assert "is empty: no data rows" in str(caught.value) and "on_empty='skip'" in str(caught.value)
    with pytest.raises(AirflowSkipException, match="is empty"):
        send("skip").execute(context())
    summary = send("succeed").execute(context())
    assert (summary["recipients"], summary["sent"], summary["empty"]) == (0, 0, True)
    with pytest.raises(AirflowSkipException, match="is empty"):
        FptPushCampaignOperator(
            task_id="push", campaign_code="C-not-used", phones=sources[case], phone_column=column, on_empty="skip"
        ).execute(context())
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_on_empty_is_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(InvalidInputError, match="on_empty"):
        FptSendSmsOperator(task_id="send", phones=[], message="x", on_empty="ignore")
