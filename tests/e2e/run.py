"""``make e2e``: every example DAG in a real deployment, through the REST API, judged from outside.

Judged by what a user and a subscriber would see, not by our own code: final run states and the
task states Airflow reports (sensors must reach ``deferred``), the sandbox ledger (no text reached
a phone twice), the DLRs the api-server plugin stored, the campaign view's figures against the sandbox (and
a screenshot of it in the UI when a Chromium is installed), every task and trigger log scanned for
secrets and raw phones at DEBUG, a push whose task process is SIGKILLed mid-way and retried by
Airflow, and no process left once the deployment is stopped. Prints a table; exits non-zero on any
failed check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

from airflow_provider_fptsms.sandbox.client import SandboxClient
from tests.e2e.api import AirflowApi, Run, Watch
from tests.e2e.campaign_view import check_campaign_view
from tests.e2e.deployment import ROOT, USER, Deployment, tail, wait_until
from tests.leaks import DEBUG_MARK, SANDBOX_SECRETS, find_leaks, log_lines

E2E_DAGS = Path(__file__).parent / "dags"
POOL = "fptsms_gateway"
PUSH_PHONES = 100_000
BLOCKED_LOOP = "Triggerer's async thread was blocked"
#: tasks that must have handed their wait to the triggerer, per DAG
DEFERRING = {
    "qc_campaign_lifecycle": {"wait_for_approval", "wait_until_sent", "delivery_report"},
    "qc_weekend_promo": {"wait_for_approval", "wait_until_sent", "delivery_report"},
    "e2e_cskh_delivery": {"wait_for_delivery"},
}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str, started: float) -> bool:
        self.checks.append(Check(name, ok, detail, time.perf_counter() - started))
        print(f"  {'ok ' if ok else 'FAIL'} {name}: {detail}", flush=True)
        return ok

    def table(self) -> str:
        width = max(len(c.name) for c in self.checks)
        rows = [f"{'check':<{width}}  result  {'time':>7}  detail", "-" * (width + 40)]
        rows += [
            f"{c.name:<{width}}  {'ok' if c.ok else 'FAILED':<6}  {c.seconds:6.1f}s  {c.detail}" for c in self.checks
        ]
        return "\n".join(rows)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def prepare_dags(deployment: Deployment) -> None:
    """The examples as a user deploys them (the folder copied whole), plus the e2e-only DAGs."""
    shutil.copytree(ROOT / "dags_examples", deployment.dags, dirs_exist_ok=True)
    shutil.copy(E2E_DAGS / "e2e_deployment.py", deployment.dags)
    phones = deployment.dags / "data" / "e2e_push_phones.txt"
    phones.write_text("".join(f"0913{i:06d}\n" for i in range(PUSH_PHONES)))


def now_iso(offset_s: float = 0.0) -> str:
    return datetime.fromtimestamp(time.time() + offset_s, timezone.utc).isoformat()


def example_runs(api: AirflowApi, with_logical_date: bool) -> list[Run]:
    """Each example once, as an application would trigger it; the spec DAG's second run must fail (fixed name)."""
    label = "logical date" if with_logical_date else "no logical date"
    date = now_iso if with_logical_date else (lambda offset=0.0: None)
    spec_expected = "success" if with_logical_date else "failed"  # weekend_promo.yaml has a fixed campaign name
    plan: list[tuple[str, str, dict[str, object]]] = [
        ("qc_campaign_lifecycle", "success", {}),
        ("qc_weekend_promo", spec_expected, {}),
        ("cskh_otp_single", "success", {}),
        ("cskh_bulk_personalised", "success", {}),
        ("fibo_alert_on_failure", "success", {}),
        ("fibo_alert_on_failure", "failed", {"fail": True}),
        ("fibo_balance_guard", "success", {}),
        ("sms_hooks_tour", "success", {}),
        ("e2e_cskh_delivery", "success", {}),
    ]
    return [
        api.trigger(dag_id, f"{label}{' ' + str(conf) if conf else ''}", expected, date(index * 0.001), conf)
        for index, (dag_id, expected, conf) in enumerate(plan)
    ]


def check_runs(report: Report, runs: list[Run], watch: Watch, started: float) -> None:
    wrong = [
        f"{r.dag_id} ({r.label}): {watch.final.get((r.dag_id, r.run_id))}, expected {r.expected}"
        for r in runs
        if watch.final.get((r.dag_id, r.run_id)) != r.expected
    ]
    report.add(
        f"{len(runs)} example DAG runs end as expected", not wrong, "; ".join(wrong) or "all as expected", started
    )
    missing = []
    for run in runs:
        wanted = DEFERRING.get(run.dag_id, set())
        if run.expected == "success" and wanted - set(watch.deferred(run)):
            missing.append(f"{run.dag_id} ({run.label}): {sorted(wanted - set(watch.deferred(run)))}")
    deferred = sum(len(watch.deferred(r)) for r in runs)
    report.add("sensors reached 'deferred'", not missing, "; ".join(missing) or f"{deferred} deferrals seen", started)


def kill_push_mid_way(report: Report, api: AirflowApi, admin: SandboxClient) -> None:
    """SIGKILL the push's task process once some chunks landed; Airflow's retry must push the rest once."""
    started = time.perf_counter()
    seq = len(admin.ledger())
    admin.set_faults(latency_ms=40)  # each push call stays open long enough to be killed inside one
    admin.configure(approval_delay=600)  # the campaign must not be sent (FPT: at ScheduleTime) mid-push
    before = admin.summary(kind="qc")["total"]
    run = api.trigger("e2e_push_killed", "kill mid-push", "success", now_iso(), {})
    ti = wait_until(lambda: _running(api, run, "push_phones"), 180, "the push task to start")
    wait_until(lambda: admin.summary(kind="qc")["total"] - before >= 20_000, 120, "20,000 phones pushed", every=0.1)
    process = psutil.Process(ti["pid"])
    what = " ".join(process.cmdline())[:80]
    os.kill(ti["pid"], signal.SIGKILL)
    killed_at = admin.summary(kind="qc")["total"] - before
    killed = time.monotonic()
    retry = wait_until(lambda: _running(api, run, "push_phones", try_number=2), 120, "the push's retry")
    retried_after = time.monotonic() - killed
    watch = api.watch([run], timeout=300)
    admin.set_faults(latency_ms=0)
    admin.configure(approval_delay=15)
    code = api.call(
        "GET", f"/dags/{run.dag_id}/dagRuns/{run.run_id}/taskInstances/create_campaign/xcomEntries/return_value"
    )["value"]
    ledger = admin.summary(campaign_code=code)
    twice = repeated(admin.ledger()[seq:])
    ok = (
        watch.final[(run.dag_id, run.run_id)] == "success"
        and (ledger["total"], ledger["unique"], twice) == (PUSH_PHONES, PUSH_PHONES, 0)
        and 0 < killed_at < PUSH_PHONES
        and retry["try_number"] == 2
    )
    detail = (
        f"killed pid {ti['pid']} ({what}) at {killed_at:,}/{PUSH_PHONES:,} phones; try 2 started {retried_after:.1f}s "
        f"later; campaign got {ledger['total']:,} phones, {ledger['unique']:,} unique, {twice} twice"
    )
    report.add("push killed mid-way, retried by Airflow", ok, detail, started)


def _running(api: AirflowApi, run: Run, task_id: str, try_number: int = 1) -> dict[str, object] | None:
    for ti in api.task_instances(run.dag_id, run.run_id):
        if ti["task_id"] == task_id and ti["state"] == "running" and ti["try_number"] >= try_number and ti["pid"]:
            return ti
    return None


def check_report_asset(report: Report, api: AirflowApi, lifecycle_runs: int) -> None:
    """qc_campaign_analytics is scheduled on qc_campaign_lifecycle's report asset: the scheduler runs it after the
    reports landed, and the event it reads carries the report's figures (its file agrees with them)."""
    started = time.perf_counter()

    def analytics_runs() -> list[dict[str, Any]]:
        runs = api.call("GET", "/dags/qc_campaign_analytics/dagRuns", params={"limit": 50})["dag_runs"]
        return [r for r in runs if r["state"] in ("success", "failed")]

    done = wait_until(lambda: analytics_runs() or None, 180, "the analytics DAG to run on the report asset")
    figures = []
    for run in done:
        path = f"/dags/qc_campaign_analytics/dagRuns/{run['dag_run_id']}/taskInstances/delivery_rate/xcomEntries"
        figures.append(api.call("GET", f"{path}/return_value")["value"] if run["state"] == "success" else None)
    reports = sum(f["reports"] for f in figures if f)
    ok = (
        all(r["state"] == "success" and r["run_type"] == "asset_triggered" for r in done)
        and all(
            f and f["rows_in_file"] == f["rows_in_event"] == f["delivered"] + f["failed"] + f["pending"]
            for f in figures
        )
        and 1 <= reports <= lifecycle_runs
    )
    shown = [{k: f[k] for k in ("campaign_code", "delivered", "failed", "delivery_rate")} for f in figures if f]
    report.add(
        "analytics DAG ran on the report asset", ok, f"{len(done)} run(s), {reports} report(s): {shown}", started
    )


def check_dlrs(report: Report, deployment: Deployment, admin: SandboxClient) -> None:
    started = time.perf_counter()
    cskh = admin.summary(gateway="fpt", kind="cskh")["total"]
    wait_until(lambda: admin.dlr_posts()["pending"] == 0, 60, "the sandbox's DLR posts")
    posts = admin.dlr_posts()
    with sqlite3.connect(deployment.dlr_db) as db:
        stored = db.execute("SELECT count(*) FROM fptsms_dlr").fetchone()[0]
    ok = stored == posts["posted"] == cskh and posts["failed"] == 0 and cskh > 0
    detail = (
        f"{cskh} CSKH sends, {posts['posted']} DLRs posted to /fptsms/dlr, {stored} stored, {posts['failed']} failed"
    )
    report.add("CSKH DLRs stored through the api-server plugin", ok, detail, started)


def repeated(entries: list[dict[str, Any]]) -> int:
    """Messages a subscriber got a second time: the same text from the same account to the same phone
    (the ledger's own rule, recomputed here over just these entries, whatever ids carried them)."""
    seen = Counter((e["gateway"], e["account"], e["phone"], e["message"]) for e in entries)
    return sum(n - 1 for n in seen.values())


def check_phase_ledger(report: Report, admin: SandboxClient, seq: int, label: str, failed_runs: int) -> int:
    """What this phase's runs sent: each DAG ran once, so no text may reach a phone twice; one alert per failure.

    (The two phases run the same DAGs on purpose — two operations — so only a phase is judged whole.)"""
    started = time.perf_counter()
    entries = admin.ledger()[seq:]
    twice = repeated(entries)
    kinds = Counter(e["kind"] for e in entries)
    alerts = [e for e in entries if e["gateway"] == "fibo" and "fibo_alert_on_failure.flaky_step" in e["message"]]
    ok = twice == 0 and len(alerts) == failed_runs and len(entries) > 0
    detail = (
        f"{len(entries):,} messages {dict(kinds)}, {twice} reached a phone twice; alerts {len(alerts)}/{failed_runs}"
    )
    report.add(f"ledger ({label}): no text twice, every failure alerted", ok, detail, started)
    return seq + len(entries)


def check_logs(report: Report, deployment: Deployment) -> None:
    started = time.perf_counter()
    task_logs = [p for p in (deployment.home / "logs").rglob("*") if p.is_file()]
    trigger_logs = [p for p in task_logs if ".trigger." in p.name]
    components = [deployment.work / f"{c.name}.log" for c in deployment.components if c.name != "sandbox"]
    secrets = (*SANDBOX_SECRETS, deployment.dlr_key)
    leaks, lines, debug = [], 0, 0
    for path in task_logs + components:
        text = log_lines(path.read_text(errors="replace"))
        lines += len(text)
        debug += sum(1 for line in text if DEBUG_MARK in line or '"level":"debug"' in line)
        leaks += [f"{path.name}: {hit}" for hit in find_leaks(text, secrets)]
    ok = not leaks and debug > 0 and trigger_logs
    detail = (
        f"{len(task_logs)} task log files ({len(trigger_logs)} trigger), {len(components)} component logs, "
        f"{lines:,} lines ({debug:,} DEBUG): {len(leaks)} leaks" + (f"; first: {leaks[0][:300]}" if leaks else "")
    )
    report.add("no secret or raw phone in any log at DEBUG", bool(ok), detail, started)


def check_triggerer_loop(report: Report, deployment: Deployment) -> None:
    """Airflow's own reading: the triggerer warns when a trigger holds its event loop over 0.2 s."""
    started = time.perf_counter()
    warnings = [line for line in log_lines(deployment.log_of("triggerer").read_text()) if BLOCKED_LOOP in line]
    detail = f"{len(warnings)} warnings" + (f"; first: {warnings[0][:200]}" if warnings else "")
    report.add("no trigger blocked the triggerer's event loop", not warnings, detail, started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / ".e2e", help="scratch folder (wiped first)")
    parser.add_argument("--keep", action="store_true", help="leave the deployment running (Ctrl-C stops it)")
    args = parser.parse_args(argv)

    def scenario(report: Report, deployment: Deployment) -> None:
        run_all(report, deployment)
        if args.keep:
            print(
                f"running: api {deployment.api_url} (user {USER!r}, password {deployment.password()!r}); Ctrl-C stops"
            )
            _wait_forever()

    print(f"fptsms e2e: PostgreSQL + LocalExecutor, scheduler, dag-processor, triggerer, api-server ({args.work})")
    return drive("e2e", Deployment(args.work), scenario)


def drive(name: str, deployment: Deployment, scenario: Callable[[Report, Deployment], None]) -> int:
    """Run ``scenario`` on a fresh ``deployment``, stop it whatever happened, check nothing is left, print the table."""
    shutil.rmtree(deployment.work, ignore_errors=True)
    report = Report()
    total = time.perf_counter()
    try:
        scenario(report, deployment)
    except Exception as error:
        report.add("deployment", False, f"{type(error).__name__}: {error}"[:2000], total)
        for component in deployment.components:
            print(f"--- {component.name} ---\n{tail(component.log, 15)}")
    finally:
        started = time.perf_counter()
        deployment.stop()
        left = deployment.leftovers()
        report.add("everything stopped, no process left", not left, "; ".join(left) or "0 processes left", started)
    print("\n" + report.table())
    outcome = "passed" if report.ok else "FAILED"
    print(f"\n{name} {outcome} in {time.perf_counter() - total:.0f}s; logs in {deployment.work}")
    return 0 if report.ok else 1


def run_all(report: Report, deployment: Deployment) -> None:
    started = time.perf_counter()
    deployment.work.mkdir(parents=True, exist_ok=True)
    prepare_dags(deployment)
    deployment.start()
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in deployment.timings.items())
    report.add("deployment up", True, f"api {deployment.api_url}, sandbox {deployment.sandbox_url}; {timings}", started)

    started = time.perf_counter()
    api = AirflowApi(deployment.api_url, USER, deployment.password())
    expected = {"qc_campaign_lifecycle", "qc_weekend_promo", "cskh_otp_single", "cskh_bulk_personalised"}
    expected |= {
        "fibo_alert_on_failure",
        "fibo_balance_guard",
        "sms_hooks_tour",
        "e2e_push_killed",
        "e2e_cskh_delivery",
        "qc_campaign_analytics",
    }
    parsed = _await(lambda: expected <= api.dag_ids(), 180, "the dag-processor to parse every DAG", deployment)
    errors = api.import_errors()
    report.add(
        "dag-processor parsed every DAG",
        bool(parsed) and not errors,
        "; ".join(errors) or f"{len(expected)} DAGs",
        started,
    )
    api.set_pool(POOL, 4, "FPT/Fibo gateway calls at once")
    admin = SandboxClient(deployment.sandbox_url)

    seq = 0
    for with_date in (True, False):
        started = time.perf_counter()
        runs = example_runs(api, with_date)
        watch = api.watch(runs, timeout=420)
        deployment.check_alive()
        check_runs(report, runs, watch, started)
        failures = sum(r.dag_id == "fibo_alert_on_failure" and r.expected == "failed" for r in runs)
        seq = check_phase_ledger(report, admin, seq, runs[0].label, failures)
        # the next phase is a later run: past FPT's 5-minute window for the same text to the same phone
        admin.advance_clock(6 * 60)
    kill_push_mid_way(report, api, admin)
    check_report_asset(report, api, lifecycle_runs=2)
    check_dlrs(report, deployment, admin)
    check_campaign_view(report, api, admin, deployment.work)
    check_logs(report, deployment)
    check_triggerer_loop(report, deployment)


def _await(condition: Callable[[], bool], timeout: float, what: str, deployment: Deployment) -> bool:
    def alive_and(condition: Callable[[], bool] = condition) -> bool:
        deployment.check_alive()
        return condition()

    return bool(wait_until(alive_and, timeout, what, every=1.0))


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return


if __name__ == "__main__":
    sys.exit(main())
