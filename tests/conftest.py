"""Test settings: an isolated AIRFLOW_HOME (set before Airflow is imported) and the sandbox fixtures."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="fptsms-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# Triggers run in-process here (or under `dags test`, which has no scheduler to race): no floor on their first wait.
os.environ.setdefault("FPTSMS_TRIGGER_FIRST_CHECK_SECONDS", "0")

pytest_plugins = ["airflow_provider_fptsms.sandbox.pytest_plugin"]
