"""FiboSendSmsOperator sends one text to many phones in list calls, with the delivery model intact.

Ground truth: the sandbox's request counts (which Fibo method was called how often) and its ledger
(the same text reaching the same phone twice, whatever GUIDs carried it).
"""

from __future__ import annotations

import csv
from typing import Any

import pytest

from airflow_provider_fptsms._compat import AirflowException
from airflow_provider_fptsms.operators.send import FiboSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.operators.conftest import make_context

pytestmark = pytest.mark.exactly_once

PHONES = [f"0912{i:06d}" for i in range(250)]
LIST = "/Service.aspx/SendSMSToListMobilePhone"
SINGLE = "/Service.aspx/SendMaskedSMS"


def test_the_same_text_goes_out_in_list_calls_and_a_personalised_one_one_by_one(
    fptsms_sandbox: SandboxHandle,
) -> None:
    summary = FiboSendSmsOperator(task_id="send", phones=PHONES, message="Bao tri he thong 22h").execute(make_context())
    assert summary["sent"] == 250
    assert fptsms_sandbox.admin.requests().get(LIST) == 2  # 200 + 50
    people = [{"phone": p, "ten": f"K{i}"} for i, p in enumerate(PHONES[:5])]
    FiboSendSmsOperator(task_id="hello", phones=people, message="Chao {ten}").execute(make_context("hello"))
    assert fptsms_sandbox.admin.requests().get(SINGLE) == 5
    ledger = fptsms_sandbox.admin.summary(gateway="fibo")
    assert (ledger["total"], ledger["duplicates"]) == (255, 0)


def test_a_lost_list_reply_leaves_the_list_in_doubt_and_a_retry_never_sends_it_twice(
    fptsms_sandbox: SandboxHandle, tmp_path: Any
) -> None:
    fptsms_sandbox.admin.set_faults(script=["lost_reply"], paths=[LIST])

    def send(try_number: int) -> FiboSendSmsOperator:
        return FiboSendSmsOperator(
            task_id="send", phones=PHONES[:120], message="Lich hen ngay mai", output_path=str(tmp_path / "out.csv")
        )

    with pytest.raises(AirflowException, match=r"120 message\(s\) may have been accepted by Fibo"):
        send(1).execute(make_context(try_number=1))
    assert {row["status"] for row in csv.DictReader((tmp_path / "out.csv").open())} == {"in_doubt"}
    with pytest.raises(AirflowException, match="in_doubt"):
        send(2).execute(make_context(try_number=2))  # Fibo gives no evidence: held back, not replayed
    ledger = fptsms_sandbox.admin.summary(gateway="fibo")
    assert (ledger["total"], ledger["duplicates"]) == (120, 0)  # it had landed once; nobody got it twice
