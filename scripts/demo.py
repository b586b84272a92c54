"""``make demo``: start the sandbox, run the QC campaign lifecycle DAG with ``airflow dags test`` on SQLite,
print what happened, stop everything."""

from __future__ import annotations

import ast
import shutil
import sys
import time
from pathlib import Path

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.dagtest import AirflowHome
from airflow_provider_fptsms.sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "qc_campaign_lifecycle"


def step(name: str, started: float, ok: bool = True) -> None:
    print(f"  {name:<40} {'ok' if ok else 'FAILED'} ({time.perf_counter() - started:.1f}s)")


def main() -> int:
    home_dir = ROOT / ".demo" / "airflow-home"
    shutil.rmtree(home_dir, ignore_errors=True)
    log = home_dir.parent / "demo.log"
    home = AirflowHome(home_dir, ROOT / "dags_examples", FPTSMS_EXAMPLE_POLL_SECONDS="1")
    print(f"fptsms demo: DAG {DAG_ID!r} against the local sandbox (AIRFLOW_HOME={home_dir})")
    # Telco approval, sending and delivery reports take hours to days; the sandbox compresses them to seconds.
    with SandboxProcess("--approval-delay", "3", "--send-delay", "3", "--dlr-delay", "3") as sandbox:
        print(f"  {'sandbox':<40} {sandbox.url}")
        started = time.perf_counter()
        home.migrate()
        step("airflow db migrate", started)
        started = time.perf_counter()
        result = home.dag_test(DAG_ID, sandbox.url)
        log.write_text(result.output)
        step(f"airflow dags test {DAG_ID}", started, result.state == "success")
        admin = SandboxClient(sandbox.url)
        ledger = admin.summary()
        campaigns = admin.campaigns()
    print(f"  {'DAG run state':<40} {result.state}")
    print(f"  {'tasks that deferred (no worker held)':<40} {', '.join(result.deferred_tasks) or 'none'}")
    line = next((x for x in result.output.splitlines() if "QC campaign summary:" in x), "")
    if line:
        print("\nWhat the DAG reported:")
        details = line.split("QC campaign summary:", 1)[1].strip()
        for key, value in ast.literal_eval(details[: details.rindex("}") + 1]).items():
            print(f"  {key:<22} {value}")
    print("\nWhat the gateway received (sandbox ledger):")
    for kind, count in sorted(ledger["by_kind"].items()):
        print(f"  {kind:<22} {count} message(s)")
    print(f"  {'sent twice':<22} {ledger['duplicates']}")
    for campaign in campaigns:
        print(
            f"  campaign {campaign['CampaignCode']} '{campaign['CampaignName']}': {campaign['Total']} phones, "
            f"quota {campaign['Used']}/{campaign['Quota']}, {campaign['State']}"
        )
    ok = result.state == "success" and ledger["duplicates"] == 0 and ledger["total"] > 0
    print(f"\ndemo {'passed' if ok else 'FAILED'}; Airflow output: {log}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
