"""``FptPushCampaignOperator`` at 10k, 100k, 1M and 10M phones, against the sandbox's own push ceiling.

Each size runs on a fresh sandbox, campaign, contact history and state folder, so no size pays for
the one before. The operator runs in a fresh child process (as an Airflow task would;
``sandbox.worker``), so its peak RSS includes Airflow's own imports (~120 MB): the figure is the whole
task process, not just our code. It runs with its defaults, the frequency cap included (a SQLite contact
history under ``$AIRFLOW_HOME``); 1M phones also run with ``max_per_24h=None``, to show what the cap costs.

The ceiling is what the sandbox takes from the simplest client that does the gateway's work and no
more: the same file's numbers in the gateway's ``84...`` form, the same chunk size, one
``push-brandname-ads`` after the other on a keep-alive ``requests`` session, each reply parsed. The
operator's pushes are sequential too (a chunk is acknowledged before the next goes), so the ratio says
what reading, validating, deduplicating, the cap, the state records and the per-row report cost.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
CHUNK_SIZE = 5000
LATENCY_MS = 20  # per request, as the CSKH benchmark's
FRACTION_AT = 1_000_000


def write_phones(path: Path, n: int) -> None:
    rng = random.Random(42)
    prefixes = ("091", "094", "088", "098", "097", "096", "086", "090", "093", "070", "079", "032", "035")
    with path.open("w") as out:
        for i in range(n):
            out.write(f"{rng.choice(prefixes)}{i:07d}\n")  # unique: the counter is the last 7 digits


def _chunks(path: Path, size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    with path.open() as lines:
        for line in lines:
            chunk.append("84" + line.strip()[1:])
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _ceiling(url: str, code: str, phones: Path, chunk_size: int) -> float:
    """Phones/s of a bare sequential client pushing the same file in the same chunks."""
    import requests

    from airflow_provider_fptsms.gateways import fpt
    from airflow_provider_fptsms.sandbox.config import DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET

    session, session_id = requests.Session(), uuid.uuid4().hex
    token_request = fpt.token_request(DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET, fpt.DEFAULT_SCOPES, session_id)
    token = session.post(url + token_request.path, json=token_request.body, timeout=30).json()["access_token"]
    started, pushed = time.perf_counter(), 0
    for chunk in _chunks(phones, chunk_size):
        request = fpt.push_campaign_request(token, session_id, code, chunk)
        fpt.parse_push(200, session.post(url + request.path, json=request.body, timeout=120).content)
        pushed += len(chunk)
    return pushed / (time.perf_counter() - started)


def push_once(
    n: int,
    chunk_size: int,
    *,
    latency_ms: float = LATENCY_MS,
    ceiling: bool = False,
    baseline: bool = False,
    **kwargs: Any,
) -> dict[str, float]:
    """One push of ``n`` phones on a fresh sandbox; if asked, also the ceiling on the same file, and the
    ``baseline_rss_mb`` of the same task with nothing to push (what the line's imports weigh in a task process)."""
    from airflow_provider_fptsms.sandbox.client import SandboxClient
    from airflow_provider_fptsms.sandbox.server import SandboxProcess
    from airflow_provider_fptsms.sandbox.worker import TaskSpec, create_campaign_task, run_task, task_env

    with (
        tempfile.TemporaryDirectory(prefix="fptsms-bench-") as folder,
        SandboxProcess("--latency-ms", str(latency_ms)) as sandbox,
    ):
        phones = Path(folder) / "phones.txt"
        write_phones(phones, n)
        env = task_env(sandbox.url, Path(folder))
        code = run_task(create_campaign_task("bench-push", n), env).check()
        push = TaskSpec(
            "airflow_provider_fptsms.operators.campaign:FptPushCampaignOperator",
            {"campaign_code": code, "phones": str(phones), "chunk_size": chunk_size, "progress_every": 60, **kwargs},
            dag_id="bench",
            task_id="push",
        )
        result = run_task(push, env, timeout=7200)
        pushed = result.check()["pushed"]
        ledger = SandboxClient(sandbox.url, timeout=600).summary()
        out = {
            "phones": float(pushed),
            "wall_s": round(result.elapsed, 2),
            "phones_per_s": round(pushed / result.elapsed),
            "peak_rss_mb": round(result.peak_rss_mb, 1),
            "ledger_duplicates": float(ledger["duplicates"]),
            "ledger_total": float(ledger["total"]),
        }
        if baseline:
            empty = TaskSpec(
                "airflow_provider_fptsms.operators.campaign:FptPushCampaignOperator",
                {"campaign_code": code, "phones": [], "on_empty": "succeed"},
                dag_id="bench",
                task_id="push_nothing",
            )
            nothing = run_task(empty, env)
            nothing.check()
            out["baseline_rss_mb"] = round(nothing.peak_rss_mb, 1)
        if ceiling:
            again = run_task(create_campaign_task("bench-ceiling", n), env).check()
            out["ceiling_phones_per_s"] = round(_ceiling(sandbox.url, again, phones, chunk_size))
    return out


def measure(
    sizes: tuple[int, ...] = SIZES, chunk_size: int = CHUNK_SIZE, fraction_at: int = FRACTION_AT
) -> dict[str, float]:
    results: dict[str, float] = {}
    for n in sizes:
        run = push_once(n, chunk_size, ceiling=n == fraction_at)
        label = f"campaign_push_{size_label(n)}"
        for key in ("wall_s", "phones_per_s", "peak_rss_mb"):
            results[f"{label}_{key}"] = run[key]
        results["campaign_push_ledger_duplicates"] = results.get("campaign_push_ledger_duplicates", 0.0) + (
            run["ledger_duplicates"] + abs(run["ledger_total"] - n)  # a phone twice, or one missing
        )
        if "ceiling_phones_per_s" in run:
            results["campaign_push_sandbox_max_phones_per_s"] = run["ceiling_phones_per_s"]
            results["campaign_push_fraction_of_sandbox_max"] = round(
                run["phones_per_s"] / run["ceiling_phones_per_s"], 3
            )
    if fraction_at in sizes:
        without_cap = push_once(fraction_at, chunk_size, max_per_24h=None)
        results[f"campaign_push_{size_label(fraction_at)}_no_cap_phones_per_s"] = without_cap["phones_per_s"]
        results["campaign_push_no_cap_fraction_of_sandbox_max"] = round(
            without_cap["phones_per_s"] / results["campaign_push_sandbox_max_phones_per_s"], 3
        )
    if 1_000_000 in sizes and 10_000_000 in sizes:
        results["campaign_push_10m_phones_per_s_vs_1m"] = round(
            results["campaign_push_10m_phones_per_s"] / results["campaign_push_1m_phones_per_s"], 3
        )
    return results


def size_label(n: int) -> str:
    """``10k``, ``1m``: how the result keys name a size."""
    return f"{n // 1_000_000}m" if n >= 1_000_000 else f"{n // 1000}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    parser.add_argument("--fraction-at", type=int, default=FRACTION_AT, help="the size also pushed by the ceiling")
    args = parser.parse_args()
    started = time.perf_counter()
    for key, value in measure(tuple(args.sizes), args.chunk_size, args.fraction_at).items():
        print(f"| {key} | {value:,.3f} |")
    print(f"(benchmark took {time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
