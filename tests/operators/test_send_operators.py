"""CSKH / Fibo send operators against the sandbox: validation first, exactly once, clear summaries."""

from __future__ import annotations

import asyncio
import gzip
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_fptsms._compat import AirflowException
from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.hooks.results import SendResult
from airflow_provider_fptsms.operators.send import (
    FiboSendSmsOperator,
    FptSendSmsOperator,
    Recipient,
    TryDelivery,
    placeholders,
)
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.operators.conftest import age_journals, make_context

pytestmark = pytest.mark.exactly_once


def fpt(**kwargs: Any) -> FptSendSmsOperator:
    kwargs.setdefault("message", "Ma OTP cua ban la 246810")
    return FptSendSmsOperator(task_id="send", **kwargs)


def test_one_message_to_a_list(fptsms_sandbox: SandboxHandle) -> None:
    summary = fpt(phones=["0912345678", "+84 987 654 321", "0912345678"]).execute(make_context())
    assert (summary["sent"], summary["duplicates"], summary["failed"], summary["segments"]) == (2, 1, 0, 2)
    rows = Path(summary["output_path"]).read_text().splitlines()
    assert rows[0] == "row,phone,status,message_id,telco,error_code,error,request_id,segments"
    assert "0912345678" not in "".join(rows) and "84912***678" in rows[1]
    assert fptsms_sandbox.admin.summary()["total"] == 2


def test_personalised_csv(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv.gz"
    source.write_bytes(gzip.compress(b"ten,sdt,otp\nAn,0912345678,1111\nBinh,0987654321,2222\n"))
    summary = fpt(phones=str(source), message="Chao {ten}, ma OTP {otp}").execute(make_context())
    assert summary["sent"] == 2
    texts = sorted(e["message"] for e in fptsms_sandbox.admin.ledger())
    assert texts == ["Chao An, ma OTP 1111", "Chao Binh, ma OTP 2222"]


def test_personalised_dicts_and_accents(fptsms_sandbox: SandboxHandle) -> None:
    people = [{"phone": "0912345678", "name": "Đức"}, {"phone": "0987654321", "name": "Hà"}]
    fpt(phones=people, message="Xin chào {name}", strip_accents=True).execute(make_context())
    assert sorted(e["message"] for e in fptsms_sandbox.admin.ledger()) == ["Xin chao Duc", "Xin chao Ha"]


def test_dry_run_previews_and_sends_nothing(fptsms_sandbox: SandboxHandle) -> None:
    preview = fpt(phones=["0912345678", "0987654321"], message="x" * 200, dry_run=True, price_per_message=850).execute(
        make_context()
    )
    assert preview["dry_run"] and preview["segments"] == 4 and preview["estimated_cost"] == 3400
    assert fptsms_sandbox.admin.requests() == {}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"message": "   "}, "message"),
        ({"message": "Chao {ten}"}, "message"),
        ({"message": "Chao {ten"}, "message"),
        ({"message": "y" * 1000}, "message (row 1)"),
        ({"phones": ["0912345678", "12345"]}, "phones"),
        ({"phones": ["12345"], "fail_on": "all"}, "phones"),
        ({"phones": "/no/such/file.csv"}, "phones"),
        ({"phones": []}, "phones"),
    ],
)
def test_bad_input_fails_before_the_first_send(
    fptsms_sandbox: SandboxHandle, kwargs: dict[str, Any], field: str
) -> None:
    kwargs.setdefault("phones", ["0912345678"])
    with pytest.raises(InvalidInputError) as caught:
        fpt(**kwargs).execute(make_context())
    assert caught.value.field == field
    assert "12345" not in str(caught.value).replace("12345 ", "")
    assert fptsms_sandbox.admin.requests() == {}


def test_wrong_connection_type_fails_before_sending(
    fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_FPTSMS_DEFAULT", '{"conn_type": "http", "host": "x", "login": "a", "password": "b"}'
    )
    with pytest.raises(InvalidInputError, match="fpt_conn_id"):
        fpt(phones=["0912345678"]).execute(make_context())
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_fail_policies(fptsms_sandbox: SandboxHandle) -> None:
    phones = ["0912345678", "0987654321", "12345"]
    summary = fpt(phones=phones, fail_on=0.5).execute(make_context())
    assert (summary["sent"], summary["invalid"]) == (2, 1)
    with pytest.raises(AirflowException, match="failed"):
        fpt(phones=["0912345670", "0912345671"], message="casino today", fail_on="any").execute(make_context("b"))
    result = fpt(phones=["0912345672", "0912345673"], message="casino today", fail_on="all")
    with pytest.raises(AirflowException, match="no message"):
        result.execute(make_context("c"))
    with pytest.raises(InvalidInputError, match="fail_on"):
        fpt(phones=phones, fail_on=1.5)


def test_retry_sends_only_what_is_missing_even_after_the_5_minute_window(fptsms_sandbox: SandboxHandle) -> None:
    phones = [f"0912{i:06d}" for i in range(120)]
    operator = fpt(phones=phones, max_concurrency=8)
    original = operator.send_all

    def die_halfway(todo: list[Recipient], delivery: TryDelivery) -> list[SendResult]:
        original(todo[:50], delivery)
        raise RuntimeError("worker killed")

    operator.send_all = die_halfway  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        operator.execute(make_context())
    fptsms_sandbox.admin.advance_clock(600)  # FPT would no longer recognise the RequestIds
    summary = fpt(phones=phones, max_concurrency=8).execute(make_context(try_number=2))
    assert (summary["sent"], summary["already_sent"], summary["failed"]) == (70, 50, 0)  # 50 from the journal
    ledger = fptsms_sandbox.admin.summary()
    assert (ledger["total"], ledger["duplicates"]) == (120, 0)


def test_mapped_chunks_have_their_own_ids(fptsms_sandbox: SandboxHandle) -> None:
    for index, chunk in enumerate([["0912345678"], ["0987654321"]]):
        fpt(phones=chunk).execute(make_context(map_index=index))
    assert fptsms_sandbox.admin.summary()["total"] == 2


def test_fibo_operator(fptsms_sandbox: SandboxHandle) -> None:
    summary = FiboSendSmsOperator(
        task_id="fibo", phones=["0912345678", "0987654321"], message="Canh bao {{ ds }}"
    ).execute(make_context())
    assert summary["sent"] == 2 and summary["gateway"] == "Fibo"
    again = FiboSendSmsOperator(
        task_id="fibo", phones=["0912345678", "0987654321"], message="Canh bao {{ ds }}"
    ).execute(make_context())
    assert (again["sent"], again["already_sent"]) == (0, 2)  # from the journal: nothing re-sent
    assert fptsms_sandbox.admin.summary(gateway="fibo")["total"] == 2


def test_placeholders() -> None:
    assert placeholders("Chao {ten}, ma {otp} {{ literal }}") == {"ten", "otp"}
    assert placeholders("no variables") == set()


def test_rendering_masks_literal_phones_and_optionally_the_message() -> None:
    from tests.compat import redact

    operator = fpt(
        phones=["{{ params.phone }}"], message="Ma OTP {{ params.otp }} het han sau 5 phut", mask_message=True
    )
    operator.render_template_fields({"params": {"phone": "0912000999", "otp": "975310"}})
    assert operator.phones == ["0912000999"] and operator.message == "Ma OTP 975310 het han sau 5 phut"
    assert redact(f"phone 0912000999: {operator.message}") == "phone ***: ***"
    plain = fpt(phones=["0912000888"], message="Ma OTP 135790")
    plain.render_template_fields({})
    assert redact(plain.message) == plain.message  # not masked unless asked


def test_fibo_stops_the_batch_when_the_balance_runs_out(fptsms_sandbox: SandboxHandle) -> None:
    from airflow_provider_fptsms.gateways.errors import QuotaError
    from airflow_provider_fptsms.sandbox.config import DEFAULT_FIBO_CLIENT_NO

    fptsms_sandbox.admin.set_fibo_balance(DEFAULT_FIBO_CLIENT_NO, 0)
    operator = FiboSendSmsOperator(
        task_id="fibo", phones=[f"0912{i:06d}" for i in range(200)], message="Canh bao", max_concurrency=4
    )
    with pytest.raises(QuotaError):
        operator.execute(make_context())
    calls = sum(n for path, n in fptsms_sandbox.admin.requests().items() if "SendMaskedSMS" in path)
    assert calls <= 8, calls  # the threads in flight, not the 200 messages


def test_a_list_rendered_as_text_is_a_list_and_a_bare_phone_is_never_echoed(fptsms_sandbox: SandboxHandle) -> None:
    summary = fpt(phones="['0912345678', '0987654321']").execute(make_context())  # XCom without native rendering
    assert summary["sent"] == 2
    for bad in ("0912000777", "[0912000777"):
        with pytest.raises(InvalidInputError) as caught:
            fpt(phones=bad).execute(make_context())
        assert "0912000777" not in str(caught.value)


def test_a_message_whose_reply_was_lost_is_in_doubt_and_resent_only_inside_the_window(
    fptsms_sandbox: SandboxHandle,
) -> None:

    lost = {"script": ["lost_reply"] * 4, "paths": ["/api/push-brandname-otp"]}  # every attempt (max_attempts=4)
    fptsms_sandbox.admin.set_faults(**lost)
    with pytest.raises(AirflowException, match=r"1 message\(s\) may have been accepted"):
        fpt(phones=["0912345678"]).execute(make_context())
    # at once (as a retry would): FPT still recognises the RequestId, so it is safe to send again
    summary = fpt(phones=["0912345678"]).execute(make_context(try_number=2))
    assert (summary["sent"], summary["already_sent"], summary["in_doubt"]) == (0, 1, 0)

    fptsms_sandbox.admin.set_faults(**lost)
    with pytest.raises(AirflowException, match="in_doubt"):
        fpt(phones=["0987654321"]).execute(make_context("late"))
    # the retry comes after FPT's 5 minutes, on the gateway's clock and on the journal store's
    fptsms_sandbox.admin.advance_clock(301)
    age_journals(os.environ["FPTSMS_STATE_PATH"], 301)
    with pytest.raises(AirflowException, match="resend_in_doubt=True"):
        fpt(phones=["0987654321"]).execute(make_context("late", try_number=2))
    ledger = fptsms_sandbox.admin.summary()
    assert (ledger["total"], ledger["duplicates"]) == (2, 0)  # each phone once, the held-back one not again


def test_a_ratio_of_invalid_rows_and_the_connection_type_fail_before_any_send(fptsms_sandbox: SandboxHandle) -> None:
    listed = ["0912345678", "0987654321", "123", "0912000001"]
    with pytest.raises(InvalidInputError, match=r"above fail_on=10\.0%"):
        fpt(phones=listed, fail_on=0.1, dry_run=True).execute(make_context())
    with pytest.raises(InvalidInputError, match="fibosms"):
        fpt(phones=listed[:2], fpt_conn_id="fibosms_default", dry_run=True).execute(make_context())
    assert fpt(phones=listed, fail_on=0.3).execute(make_context())["sent"] == 3  # 25% invalid is allowed
    assert fptsms_sandbox.admin.summary()["total"] == 3


def test_mask_message_also_masks_each_rows_variables() -> None:
    from tests.compat import redact

    rows = [{"phone": "0912000555", "otp": "482913"}, {"phone": "0912000556", "otp": "771204"}]
    fpt(phones=rows, message="Ma OTP {otp}", mask_message=True).render_template_fields({})
    assert redact("482913 771204 0912000555") == "*** *** ***"


@pytest.mark.parametrize("gateway", ["fpt", "fibo"])
def test_after_a_batch_fatal_error_the_retry_sends_the_rest_even_much_later(
    fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, gateway: str
) -> None:
    """Messages refused by the fatal error, or never handed out, are not in doubt: fixed and retried
    after FPT's 5 minutes, the task sends them all and nothing twice."""
    import time_machine

    from airflow_provider_fptsms.gateways.errors import AccountError, QuotaError
    from airflow_provider_fptsms.hooks.fpt_async import FptSmsAsyncHook
    from airflow_provider_fptsms.sandbox.config import DEFAULT_FIBO_CLIENT_NO

    listed = [f"0912{i:06d}" for i in range(60)]
    make: Callable[[], Any]
    if gateway == "fibo":
        make = lambda: FiboSendSmsOperator(task_id="send", phones=listed, message="Canh bao", max_concurrency=4)  # noqa: E731
        fptsms_sandbox.admin.set_fibo_balance(DEFAULT_FIBO_CLIENT_NO, 0)
        fatal: type[Exception] = QuotaError
    else:
        make = lambda: fpt(phones=listed, max_concurrency=4)  # noqa: E731
        real = FptSmsAsyncHook._call
        calls = {"n": 0}

        async def locked_after_ten(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] > 10:
                raise AccountError("account locked", gateway="FPT", code=1004)
            return await real(self, *args, **kwargs)

        monkeypatch.setattr(FptSmsAsyncHook, "_call", locked_after_ten)
        fatal = AccountError
    with pytest.raises(fatal):
        make().execute(make_context())
    if gateway == "fibo":
        fptsms_sandbox.admin.set_fibo_balance(DEFAULT_FIBO_CLIENT_NO, 1_000_000)
    else:
        monkeypatch.setattr(FptSmsAsyncHook, "_call", real)
    with time_machine.travel(time.time() + 600, tick=False):
        summary = make().execute(make_context(try_number=2))
    assert summary["in_doubt"] == 0 and summary["sent"] + summary["already_sent"] == 60
    ledger = fptsms_sandbox.admin.summary()
    assert (ledger["total"], ledger["duplicates"]) == (60, 0)


@pytest.mark.parametrize("appends", [True, False], ids=["local-log", "object-store-segments"])
def test_a_doubtful_message_is_rechecked_as_it_goes_on_the_store_clock(tmp_path: Path, appends: bool) -> None:
    """Replays go first; one whose window closed while others were sent is held back, not sent.
    On an object store, senders ready at the same moment share one intent segment."""
    from airflow_provider_fptsms.hooks.fpt_async import CskhMessage
    from airflow_provider_fptsms.state import SendJournal, StateStore

    journal = SendJournal(StateStore(tmp_path), "d.t@2026-01-01")
    journal.appends = appends
    now = journal.clock()
    delivery = TryDelivery(journal, {}, {"r4", "r5"}, {"r4": now + 100, "r5": now - 1})

    async def announce(keys: list[str]) -> list[bool]:
        return list(await asyncio.gather(*(delivery.before_send_async(CskhMessage("84912", "t", k)) for k in keys)))

    assert asyncio.run(announce(["r4", "r5", "r0"])) == [True, False, True]
    journal.close()
    assert delivery.held == {"r5"}
    records = journal.recall()
    assert {k: r.state.value for k, r in records.items()} == {"r4": "in_doubt", "r5": "in_doubt", "r0": "in_doubt"}
    assert len(list(tmp_path.rglob("*.jsonl"))) == 1  # one log, or one shared segment
