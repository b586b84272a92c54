"""``FptSendSmsOperator`` at 1k, 10k and 100k personalised CSKH messages: does its cost grow linearly?

Each size runs as an Airflow task would, in a fresh child process (``sandbox.worker``), on a fresh sandbox
(20 ms latency, as ``cskh_send``) and a fresh state folder, with the operator's defaults: the send journal
on the local disk (the write-ahead log of the delivery model), the per-row report, masking. The recipients
come from a CSV file (``phone,name``), as a team's export would. Peak RSS is the whole task process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.campaign_push import size_label

SIZES = (1_000, 10_000, 100_000)
CONCURRENCY = 64
LATENCY_MS = 20


def send_once(n: int) -> dict[str, float]:
    from airflow_provider_fptsms.sandbox.server import SandboxProcess
    from airflow_provider_fptsms.sandbox.worker import TaskSpec, run_task, task_env

    with (
        tempfile.TemporaryDirectory(prefix="fptsms-bench-") as folder,
        SandboxProcess("--latency-ms", str(LATENCY_MS)) as sandbox,
    ):
        people = Path(folder) / "people.csv"
        with people.open("w") as out:
            out.write("phone,name\n")
            out.writelines(f"09{i:08d},Khach {i}\n" for i in range(n))
        send = TaskSpec(
            "airflow_provider_fptsms.operators.send:FptSendSmsOperator",
            {
                "phones": str(people),
                "message": "Chao {name}, ma OTP cua ban la 123456",
                "max_concurrency": CONCURRENCY,
                "output_path": str(Path(folder) / "report.csv"),
            },
            dag_id="bench",
            task_id="send",
        )
        result = run_task(send, task_env(sandbox.url, Path(folder)), timeout=3600)
        summary = result.check()
    if summary["sent"] != n:
        raise RuntimeError(f"{summary['sent']} of {n} messages sent: {summary}")
    return {
        "wall_s": round(result.elapsed, 2),
        "messages_per_s": round(n / result.elapsed, 1),
        "peak_rss_mb": round(result.peak_rss_mb, 1),
    }


def measure(sizes: tuple[int, ...] = SIZES) -> dict[str, float]:
    results: dict[str, float] = {}
    for n in sizes:
        for key, value in send_once(n).items():
            results[f"cskh_{size_label(n)}_{key}"] = value
    if 10_000 in sizes and 100_000 in sizes:
        results["cskh_100k_messages_per_s_vs_10k"] = round(
            results["cskh_100k_messages_per_s"] / results["cskh_10k_messages_per_s"], 3
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    started = time.perf_counter()
    for key, value in measure(tuple(args.sizes)).items():
        print(f"| {key} | {value:,.3f} |")
    print(f"(benchmark took {time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
