"""``make bench``: run every benchmark, print one table with the goals beside the figures,
and save them to ``benchmarks/results.json``. Same machine, same run for both sides of each ratio."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

# The operators' own INFO lines would bury the table; set before Airflow is first imported.
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")

from benchmarks import (
    campaign_push,
    cskh_scaling,
    cskh_send,
    dag_parse,
    dlr_webhook,
    fibo_send,
    import_overhead,
    phone_prep,
    report_trigger,
    sandbox_throughput,
    suppression,
)

GOALS = {
    "sandbox_cskh_sends_per_s": ">= 2,000",
    "phone_prep_speedup_vs_phonenumbers": ">= 20",
    "phone_prep_peak_rss_mb": "<= 150",
    "campaign_push_1m_peak_rss_mb": "<= 150",
    "campaign_push_10m_peak_rss_mb": "<= 150",
    "campaign_push_ledger_duplicates": "0 (a phone twice, or one missing, at any size)",
    "campaign_push_fraction_of_sandbox_max": ">= 0.9",
    "campaign_push_10m_phones_per_s_vs_1m": ">= 0.9",
    "cskh_100k_messages_per_s_vs_10k": ">= 0.9",
    "cskh_speedup_vs_requests_loop": ">= 20",
    "cskh_fraction_of_sandbox_max": ">= 0.95",
    "cskh_speedup_vs_threadpool": ">= 1.5",
    "cskh_s3_state_fraction_of_local": ">= 0.8",
    "cskh_s3_puts_per_1000_messages": "(info; lower is better)",
    "campaign_push_s3_state_fraction_of_local": ">= 0.8",
    "campaign_push_s3_puts_per_1000_phones": "(info; lower is better)",
    "import_overhead_ratio": "<= 1.10",
    "spec_dag_parse_ratio": "<= 1.2",
    "report_trigger_max_stall_ms": "<= 50",
    "report_trigger_memory_growth_mb": "<= 50",
    "fibo_list_speedup_vs_per_message": "> 1 (the operator lists only when it is faster)",
    "suppression_1m_x_1m_peak_rss_mb": "<= 150",
    "suppression_1m_x_1m_ledger_duplicates": "0",
    "dlr_webhook_reports_per_s": ">= 2,000",
    "dlr_webhook_lost": "0",
    "dlr_webhook_double_counted": "0",
    "dlr_webhook_not_final": "0",
    "dlr_webhook_postgres_reports_per_s": ">= 2,000",
    "dlr_webhook_postgres_lost": "0",
    "dlr_webhook_postgres_double_counted": "0",
    "dlr_webhook_postgres_not_final": "0",
}


def _s3_state() -> dict[str, float]:
    """In the venv ``make bench`` builds for it (``$FPTSMS_S3_BENCH_PYTHON``): the Amazon provider that s3://
    needs weighs on every task process's imports, and the other benchmarks measure the dev venv."""
    python = os.environ.get("FPTSMS_S3_BENCH_PYTHON")
    if not python:
        from benchmarks import s3_state

        return s3_state.measure()
    code = "import json; from benchmarks import s3_state; print(json.dumps(s3_state.measure()))"
    run = subprocess.run(
        [python, "-c", code], check=True, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    )
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def _sandbox() -> dict[str, float]:
    return {"sandbox_cskh_sends_per_s": round(sandbox_throughput.measure(), 1)}


BENCHMARKS: list[tuple[str, Callable[[], dict[str, float]]]] = [
    ("sandbox_throughput", _sandbox),
    ("phone_prep", phone_prep.measure),
    ("campaign_push", campaign_push.measure),
    ("suppression", suppression.measure),
    ("cskh_send", cskh_send.measure),
    ("s3_state", _s3_state),
    ("cskh_scaling", cskh_scaling.measure),
    ("fibo_send", fibo_send.measure),
    ("import_overhead", import_overhead.measure),
    ("dag_parse", dag_parse.measure),
    ("report_trigger", report_trigger.measure),
    ("dlr_webhook", dlr_webhook.measure),
]


def main() -> None:
    results: dict[str, float] = {}
    for name, run in BENCHMARKS:
        started = time.perf_counter()
        print(f"running {name} ...", flush=True)
        results.update(run())
        print(f"  done in {time.perf_counter() - started:.0f}s", flush=True)
    print(f"\n| {'benchmark':<38} | {'result':>14} | goal |\n|{'-' * 40}|{'-' * 16}|------|")
    for key, value in results.items():
        shown = f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"  # never round a ratio onto its goal
        print(f"| {key:<38} | {shown:>14} | {GOALS.get(key, '')} |")
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps({"machine": platform.platform(), "results": results}, indent=2) + "\n")
    print(f"\nsaved {out}")


if __name__ == "__main__":
    main()
