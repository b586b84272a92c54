"""FptSmsAsyncHook: waiting calls for triggers, and bulk CSKH with faults — nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.gateways.errors import BrandnameError
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.hooks.fpt_async import CskhMessage, FptSmsAsyncHook
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

pytestmark = [pytest.mark.usefixtures("fpt_conn"), pytest.mark.exactly_once]


def _messages(n: int, prefix: str = "bulk") -> list[CskhMessage]:
    return [CskhMessage(f"0912{i:06d}", f"OTP {i}", request_id=f"{prefix}-{i}") for i in range(n)]


async def test_campaign_status_and_report(fptsms_sandbox: SandboxHandle) -> None:
    schedule = (datetime.now(fpt.VN_TZ) + timedelta(days=2)).replace(hour=9, minute=0).strftime("%Y-%m-%d %H:%M")
    sync = FptSmsHook()
    code = sync.create_campaign("async-1", "Khuyen mai", schedule, 10)
    sync.push_campaign(code, ["0912345678"])
    hook = FptSmsAsyncHook()
    assert (await hook.campaign_status(code)).state == "pending_approval"
    assert await hook.delivery_report(code) == []
    fptsms_sandbox.admin.configure(approval_delay=0, send_delay=0, dlr_delay=0, dlr_failure_rate=0)
    assert (await hook.campaign_status(code)).state == "sent"
    assert [r.status for r in await hook.delivery_report(code)] == ["delivered"]


async def test_bulk_send_in_order_with_progress(fptsms_sandbox: SandboxHandle) -> None:
    seen: list[int] = []
    results = await FptSmsAsyncHook().send_cskh_many(
        _messages(200), max_concurrency=16, on_result=lambda i, _r: seen.append(i)
    )
    assert [r.request_id for r in results] == [f"bulk-{i}" for i in range(200)]
    assert {r.status for r in results} == {"sent"} and sorted(seen) == list(range(200))
    assert all("***" in r.phone for r in results)
    summary = fptsms_sandbox.admin.summary()
    assert (summary["total"], summary["duplicates"]) == (200, 0)
    assert fptsms_sandbox.admin.requests()["/oauth2/token"] == 1


async def test_bulk_send_under_a_fault_plan_is_exactly_once(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.set_faults(
        error_5xx_rate=0.05, drop_rate=0.02, lost_reply_rate=0.01, token_invalidate_every=100, seed=11
    )
    results = await FptSmsAsyncHook().send_cskh_many(_messages(600, "fault"), max_concurrency=24)
    statuses = [r.status.value for r in results]
    assert "failed" not in statuses
    assert statuses.count("already_sent") >= 1  # lost replies were replayed and recognised
    summary = fptsms_sandbox.admin.summary()
    assert (summary["total"], summary["unique"], summary["duplicates"]) == (600, 600, 0)
    injected = fptsms_sandbox.admin.faults()["injected"]
    assert injected["lost_reply"] > 0 and injected["drop"] > 0 and injected["token_invalidated"] > 0


async def test_a_retried_batch_sends_only_what_is_missing(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsAsyncHook()
    await hook.send_cskh_many(_messages(50, "retry")[:20])
    # the caller marks the 20 as replays of attempts whose outcome it does not know: FPT's 2501 settles them
    again = [replace(m, replaying=n < 20) for n, m in enumerate(_messages(50, "retry"))]
    results = await hook.send_cskh_many(again)
    assert [r.status.value for r in results].count("already_sent") == 20
    assert fptsms_sandbox.admin.summary()["total"] == 50


async def test_per_message_failures_and_batch_fatal_errors(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsAsyncHook()
    results = await hook.send_cskh_many(
        [
            CskhMessage("0912345678", "ok", "m-1"),
            CskhMessage("12", "bad", "m-2"),
            CskhMessage("0912345679", "casino", "m-3"),
        ]
    )
    assert [(r.status, r.error_code) for r in results] == [
        ("sent", None),
        ("failed", "invalid_phone"),
        ("failed", 6),
    ]
    assert "invalid phone='***'" in str(results[1].error)  # refused before any call, number masked
    with pytest.raises(BrandnameError):
        await hook.send_cskh_many([CskhMessage("0912345670", "x", "m-4", brandname="NOT-OURS")])


async def test_a_batch_fatal_error_lets_messages_in_flight_finish_and_be_recorded(
    fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway commits a message when it receives it and replies later; a fatal error elsewhere in
    the batch must not abandon those replies (a retry after FPT's 5-minute window would re-send)."""
    committed: set[str] = set()

    async def gateway(session: Any, build: Any, parse: Any, **_: Any) -> fpt.CskhReceipt:
        body = build("token", "session").body
        if body["BrandName"] == "NOT-OURS":
            raise BrandnameError("brandname not registered", gateway="FPT", code=2504)
        committed.add(body["RequestId"])  # accepted on arrival...
        await asyncio.sleep(0.05)  # ...the reply takes a while
        return fpt.CskhReceipt(body["RequestId"], body["Phone"], body["BrandName"], "p", "viettel")

    hook = FptSmsAsyncHook()
    monkeypatch.setattr(hook, "_call", gateway)
    messages = _messages(40, "fatal")
    messages[3] = CskhMessage("0912999999", "x", "fatal-bad", brandname="NOT-OURS")
    recorded: dict[str, str] = {}
    with pytest.raises(BrandnameError):
        await hook.send_cskh_many(
            messages, max_concurrency=8, on_result=lambda i, r: recorded.update({str(r.request_id): r.status.value})
        )
    assert committed and committed == {rid for rid, status in recorded.items() if status == "sent"}
    assert len(committed) < 40  # no new message started after the error


async def test_failover(fptsms_sandbox: SandboxHandle, fpt_conn: Any, dead_url: str) -> None:
    fpt_conn(host=dead_url, extra={"fallback_hosts": fptsms_sandbox.url})
    results = await FptSmsAsyncHook().send_cskh_many(_messages(5, "fo"))
    assert {r.status for r in results} == {"sent"}
