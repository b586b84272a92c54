"""Test settings: an isolated AIRFLOW_HOME (set before Airflow is imported) and the sandbox fixtures."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="fptsms-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

pytest_plugins = ["airflow_provider_fptsms.sandbox.pytest_plugin"]
