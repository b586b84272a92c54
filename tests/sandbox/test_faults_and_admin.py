"""Fault plans, the ledger and the admin API."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.sandbox.faults import FaultInjector, FaultPlan
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.sandbox.conftest import FptClient


def test_scripted_5xx_drop_and_lost_reply(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    token = client.token()
    fptsms_sandbox.admin.set_faults(script=["error_5xx", "drop", "lost_reply"], paths=["/api/"])
    reply = client.send(token, "0912345678", "a", "r1")
    assert reply.status_code == 503 and "html" in reply.headers["content-type"]
    with pytest.raises(requests.ConnectionError):
        client.send(token, "0912345678", "a", "r1")
    assert fptsms_sandbox.admin.summary()["total"] == 0  # neither reached the gateway
    with pytest.raises(requests.ConnectionError):
        client.send(token, "0912345678", "a", "r1")
    assert fptsms_sandbox.admin.summary()["total"] == 1  # committed, reply lost
    assert fptsms_sandbox.admin.faults()["injected"] == {
        "error_5xx": 1,
        "drop": 1,
        "lost_reply": 1,
        "token_invalidated": 0,
        "busy": 0,
    }
    assert client.send(token, "0912345678", "a", "r1").json()["error"] == 2501  # a replay is recognised


def test_token_invalidation_every_n_calls(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.set_faults(token_invalidate_every=3)
    token = client.token()
    codes = [client.send(token, f"09123456{n:02d}", "hi").status_code for n in range(3)]
    assert codes == [200, 200, 401]
    assert client.send(token, "0912345699", "hi").json()["error"] == 1012


def test_latency_is_added(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    token = client.token()
    fptsms_sandbox.admin.set_faults(latency_ms=150)
    started = time.perf_counter()
    client.send(token, "0912345678", "slow")
    assert time.perf_counter() - started >= 0.15


def test_faults_scoped_to_one_port(fptsms_sandbox: SandboxHandle) -> None:
    second_port = int(fptsms_sandbox.urls[1].rsplit(":", 1)[1])
    fptsms_sandbox.admin.set_faults(error_5xx_rate=1.0, ports=[second_port])
    body = fpt.token_request("sandbox-client", "sandbox-secret", ["send_brandname"], "s").body
    assert requests.post(fptsms_sandbox.urls[0] + "/oauth2/token", json=body, timeout=5).status_code == 200
    assert requests.post(fptsms_sandbox.urls[1] + "/oauth2/token", json=body, timeout=5).status_code == 503


def test_random_faults_are_seeded_and_rates_hold() -> None:
    plan = {"error_5xx_rate": 0.05, "drop_rate": 0.02, "lost_reply_rate": 0.01, "seed": 7}
    first, second = FaultInjector(FaultPlan.from_dict(plan)), FaultInjector(FaultPlan.from_dict(plan))
    runs = [[injector.transport_fault() for _ in range(20_000)] for injector in (first, second)]
    assert runs[0] == runs[1]
    assert 800 < runs[0].count("error_5xx") < 1200 and 250 < runs[0].count("drop") < 550
    assert 100 < runs[0].count("lost_reply") < 300


@pytest.mark.parametrize("plan", [{"error_5xx_rate": 2}, {"script": ["meteor"]}, {"unknown": 1}, {"latency_ms": -1}])
def test_bad_fault_plans_are_refused(fptsms_sandbox: SandboxHandle, plan: dict[str, object]) -> None:
    reply = requests.put(fptsms_sandbox.url + "/_sandbox/faults", json=plan, timeout=5)
    assert reply.status_code == 400 and "detail" in reply.json()


def test_config_patch_validation(fptsms_sandbox: SandboxHandle) -> None:
    assert fptsms_sandbox.admin.configure(approval_delay=1.5)["approval_delay"] == 1.5
    assert (
        requests.patch(fptsms_sandbox.url + "/_sandbox/config", json={"fpt_clients": []}, timeout=5).status_code == 400
    )
    assert "sandbox-secret" not in requests.get(fptsms_sandbox.url + "/_sandbox/config", timeout=5).text


def test_ledger_summary_counts_duplicates(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(duplicate_window=0)
    token = client.token()
    for _ in range(3):
        client.send(token, "0912345678", "same", "rid-1")
    summary = fptsms_sandbox.admin.summary()
    assert (summary["total"], summary["unique"], summary["duplicates"]) == (3, 1, 2)
    assert fptsms_sandbox.admin.requests()["/api/push-brandname-otp"] == 3


def test_reset_clears_everything(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    client.send(client.token(), "0912345678", "x")
    fptsms_sandbox.admin.set_faults(latency_ms=5)
    fptsms_sandbox.admin.reset()
    assert fptsms_sandbox.admin.summary()["total"] == 0 and fptsms_sandbox.admin.faults()["plan"]["latency_ms"] == 0
    assert client.send("stale", "0912345678", "x").json()["error"] == 1011
