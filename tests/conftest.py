"""Test settings: an isolated AIRFLOW_HOME (set before Airflow is imported) and the sandbox fixtures."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="fptsms-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# Triggers run in-process here (or under `dags test`, which has no scheduler to race): no floor on their first wait.
os.environ.setdefault("FPTSMS_TRIGGER_FIRST_CHECK_SECONDS", "0")

pytest_plugins = ["airflow_provider_fptsms.sandbox.pytest_plugin"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _own_contact_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test counts the 3-per-24h cap in its own contact history: the suite pushes the same few phones
    to many campaigns, which one shared history would (rightly) cap."""
    if "FPTSMS_CONTACT_HISTORY_DB" not in os.environ:
        folder = tmp_path_factory.mktemp("contacts")
        monkeypatch.setenv("FPTSMS_CONTACT_HISTORY_DB", f"sqlite:///{folder / 'contact_history.db'}")
