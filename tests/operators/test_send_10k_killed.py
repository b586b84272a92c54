"""Issue acceptance: 10,000 personalised messages with 20 ms gateway latency, the worker killed mid-run
(SIGKILL, no cleanup) and the task retried.

Judged by what subscribers see (the sandbox ledger: the same text to the same phone twice is a
duplicate, whatever ids were used), in both sandbox dedupe modes:
- retried at once (inside FPT's 5 minutes): every message arrives exactly once;
- retried after the window: nothing arrives twice, and every message that did not arrive is
  reported ``in_doubt`` (never dropped silently, never ``sent``); on a local journal (one line per
  intent and answer, as they happen) only what was in flight can be in doubt.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from airflow_provider_fptsms.sandbox.worker import TaskProcess, TaskSpec, run_task, task_env
from tests.operators.conftest import age_journals

pytestmark = pytest.mark.exactly_once

N = 10_000
CONCURRENCY = 32


@pytest.mark.parametrize("retry", ["inside_window", "after_window"])
def test_10k_personalised_send_survives_a_kill(tmp_path: Path, retry: str) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("name,phone,code\n" + "".join(f"Khach {i},0912{i:06d},KM{i:05d}\n" for i in range(N)))
    spec = TaskSpec(
        "airflow_provider_fptsms.operators.send:FptSendSmsOperator",
        {
            "phones": str(source),
            "phone_column": "phone",
            "message": "Chao {name}, ma giam gia {code}",
            "max_concurrency": CONCURRENCY,
            "output_path": str(tmp_path / "results.csv"),
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
        if retry == "after_window":
            admin.advance_clock(600)
            age_journals(tmp_path / "state", 600)
        outcome = run_task(spec.retried(), env, timeout=300)
        ledger = admin.summary()
        delivered = Counter(e["phone"] for e in admin.ledger())
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    statuses = Counter(row["status"] for row in rows)
    assert len(rows) == N and set(statuses) <= {"sent", "already_sent", "in_doubt"}, statuses
    assert ledger["duplicates"] == 0 and max(delivered.values()) == 1
    for row in rows:  # row n is phone 0912{n-1:06d}
        arrived = delivered.get(f"84912{int(row['row']) - 1:06d}", 0)
        assert row["status"] == "in_doubt" or arrived == 1, row  # reported delivered => delivered
        assert arrived == 1 or row["status"] == "in_doubt", row  # not delivered => reported, never dropped
    if retry == "inside_window":
        assert outcome.returned and statuses["in_doubt"] == 0 and ledger["total"] == N
    else:
        assert not outcome.returned and "resend_in_doubt=True" in outcome.output  # fails loudly, sends nothing twice
        assert 0 < statuses["in_doubt"] <= CONCURRENCY, statuses
    print(
        f"{retry}: killed after {killed_at} accepted; retry: {dict(statuses)}; "
        f"ledger {ledger['total']} messages, {ledger['duplicates']} duplicates"
    )
