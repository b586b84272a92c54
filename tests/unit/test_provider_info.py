"""Airflow discovers the provider, both connection types, their form fields and hooks."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import jsonschema

from airflow_provider_fptsms.get_provider_info import get_provider_info


def test_entry_point_is_registered() -> None:
    points = [
        ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_provider_fptsms")
    ]
    assert [ep.value for ep in points] == ["airflow_provider_fptsms.get_provider_info:get_provider_info"]
    assert points[0].load()()["package-name"] == "airflow-provider-fptsms"


def test_provider_info_matches_airflow_schema() -> None:
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_providers_manager_sees_connection_forms_and_hooks() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-fptsms" in manager.providers
    widgets = manager.connection_form_widgets
    for name in (
        "extra__fptsms__brandname",
        "extra__fptsms__scopes",
        "extra__fptsms__fallback_hosts",
        "extra__fibosms__sender_name",
        "extra__fibosms__service_path",
    ):
        assert name in widgets, name
    assert widgets["extra__fptsms__scopes"].field["value"] == "send_brandname_otp send_brandname"
    behaviours = manager.field_behaviours
    assert behaviours["fptsms"]["relabeling"]["login"] == "Client ID"
    assert "port" in behaviours["fibosms"]["hidden_fields"]
    assert behaviours["fptsms"]["placeholders"]["extra__fptsms__brandname"] == "FTI"
    hooks = manager.hooks
    assert hooks["fptsms"].hook_class_name == "airflow_provider_fptsms.hooks.fpt.FptSmsHook"  # type: ignore[union-attr]
    assert hooks["fibosms"].connection_id_attribute_name == "fibo_conn_id"  # type: ignore[union-attr]


def test_airflow_cli_lists_the_provider_and_types() -> None:
    airflow = str(Path(sys.executable).parent / "airflow")
    providers = subprocess.run([airflow, "providers", "list"], capture_output=True, text=True, timeout=120)
    assert "airflow-provider-fptsms" in providers.stdout
    hooks = subprocess.run([airflow, "providers", "hooks"], capture_output=True, text=True, timeout=120)
    assert "fptsms" in hooks.stdout and "fibosms" in hooks.stdout


def test_importing_the_package_is_cheap() -> None:
    code = "import sys, airflow_provider_fptsms.get_provider_info; print('airflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False"
