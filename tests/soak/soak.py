"""Fault soak: CSKH sends and a campaign push through a faulty gateway, with the worker killed at random
points and retried as Airflow would — then the sandbox ledger must show 0 lost and 0 duplicated.

Fault plan: 5% HTTP 5xx, 2% dropped connections, 1% replies lost after the gateway committed,
the token invalidated every 500 calls. The tasks log at DEBUG, and every line of every try's output
is scanned for the connection secrets and raw phone numbers (the security scan's rule, ``tests/leaks``).
``make soak`` runs the long version (10,000 messages and a 100,000-phone campaign); ``make test`` a short one.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from airflow_provider_fptsms.sandbox.worker import TaskProcess, TaskSpec, create_campaign_task, run_task, task_env
from tests.leaks import DEBUG_MARK, find_leaks, log_lines

MAX_TRIES = 15
FAULTS = {"error_5xx_rate": 0.05, "drop_rate": 0.02, "lost_reply_rate": 0.01, "token_invalidate_every": 500}

SEND = TaskSpec(
    "airflow_provider_fptsms.operators.send:FptSendSmsOperator",
    {"message": "Soak {name}", "max_concurrency": 32},
    dag_id="soak",
    task_id="send",
)
PUSH = TaskSpec(
    "airflow_provider_fptsms.operators.campaign:FptPushCampaignOperator",
    {"chunk_size": 1000},
    dag_id="soak",
    task_id="push",
)


def _tries(
    spec: TaskSpec, env: dict[str, str], admin: SandboxClient, rng: random.Random, kills: int, calls: int
) -> tuple[dict[str, Any], list[str]]:
    """Run a task as Airflow would until a try succeeds; the first ``kills`` tries are SIGKILLed mid-work.

    A kill lands after a random number (up to half of ``calls``, the calls the task needs) of this
    try's gateway calls, so it always hits the sending, never the imports. Returns the summary and
    every try's output.
    """
    outputs = []
    for attempt in range(1, MAX_TRIES + 1):
        task = TaskProcess(spec, env)
        if attempt <= kills:
            task.wait_for(partial(_calls_reached, admin, _calls(admin) + rng.randint(1, max(1, calls // 2))), 600)
            result = task.kill()
        else:
            result = task.finish()
        outputs.append(result.output)
        if result.returned:
            return {"tries": attempt, **result.value}, outputs
        spec = spec.retried()
    raise RuntimeError(f"no try succeeded in {MAX_TRIES}:\n{outputs[-1][-3000:]}")


def _calls(admin: SandboxClient) -> int:
    """Gateway calls the sandbox has answered so far (a cheap progress gauge)."""
    return sum(admin.requests().values())


def _calls_reached(admin: SandboxClient, target: int) -> bool:
    return _calls(admin) >= target


def run(messages: int, campaign_phones: int, seed: int = 7, kills: int = 2) -> dict[str, Any]:
    """The soak's figures; ``log_leaks`` lists any task log line (DEBUG included) with a secret or a raw phone."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="fptsms-soak-") as folder, SandboxProcess() as sandbox:
        base = Path(folder)
        env = task_env(sandbox.url, base, AIRFLOW__LOGGING__LOGGING_LEVEL="DEBUG")
        conn = json.loads(env["AIRFLOW_CONN_FPTSMS_DEFAULT"])
        conn["extra"].update(backoff=0.01, max_attempts=8)
        env["AIRFLOW_CONN_FPTSMS_DEFAULT"] = json.dumps(conn)
        admin = SandboxClient(sandbox.url, timeout=300)
        recipients = base / "recipients.csv"
        recipients.write_text("name,phone\n" + "".join(f"K{i},0912{i:06d}\n" for i in range(messages)))
        phones = base / "phones.txt"
        phones.write_text("".join(f"0987{i:06d}\n" for i in range(campaign_phones)))
        code = run_task(create_campaign_task("soak-push", campaign_phones), env).check()
        admin.set_faults(**FAULTS, seed=seed)
        started = time.perf_counter()
        send, send_logs = _tries(
            replace(SEND, kwargs={**SEND.kwargs, "phones": str(recipients)}), env, admin, rng, kills, messages
        )
        push_spec = replace(PUSH, kwargs={**PUSH.kwargs, "campaign_code": code, "phones": str(phones)})
        push, push_logs = _tries(push_spec, env, admin, rng, kills, campaign_phones // PUSH.kwargs["chunk_size"])
        elapsed = time.perf_counter() - started
        cskh = admin.summary(kind="cskh")
        qc = admin.summary(campaign_code=code)
        injected = admin.faults()["injected"]
        mode = admin.configure().get("dedupe", "?")  # an empty change reads the settings
    lines = log_lines("\n".join(send_logs + push_logs))
    return {
        "dedupe_mode": mode,
        "cskh_expected": messages,
        "cskh_in_ledger": cskh["total"],
        "cskh_unique": cskh["unique"],
        "cskh_duplicates": cskh["duplicates"],
        "cskh_lost": messages - cskh["unique"],
        "cskh_tries": send["tries"],
        "qc_expected": campaign_phones,
        "qc_in_ledger": qc["total"],
        "qc_unique": qc["unique"],
        "qc_duplicates": qc["duplicates"],
        "qc_lost": campaign_phones - qc["unique"],
        "push_tries": push["tries"],
        "faults_injected": injected,
        "log_lines_scanned": len(lines),
        "log_debug_lines": sum(1 for line in lines if DEBUG_MARK in line),
        "log_leaks": find_leaks(lines),
        "seconds": round(elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--campaign-phones", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    figures = run(args.messages, args.campaign_phones, args.seed)
    for key, value in figures.items():
        print(f"{key:<18} {value}")
    counts = ("cskh_lost", "cskh_duplicates", "qc_lost", "qc_duplicates")
    ok = all(figures[key] == 0 for key in counts) and not figures["log_leaks"]
    print("soak passed: 0 lost, 0 duplicated, 0 leaks in the task logs" if ok else "soak FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
