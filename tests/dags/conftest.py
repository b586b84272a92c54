"""One migrated AIRFLOW_HOME for all example-DAG tests (migration is the slow part), a fresh sandbox per test.

Every example-DAG run is also a security scan: the home logs at DEBUG, and after each test the
output of its runs, every rendered template field and every XCom value in the metadata database
must hold no connection secret and no unmasked phone number (``tests/leaks.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_fptsms._compat import airflow_at_least
from airflow_provider_fptsms.sandbox.dagtest import AirflowHome
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from tests.leaks import DEBUG_MARK, find_leaks, log_lines

DAGS = Path(__file__).resolve().parents[2] / "dags_examples"


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = AirflowHome(
        tmp_path_factory.mktemp("airflow-home"),
        DAGS,
        FPTSMS_EXAMPLE_POLL_SECONDS="0.5",
        AIRFLOW__LOGGING__LOGGING_LEVEL="DEBUG",
    )
    home.migrate()
    return home


#: Seconds the sandbox's telco takes to approve, send and report: each must outlast the tasks before a wait's
#: first check, or the sensor finds the campaign done and never defers (the tests check that it does).
#: ``dag.test`` on Airflow 3.0-3.2 spends ~3 s starting each task (3.3 well under one), and a wait follows two
#: or three of them; under load, 10 s proved too short there.
QC_DELAY = "2" if airflow_at_least("3.3") else "20"


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    delays = ("--approval-delay", QC_DELAY, "--send-delay", QC_DELAY, "--dlr-delay", QC_DELAY)
    with SandboxProcess(*delays) as process:
        yield process


def rendered_fields(home: AirflowHome, dag_id: str | None = None) -> list[str]:
    """Rendered template fields as stored for the UI's Rendered tab (after Airflow's masking)."""
    query = "SELECT dag_id, rendered_fields FROM rendered_task_instance_fields"
    with sqlite3.connect(home.home / "airflow.db") as database:
        return [str(fields) for dag, fields in database.execute(query) if dag_id in (None, dag)]


@pytest.fixture(autouse=True)
def security_scan(request: pytest.FixtureRequest) -> Iterator[None]:
    if "airflow_home" not in request.fixturenames:
        yield
        return
    home: AirflowHome = request.getfixturevalue("airflow_home")
    before = len(home.runs)
    yield
    runs = home.runs[before:]
    if not runs:
        return
    assert all(DEBUG_MARK in run.output for run in runs), "the scan must see DEBUG output"
    with sqlite3.connect(home.home / "airflow.db") as database:
        xcoms = [str(row[0]) for row in database.execute("SELECT value FROM xcom")]
    hits = {
        "log": find_leaks(log_lines("\n".join(run.output for run in runs))),
        "rendered": find_leaks(rendered_fields(home)),
        "xcom": find_leaks(xcoms),
    }
    assert hits == {"log": [], "rendered": [], "xcom": []}, hits
