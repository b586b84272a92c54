"""Push 1,000,000 phones against a 1,000,000-number do-not-contact list: peak RSS of the task, phones/s.

The task runs in a fresh child process (``sandbox.worker``), so its RSS includes Airflow's imports. Half the
audience is on the list (500,000 suppressed), the list's other half is numbers outside the audience. The
frequency cap is on (the default), so every pushed phone is also recorded in the contact history: this is
the push as the law wants it. The sandbox ledger must hold the 500,000 others once each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.campaign_push import write_phones


def write_list(path: Path, audience: Path, n: int) -> int:
    """Every other audience phone, then numbers the audience does not have, up to ``n``; returns how many
    of the audience are on it."""
    listed = 0
    with audience.open() as phones, path.open("w") as out:
        out.write("so_dien_thoai\n")
        for index, phone in enumerate(phones):
            if index % 2 == 0:
                out.write(phone)
                listed += 1
        for i in range(n - listed):
            out.write(f"039{i:07d}\n")  # a prefix write_phones does not use
    return listed


def measure(n: int = 1_000_000, list_size: int = 1_000_000, chunk_size: int = 5000) -> dict[str, float]:
    from airflow_provider_fptsms.sandbox.client import SandboxClient
    from airflow_provider_fptsms.sandbox.server import SandboxProcess
    from airflow_provider_fptsms.sandbox.worker import TaskSpec, create_campaign_task, run_task, task_env

    with tempfile.TemporaryDirectory(prefix="fptsms-bench-") as folder, SandboxProcess() as sandbox:
        phones, dnc = Path(folder) / "phones.txt", Path(folder) / "dnc.csv"
        write_phones(phones, n)
        listed = write_list(dnc, phones, list_size)
        env = task_env(sandbox.url, Path(folder), FPTSMS_CONTACT_HISTORY_DB=f"sqlite:///{folder}/contacts.db")
        code = run_task(create_campaign_task("bench-dnc", n), env).check()
        push = TaskSpec(
            "airflow_provider_fptsms.operators.campaign:FptPushCampaignOperator",
            {
                "campaign_code": code,
                "phones": str(phones),
                "suppress": {"dnc": str(dnc)},
                "chunk_size": chunk_size,
                "progress_every": 30,
            },
            dag_id="bench",
            task_id="push",
        )
        result = run_task(push, env)
        summary = result.check()
        ledger = SandboxClient(sandbox.url, timeout=120).summary()
    assert summary["suppression"]["suppressed"] == listed and ledger["total"] == n - listed
    return {
        "suppression_1m_x_1m_peak_rss_mb": round(result.peak_rss_mb, 1),
        "suppression_1m_x_1m_phones_per_s": round(n / result.elapsed),
        "suppression_1m_x_1m_suppressed": float(summary["suppression"]["suppressed"]),
        "suppression_1m_x_1m_ledger_duplicates": float(ledger["duplicates"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phones", type=int, default=1_000_000)
    parser.add_argument("--list-size", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    for key, value in measure(args.phones, args.list_size).items():
        print(f"| {key} | {value:,.1f} |")
    print(f"(benchmark took {time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
