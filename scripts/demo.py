"""``make demo``: start the sandbox, run the richest example DAG with ``airflow dags test`` on SQLite,
print what the gateways really received, stop everything."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.server import SandboxProcess, connection_env

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "sms_hooks_tour"


def airflow_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags_examples"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }


def run(step: str, args: list[str], env: dict[str, str], log: Path) -> str:
    started = time.perf_counter()
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    with log.open("a") as out:
        out.write(result.stdout + result.stderr)
    print(f"  {step:<34} {'ok' if result.returncode == 0 else 'FAILED'} ({time.perf_counter() - started:.1f}s)")
    if result.returncode != 0:
        print(log.read_text()[-4000:])
        raise SystemExit(f"demo: {step} failed (full log: {log})")
    return result.stdout


def main() -> int:
    home = ROOT / ".demo" / "airflow-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    log = home.parent / "demo.log"
    log.write_text("")
    airflow = str(Path(sys.executable).parent / "airflow")
    print(f"fptsms demo: DAG {DAG_ID!r} against the local sandbox (AIRFLOW_HOME={home})")
    with SandboxProcess("--approval-delay", "2", "--send-delay", "2", "--dlr-delay", "2") as sandbox:
        print(f"  sandbox                            {sandbox.url}")
        env = {**airflow_env(home), **connection_env(sandbox.url)}
        run("airflow db migrate", [airflow, "db", "migrate"], env, log)
        run(f"airflow dags test {DAG_ID}", [airflow, "dags", "test", DAG_ID], env, log)
        listing = run("airflow dags list-runs", [airflow, "dags", "list-runs", DAG_ID, "-o", "json"], env, log)
        runs = json.loads(next((line for line in listing.splitlines() if line.startswith("[")), "[]"))
        state = runs[0]["state"] if runs else "missing"
        print(f"  {'DAG run state':<34} {state}")
        admin = SandboxClient(sandbox.url)
        summary = admin.summary()
        campaigns = admin.campaigns()
    print("\nWhat the gateways received (sandbox ledger):")
    for kind, count in sorted(summary["by_kind"].items()):
        print(f"  {kind:<22} {count} message(s)")
    print(f"  {'duplicates':<22} {summary['duplicates']}")
    for campaign in campaigns:
        print(
            f"  campaign {campaign['CampaignCode']} '{campaign['CampaignName']}': "
            f"{campaign['Total']} phones, quota {campaign['Used']}/{campaign['Quota']}, {campaign['State']}"
        )
    ok = state == "success" and summary["duplicates"] == 0 and summary["total"] > 0
    print(f"\ndemo {'passed' if ok else 'FAILED'}; Airflow log: {log}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
