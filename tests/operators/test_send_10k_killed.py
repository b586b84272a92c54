"""Issue acceptance: 10,000 personalised messages with 20 ms gateway latency, the worker killed mid-run
(SIGKILL, no cleanup) and the task retried — the sandbox ledger shows exactly 10,000 messages."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from airflow_provider_fptsms.sandbox.worker import TaskProcess, TaskSpec, run_task, task_env

N = 10_000


def test_10k_personalised_send_survives_a_kill(tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("name,phone,code\n" + "".join(f"Khach {i},0912{i:06d},KM{i:05d}\n" for i in range(N)))
    spec = TaskSpec(
        "airflow_provider_fptsms.operators.send:FptSendSmsOperator",
        {
            "phones": str(source),
            "phone_column": "phone",
            "message": "Chao {name}, ma giam gia {code}",
            "max_concurrency": 32,
        },
        dag_id="bulk",
        task_id="send",
    )
    with SandboxProcess("--latency-ms", "20") as sandbox:
        env = task_env(sandbox.url, tmp_path)
        admin = SandboxClient(sandbox.url)
        first = TaskProcess(spec, env)
        assert first.wait_for(lambda: admin.summary()["total"] >= 3000)
        first.kill()  # the worker dies mid-send: no finally, no flush
        killed_at = admin.summary()["total"]
        assert 0 < killed_at < N, killed_at
        summary = run_task(spec.retried(), env, timeout=300).check()
        ledger = admin.summary()
    assert summary["sent"] + summary["already_sent"] == N and summary["failed"] == 0
    assert (ledger["total"], ledger["unique"], ledger["duplicates"]) == (N, N, 0)
    print(
        f"killed after {killed_at} accepted; retry: {summary['sent']} sent (journal + new), "
        f"{summary['already_sent']} recognised by RequestId; ledger {ledger['total']} messages, 0 duplicates"
    )
