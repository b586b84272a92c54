"""Fault soak: CSKH sends and a campaign push through a faulty gateway, with the worker killed at random
points and retried as Airflow would — then the sandbox ledger must show 0 lost and 0 duplicated.

Fault plan: 5% HTTP 5xx, 2% dropped connections, 1% replies lost after the gateway committed,
the token invalidated every 500 calls. ``make soak`` runs the long version (10,000 messages and a
100,000-phone campaign); ``make test`` runs a short one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.server import SandboxProcess, connection_env

FAULTS = {"error_5xx_rate": 0.05, "drop_rate": 0.02, "lost_reply_rate": 0.01, "token_invalidate_every": 500}

SEND = """
import json, sys
from types import SimpleNamespace
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
ti = SimpleNamespace(dag_id="soak", run_id="run-1", task_id="send", map_index=-1, try_number=int(sys.argv[2]))
op = FptSendSmsOperator(task_id="send", phones=sys.argv[1], message="Soak {name}", max_concurrency=32)
print("RESULT " + json.dumps(op.execute({"ti": ti})))
"""
PUSH = """
import json, sys
from types import SimpleNamespace
from airflow_provider_fptsms.operators.campaign import FptPushCampaignOperator
ti = SimpleNamespace(dag_id="soak", run_id="run-1", task_id="push", map_index=-1, try_number=int(sys.argv[3]))
op = FptPushCampaignOperator(task_id="push", campaign_code=sys.argv[1], phones=sys.argv[2], chunk_size=1000)
print("RESULT " + json.dumps(op.execute({"ti": ti})))
"""
CREATE = """
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.sms.schedule import next_valid_slot
print(FptSmsHook().create_campaign("soak-push", "Khuyen mai", next_valid_slot(), int(__import__("sys").argv[1])))
"""


def _tries(args: list[str], env: dict[str, str], rng: random.Random, kills: int, max_tries: int = 15) -> dict[str, Any]:
    """Run a task as Airflow would: kill the first ``kills`` tries at a random moment, retry until one succeeds."""
    for attempt in range(1, max_tries + 1):
        child = subprocess.Popen(
            [sys.executable, "-c", *args, str(attempt)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        if attempt <= kills:
            time.sleep(rng.uniform(1.5, 4.0))  # after the imports, somewhere in the sending
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            continue
        out, _ = child.communicate(timeout=1800)
        line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
        if child.returncode == 0 and line:
            return {"tries": attempt, **json.loads(line[len("RESULT ") :])}
    raise RuntimeError(f"no try succeeded in {max_tries}")


def run(messages: int, campaign_phones: int, seed: int = 7, kills: int = 2) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="fptsms-soak-") as folder, SandboxProcess() as sandbox:
        base = Path(folder)
        env = {
            **os.environ,
            **connection_env(sandbox.url),
            "AIRFLOW_HOME": str(base / "home"),
            "FPTSMS_STATE_PATH": str(base / "state"),
        }
        env["AIRFLOW_CONN_FPTSMS_DEFAULT"] = json.dumps(
            {
                **json.loads(env["AIRFLOW_CONN_FPTSMS_DEFAULT"]),
                "extra": {
                    **json.loads(env["AIRFLOW_CONN_FPTSMS_DEFAULT"])["extra"],
                    "backoff": 0.01,
                    "max_attempts": 8,
                },
            }
        )
        admin = SandboxClient(sandbox.url, timeout=300)
        recipients = base / "recipients.csv"
        recipients.write_text("name,phone\n" + "".join(f"K{i},0912{i:06d}\n" for i in range(messages)))
        phones = base / "phones.txt"
        phones.write_text("".join(f"0987{i:06d}\n" for i in range(campaign_phones)))
        code = (
            subprocess.run(
                [sys.executable, "-c", CREATE, str(campaign_phones)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        admin.set_faults(**FAULTS, seed=seed)
        started = time.perf_counter()
        send = _tries([SEND, str(recipients)], env, rng, kills)
        push = _tries([PUSH, code, str(phones)], env, rng, kills)
        elapsed = time.perf_counter() - started
        cskh = admin.summary(kind="cskh")
        qc = admin.summary(campaign_code=code)
        injected = admin.faults()["injected"]
    return {
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
    ok = figures["cskh_lost"] == figures["cskh_duplicates"] == figures["qc_lost"] == figures["qc_duplicates"] == 0
    print("soak passed: 0 lost, 0 duplicated" if ok else "soak FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
