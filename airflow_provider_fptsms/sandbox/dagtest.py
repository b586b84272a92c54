"""Run a DAG file with ``airflow dags test`` in a throw-away AIRFLOW_HOME (SQLite) against a sandbox.

Used by ``make demo`` and the example-DAG tests; handy for checking your own DAGs offline too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from airflow_provider_fptsms.sandbox.server import connection_env

DEFERRED_MARK = "Pausing task as DEFERRED."
FINISHED = re.compile(r"DagRun Finished: .*?\bstate=(\w+)")


@dataclass
class DagTestResult:
    dag_id: str
    state: str
    output: str = field(repr=False)

    @property
    def deferred_tasks(self) -> list[str]:
        """Tasks that entered the deferred state (their trigger then completed them)."""
        tasks = []
        for line in self.output.splitlines():
            if DEFERRED_MARK in line and "task_id=" in line:
                tasks.append(line.split("task_id=", 1)[1].split()[0])
        return tasks


class AirflowHome:
    """An isolated AIRFLOW_HOME with its own SQLite database and a dags folder."""

    def __init__(self, home: Path, dags_folder: Path, **env: str) -> None:
        self.home = home
        self.dags_folder = dags_folder
        self.extra_env = env
        self.airflow = str(Path(sys.executable).parent / "airflow")
        #: every ``dag_test`` run in this home, oldest first (tests scan their output)
        self.runs: list[DagTestResult] = []

    def env(self, sandbox_url: str | None = None) -> dict[str, str]:
        values = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "FPTSMS_STATE_PATH": str(self.home / "fptsms-state"),
            # `dags test` runs triggers in-process, with no scheduler to race: no floor on their first wait
            "FPTSMS_TRIGGER_FIRST_CHECK_SECONDS": "0",
            **self.extra_env,
        }
        if sandbox_url:
            values.update(connection_env(sandbox_url))
        return values

    def run(self, *args: str, sandbox_url: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own airflow executable
            [self.airflow, *args],
            env=self.env(sandbox_url),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def migrate(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        result = self.run("db", "migrate")
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")

    def dag_test(self, dag_id: str, sandbox_url: str, conf: dict[str, object] | None = None) -> DagTestResult:
        result = self._dag_test(dag_id, sandbox_url, conf)
        self.runs.append(result)
        return result

    def dag_test_without_logical_date(
        self, dag_id: str, sandbox_url: str, conf: dict[str, object] | None = None
    ) -> DagTestResult:
        """Like ``dag_test``, for a run with no logical date (as the REST API and CLI triggers allow in
        Airflow 3): ``airflow dags test`` always sets one, so this calls ``DAG.test(logical_date=None)``."""
        script = (
            "import json, sys\n"
            "from airflow_provider_fptsms._compat import bagged_dag\n"
            "dag = bagged_dag(sys.argv[1])\n"
            "dag.test(logical_date=None, run_conf=json.loads(sys.argv[2]))\n"
        )
        result = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", script, dag_id, json.dumps(conf or {})],
            env=self.env(sandbox_url),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = result.stdout + result.stderr
        finished = FINISHED.search(output)
        outcome = DagTestResult(dag_id, finished.group(1) if finished else "error", output)
        self.runs.append(outcome)
        return outcome

    def _dag_test(self, dag_id: str, sandbox_url: str, conf: dict[str, object] | None) -> DagTestResult:
        extra = ["-c", json.dumps(conf)] if conf else []
        result = self.run("dags", "test", dag_id, *extra, sandbox_url=sandbox_url)
        output = result.stdout + result.stderr
        if result.returncode != 0 and "DagRun failed" not in output:
            return DagTestResult(dag_id, "error", output)
        finished = FINISHED.search(output)
        if finished:  # the run's own last word; saves starting another Airflow process
            return DagTestResult(dag_id, finished.group(1), output)
        listing = self.run("dags", "list-runs", dag_id, "-o", "json", sandbox_url=sandbox_url).stdout
        runs = json.loads(next((line for line in listing.splitlines() if line.startswith("[")), "[]"))
        return DagTestResult(dag_id, runs[0]["state"] if runs else "missing", output)
