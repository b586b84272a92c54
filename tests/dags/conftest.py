"""One migrated AIRFLOW_HOME for all example-DAG tests (migration is the slow part), a fresh sandbox per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_fptsms.sandbox.dagtest import AirflowHome
from airflow_provider_fptsms.sandbox.server import SandboxProcess

DAGS = Path(__file__).resolve().parents[2] / "dags_examples"


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"), DAGS, FPTSMS_EXAMPLE_POLL_SECONDS="0.5")
    home.migrate()
    return home


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess("--approval-delay", "2", "--send-delay", "2", "--dlr-delay", "2") as process:
        yield process
