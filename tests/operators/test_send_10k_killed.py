"""Issue acceptance: 10,000 personalised messages with 20 ms gateway latency, the worker killed mid-run
(SIGKILL, no cleanup) and the task retried — the sandbox ledger shows exactly 10,000 messages."""

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
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
ti = SimpleNamespace(dag_id="bulk", run_id="run-1", task_id="send", map_index=-1, try_number=int(sys.argv[2]))
op = FptSendSmsOperator(task_id="send", phones=sys.argv[1], phone_column="phone",
                        message="Chao {name}, ma giam gia {code}", max_concurrency=32)
print("RESULT " + json.dumps(op.execute({"ti": ti})))
"""
N = 10_000


def test_10k_personalised_send_survives_a_kill(tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("name,phone,code\n" + "".join(f"Khach {i},0912{i:06d},KM{i:05d}\n" for i in range(N)))
    with SandboxProcess("--latency-ms", "20") as sandbox:
        env = {
            **os.environ,
            **connection_env(sandbox.url),
            "AIRFLOW_HOME": str(tmp_path / "home"),
            "FPTSMS_STATE_PATH": str(tmp_path / "state"),
        }
        admin = SandboxClient(sandbox.url)
        first = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(source), "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while admin.summary()["total"] < 3000 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)  # the worker dies mid-send: no finally, no flush
        first.wait(timeout=30)
        killed_at = admin.summary()["total"]
        assert 0 < killed_at < N, killed_at
        retry = subprocess.run(
            [sys.executable, "-c", CHILD, str(source), "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        line = next((x for x in retry.stdout.splitlines() if x.startswith("RESULT ")), None)
        assert line is not None, retry.stdout[-2000:] + retry.stderr[-2000:]
        summary = json.loads(line[len("RESULT ") :])
        ledger = admin.summary()
    assert summary["sent"] + summary["already_sent"] == N and summary["failed"] == 0
    assert (ledger["total"], ledger["unique"], ledger["duplicates"]) == (N, N, 0)
    print(
        f"killed after {killed_at} accepted; retry: {summary['sent']} sent (journal + new), "
        f"{summary['already_sent']} recognised by RequestId; ledger {ledger['total']} messages, 0 duplicates"
    )
