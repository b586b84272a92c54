"""Push 1,000,000 phones through ``FptPushCampaignOperator`` to the sandbox: wall time, phones/s, peak RSS.

The operator runs in a fresh child process (as an Airflow task would; ``sandbox.worker``), so its peak
RSS includes Airflow's own imports (~120 MB): the figure is the whole task process, not just our code.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path


def write_phones(path: Path, n: int) -> None:
    rng = random.Random(42)
    prefixes = ("091", "094", "088", "098", "097", "096", "086", "090", "093", "070", "079", "032", "035")
    with path.open("w") as out:
        for i in range(n):
            out.write(f"{rng.choice(prefixes)}{i:07d}\n")  # unique: the counter is the last 7 digits


def measure(n: int = 1_000_000, chunk_size: int = 5000) -> dict[str, float]:
    from airflow_provider_fptsms.sandbox.client import SandboxClient
    from airflow_provider_fptsms.sandbox.server import SandboxProcess
    from airflow_provider_fptsms.sandbox.worker import TaskSpec, create_campaign_task, run_task, task_env

    with tempfile.TemporaryDirectory(prefix="fptsms-bench-") as folder, SandboxProcess() as sandbox:
        phones = Path(folder) / "phones.txt"
        write_phones(phones, n)
        env = task_env(sandbox.url, Path(folder))
        code = run_task(create_campaign_task("bench-push", n), env).check()
        push = TaskSpec(
            "airflow_provider_fptsms.operators.campaign:FptPushCampaignOperator",
            {"campaign_code": code, "phones": str(phones), "chunk_size": chunk_size, "progress_every": 30},
            dag_id="bench",
            task_id="push",
        )
        result = run_task(push, env)
        pushed = result.check()["pushed"]
        ledger = SandboxClient(sandbox.url, timeout=120).summary()
        # the same task with nothing to push: what this Airflow line's imports weigh in a task process
        empty = TaskSpec(
            "airflow_provider_fptsms.operators.campaign:FptPushCampaignOperator",
            {"campaign_code": code, "phones": [], "on_empty": "succeed"},
            dag_id="bench",
            task_id="push_nothing",
        )
        baseline = run_task(empty, env)
        baseline.check()
    return {
        "campaign_push_phones": float(pushed),
        "campaign_push_wall_s": round(result.elapsed, 1),
        "campaign_push_phones_per_s": round(pushed / result.elapsed),
        "campaign_push_peak_rss_mb": round(result.peak_rss_mb, 1),
        "campaign_push_baseline_rss_mb": round(baseline.peak_rss_mb, 1),
        "campaign_push_ledger_duplicates": float(ledger["duplicates"]),
        "campaign_push_ledger_total": float(ledger["total"]),
    }


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
