"""Issue acceptance: kill the push task (SIGKILL) after some chunks, re-run it: every phone exactly once.

The kill lands while a chunk is in flight (the sandbox's latency keeps each push call open), so
the re-run must reconcile that chunk with detail-ads Total before sending anything again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.server import SandboxProcess, connection_env

CHILD = """
import json, sys
from types import SimpleNamespace
from airflow_provider_fptsms.operators.campaign import FptPushCampaignOperator
ti = SimpleNamespace(dag_id="qc", run_id="run-1", task_id="push", map_index=-1, try_number=int(sys.argv[3]))
op = FptPushCampaignOperator(task_id="push", campaign_code=sys.argv[1], phones=sys.argv[2], chunk_size=500)
print("RESULT " + json.dumps(op.execute({"ti": ti})))
"""
CREATE = """
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.sms.schedule import next_valid_slot
print(FptSmsHook().create_campaign("killed-push", "Khuyen mai", next_valid_slot(), 20000))
"""
N = 20_000


def test_push_killed_mid_chunk_then_rerun(tmp_path: Path) -> None:
    phones = tmp_path / "phones.txt"
    phones.write_text("".join(f"0912{i:06d}\n" for i in range(N)))
    with SandboxProcess("--latency-ms", "150") as sandbox:
        env = {
            **os.environ,
            **connection_env(sandbox.url),
            "AIRFLOW_HOME": str(tmp_path / "home"),
            "FPTSMS_STATE_PATH": str(tmp_path / "state"),
        }
        code = (
            subprocess.run([sys.executable, "-c", CREATE], env=env, capture_output=True, text=True, check=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        admin = SandboxClient(sandbox.url)
        first = subprocess.Popen(
            [sys.executable, "-c", CHILD, code, str(phones), "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while admin.summary()["total"] < 3 * 500 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.02)
        time.sleep(0.05)  # into the next chunk's call (150 ms of latency per call)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        killed_at = admin.summary()["total"]
        assert 0 < killed_at < N
        rerun = subprocess.run(
            [sys.executable, "-c", CHILD, code, str(phones), "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        line = next((x for x in rerun.stdout.splitlines() if x.startswith("RESULT ")), None)
        assert line is not None, rerun.stdout[-2000:] + rerun.stderr[-2000:]
        summary = json.loads(line[len("RESULT ") :])
        ledger = admin.summary(campaign_code=code)
    assert summary["pushed"] == N and summary["pushed_this_try"] == N - killed_at
    output = rerun.stdout + rerun.stderr
    assert "had landed before the reply was lost" in output or "did not land" in output  # reconciled first
    assert (ledger["total"], ledger["unique"], ledger["duplicates"]) == (N, N, 0)
    state = json.loads(next((tmp_path / "state" / "pushes").glob("*.json")).read_text())
    assert state["in_flight"] is None and sum(c["rows"] for c in state["chunks"]) == N
