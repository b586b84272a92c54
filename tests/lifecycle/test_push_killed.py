"""Issue acceptance: kill the push task (SIGKILL) after some chunks, re-run it: every phone exactly once.

The kill lands while a chunk is in flight (the sandbox's latency keeps each push call open), so
the re-run must reconcile that chunk with detail-ads Total before sending anything again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from airflow_provider_fptsms.sandbox.worker import TaskProcess, TaskSpec, create_campaign_task, run_task, task_env

pytestmark = pytest.mark.exactly_once

N = 20_000


def test_push_killed_mid_chunk_then_rerun(tmp_path: Path) -> None:
    phones = tmp_path / "phones.txt"
    phones.write_text("".join(f"0912{i:06d}\n" for i in range(N)))
    with SandboxProcess("--latency-ms", "150") as sandbox:
        env = task_env(sandbox.url, tmp_path)
        code = run_task(create_campaign_task("killed-push", N), env).check()
        push = TaskSpec(
            "airflow_provider_fptsms.operators.campaign:FptPushCampaignOperator",
            {"campaign_code": code, "phones": str(phones), "chunk_size": 500},
            dag_id="qc",
            task_id="push",
        )
        admin = SandboxClient(sandbox.url)
        first = TaskProcess(push, env)
        assert first.wait_for(lambda: admin.summary()["total"] >= 3 * 500)
        time.sleep(0.05)  # into the next chunk's call (150 ms of latency per call)
        first.kill()
        killed_at = admin.summary()["total"]
        assert 0 < killed_at < N
        rerun = run_task(push.retried(), env, timeout=300)
        summary = rerun.check()
        ledger = admin.summary(campaign_code=code)
    assert summary["pushed"] == N and summary["pushed_this_try"] == N - killed_at
    assert "had landed before the reply was lost" in rerun.output or "did not land" in rerun.output  # reconciled first
    assert (ledger["total"], ledger["unique"], ledger["duplicates"]) == (N, N, 0)
    state = json.loads(next((tmp_path / "state" / "pushes").glob("*.json")).read_text())
    assert state["in_flight"] is None and sum(c["rows"] for c in state["chunks"]) == N
