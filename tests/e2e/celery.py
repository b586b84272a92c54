"""``make e2e-celery``: the same deployment on CeleryExecutor — scale-out, and a worker lost mid-campaign.

One 1,000,000-phone campaign is fanned out over mapped pushes in the ``fptsms_gateway`` pool, three
times in one run: with one Celery worker (the baseline), with two (the aggregate), and with two where
one worker is SIGKILLed whole mid-way (its tasks are failed by the scheduler's heartbeat timeout and
retried on the other). Judged by the sandbox ledger: every phone of each campaign exactly once.

The broker is Kombu's SQLAlchemy transport on the deployment's own PostgreSQL (nothing more to run),
the result backend the same database; ``state_path`` is a folder both workers see (one machine here;
a shared volume or object store across machines).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from airflow_provider_fptsms.sandbox.client import SandboxClient
from tests.e2e.api import AirflowApi, Run
from tests.e2e.deployment import ROOT, USER, Deployment, wait_until
from tests.e2e.run import POOL, Report, drive, now_iso, prepare_dags

PHONES = 1_000_000
POOL_SLOTS = 4
LATENCY_MS = 30  # a gateway call's round trip: the work is I/O-bound, as against the real gateway
HEARTBEAT_TIMEOUT_S = 20  # default 300: how long a lost worker's tasks wait before they are failed and retried


def celery_deployment(work: Path) -> Deployment:
    env = {
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
    }
    return Deployment(work, executor="CeleryExecutor", celery_workers=1, extra_env=env)


@dataclass(frozen=True)
class CampaignRun:
    """One campaign's outcome, as Airflow and the sandbox ledger report it."""

    label: str
    state: str
    pushed: int
    unique: int
    twice: int
    phones_per_s: float
    retried: int
    killed: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "success" and (self.pushed, self.unique, self.twice) == (PHONES, PHONES, 0)

    def detail(self) -> str:
        return (
            f"{self.phones_per_s:,.0f} phones/s; {self.pushed:,} pushed, {self.unique:,} unique, {self.twice} twice; "
            f"{self.retried} pushes retried" + (f"; {self.killed}" if self.killed else "")
        )


def push_rate(api: AirflowApi, run: Run) -> tuple[float, int]:
    """Phones per second over the pushes' span (first push start to last push end), and retried pushes."""
    pushes = [ti for ti in api.task_instances(run.dag_id, run.run_id) if ti["task_id"] == "push_phones"]
    starts = [datetime.fromisoformat(ti["start_date"]) for ti in pushes if ti["start_date"]]
    ends = [datetime.fromisoformat(ti["end_date"]) for ti in pushes if ti["end_date"]]
    span = (max(ends) - min(starts)).total_seconds()
    return PHONES / span, sum(1 for ti in pushes if ti["try_number"] > 1)


def campaign(api: AirflowApi, admin: SandboxClient, label: str, kill: Deployment | None = None) -> CampaignRun:
    """One 1,000,000-phone campaign; with ``kill``, its second worker is SIGKILLed once 30% are pushed."""
    admin.reset()  # each campaign judged on its own (and the ledger's memory stays bounded)
    admin.configure(approval_delay=3600)  # no campaign may be sent (FPT: at ScheduleTime) mid-push
    admin.set_faults(latency_ms=LATENCY_MS)
    run = api.trigger("e2e_scale_push", label, "success", now_iso(), {})
    killed = ""
    if kill is not None:
        wait_until(
            lambda: admin.summary(kind="qc")["total"] >= PHONES * 0.3, 300, "30% of the phones pushed", every=0.2
        )
        worker = kill.component("celery-worker-2")
        assert worker.process is not None
        os.killpg(worker.process.pid, signal.SIGKILL)  # the whole worker: main process, pool and task processes
        killed = f"worker 2 killed at {admin.summary(kind='qc')['total']:,} phones"
    watch = api.watch([run], timeout=900, every=2.0)
    path = f"/dags/{run.dag_id}/dagRuns/{run.run_id}/taskInstances/create_campaign/xcomEntries/return_value"
    ledger = admin.summary(campaign_code=api.call("GET", path)["value"])
    rate, retried = push_rate(api, run)
    state = watch.final[(run.dag_id, run.run_id)]
    return CampaignRun(label, state, ledger["total"], ledger["unique"], ledger["duplicates"], rate, retried, killed)


def scale_runs(report: Report, deployment: Deployment) -> None:
    started = time.perf_counter()
    prepare_dags(deployment)
    phones = deployment.dags / "data" / "e2e_scale_phones.txt"
    phones.write_text("".join(f"0914{i:06d}\n" for i in range(PHONES)))
    deployment.start()
    report.add("deployment up (1 Celery worker)", True, f"api {deployment.api_url}", started)
    api = AirflowApi(deployment.api_url, USER, deployment.password())
    wait_until(lambda: "e2e_scale_push" in api.dag_ids(), 180, "the dag-processor to parse e2e_scale_push")
    api.set_pool(POOL, POOL_SLOTS, "FPT/Fibo gateway calls at once")
    admin = SandboxClient(deployment.sandbox_url)
    runs = []
    for label, workers, kill in (("1 worker", 1, False), ("2 workers", 2, False), ("2 workers, 1 killed", 2, True)):
        started = time.perf_counter()
        if workers == 2 and not deployment.component_alive("celery-worker-2"):
            deployment.start_celery_worker(2, wait=True)
        result = campaign(api, admin, label, deployment if kill else None)
        runs.append(result)
        report.add(f"campaign, {label}", result.ok, result.detail(), started)
    single, double = runs[0].phones_per_s, runs[1].phones_per_s
    detail = f"{double / single:.2f}x ({double:,.0f} vs {single:,.0f} phones/s)"
    report.add("aggregate vs one worker", double > single, detail, time.perf_counter())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / ".e2e-celery", help="scratch folder (wiped first)")
    args = parser.parse_args(argv)
    print(f"fptsms e2e-celery: PostgreSQL + CeleryExecutor (Kombu SQLAlchemy broker), {PHONES:,} phones ({args.work})")
    return drive("e2e-celery", celery_deployment(args.work), scale_runs)


if __name__ == "__main__":
    sys.exit(main())
