"""Push 1,000,000 phones through ``FptPushCampaignOperator`` to the sandbox: wall time, phones/s, peak RSS.

The operator runs in a fresh child process (as an Airflow task would), so its peak RSS includes
Airflow's own imports (~120 MB): the figure is the whole task process, not just our code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHILD = """
import json, sys, time
from types import SimpleNamespace
from airflow_provider_fptsms.operators.campaign import FptPushCampaignOperator
code, path, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
ti = SimpleNamespace(dag_id="bench", run_id="bench", task_id="push", map_index=-1, try_number=1)
op = FptPushCampaignOperator(task_id="push", campaign_code=code, phones=path, chunk_size=chunk, progress_every=30)
started = time.perf_counter()
summary = op.execute({"ti": ti})
elapsed = time.perf_counter() - started
# VmHWM: this process image's peak RSS (ru_maxrss would carry the spawning parent's over exec)
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print("RESULT " + json.dumps({"elapsed": elapsed, "rss_mb": rss, "pushed": summary["pushed"]}))
"""


def write_phones(path: Path, n: int) -> None:
    rng = random.Random(42)
    prefixes = ("091", "094", "088", "098", "097", "096", "086", "090", "093", "070", "079", "032", "035")
    with path.open("w") as out:
        for i in range(n):
            out.write(f"{rng.choice(prefixes)}{i:07d}\n")  # unique: the counter is the last 7 digits


def measure(n: int = 1_000_000, chunk_size: int = 5000) -> dict[str, float]:
    from airflow_provider_fptsms.sandbox.server import SandboxProcess, connection_env

    with tempfile.TemporaryDirectory(prefix="fptsms-bench-") as folder, SandboxProcess() as sandbox:
        phones = Path(folder) / "phones.txt"
        write_phones(phones, n)
        env = {
            **os.environ,
            **connection_env(sandbox.url),
            "AIRFLOW_HOME": folder,
            "FPTSMS_STATE_PATH": str(Path(folder) / "state"),
        }
        code = _create_campaign(env, n)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, code, str(phones), str(chunk_size)],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        line = next((x for x in child.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            raise RuntimeError(f"push failed:\n{child.stdout[-2000:]}\n{child.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(line[len("RESULT ") :])
        from airflow_provider_fptsms.sandbox.client import SandboxClient

        ledger = SandboxClient(sandbox.url, timeout=120).summary()
    return {
        "campaign_push_phones": float(result["pushed"]),
        "campaign_push_wall_s": round(result["elapsed"], 1),
        "campaign_push_phones_per_s": round(result["pushed"] / result["elapsed"]),
        "campaign_push_peak_rss_mb": round(result["rss_mb"], 1),
        "campaign_push_ledger_duplicates": float(ledger["duplicates"]),
        "campaign_push_ledger_total": float(ledger["total"]),
    }


def _create_campaign(env: dict[str, str], quota: int) -> str:
    script = (
        "from airflow_provider_fptsms.hooks.fpt import FptSmsHook\n"
        "from airflow_provider_fptsms.sms.schedule import next_valid_slot\n"
        f"print(FptSmsHook().create_campaign('bench-push', 'Khuyen mai', next_valid_slot(), {quota}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phones", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    args = parser.parse_args()
    started = time.perf_counter()
    for key, value in measure(args.phones, args.chunk_size).items():
        goal = "goal <= 150" if key.endswith("rss_mb") else ("goal 0" if "duplicates" in key else "")
        print(f"| {key} | {value:,.1f} | {goal} |")
    print(f"(benchmark took {time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
