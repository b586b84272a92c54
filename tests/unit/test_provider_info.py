"""Airflow discovers the provider, both connection types, their form fields and hooks."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import jsonschema

from airflow_provider_fptsms._compat import airflow_at_least
from airflow_provider_fptsms.get_provider_info import connection_type, get_provider_info


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
    """On every line, through what its API serves the form: 3.2+ read ``conn-fields``, 3.0/3.1 the hooks."""
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-fptsms" in manager.providers
    forms = _form_metadata()
    for conn_type, name in (
        ("fptsms", "brandname"),
        ("fptsms", "scopes"),
        ("fptsms", "fallback_hosts"),
        ("fibosms", "sender_name"),
        ("fibosms", "service_path"),
    ):
        assert name in (forms[conn_type].extra_fields or {}), (conn_type, name)
    assert (forms["fptsms"].extra_fields or {})["scopes"]["value"] == "send_brandname_otp send_brandname"
    fpt, fibo = forms["fptsms"].standard_fields, forms["fibosms"].standard_fields
    assert fpt is not None and fpt.login is not None and fpt.login.title == "Client ID"
    assert fibo is not None and fibo.port is not None and fibo.port.hidden
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


def _form_metadata() -> dict[str, Any]:
    """What this Airflow's API serves the connection form (GET /ui/connections/hook_meta), from its
    own ProvidersManager, for our two types."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    return {m.connection_type: m for m in HookMetaService.hook_meta_data() if m.connection_type in CONN_TYPES}


CONN_TYPES = ("fptsms", "fibosms")


def test_every_extra_field_has_a_hint_where_airflow_reads_it() -> None:
    """String extras: ``schema.examples`` (the form's suggestions, Airflow 3.2+; 3.0/3.1 build the form
    from WTForms fields, which have no place for them); numbers and choices show their default instead.
    ``ui-field-behaviour.placeholders`` reaches the form for host/login/password only."""
    forms = _form_metadata()
    assert set(forms) == set(CONN_TYPES)
    for conn_type in CONN_TYPES:
        declared = connection_type(conn_type)["conn-fields"]
        served = forms[conn_type].extra_fields
        assert served is not None and set(served) == set(declared), conn_type
        for name, field in served.items():
            schema = field["schema"]
            if airflow_at_least("3.2"):
                assert schema.get("examples"), f"{conn_type}.{name} has no example for the form"
            shown_as_text = "string" in schema["type"] and "enum" not in schema
            assert shown_as_text or field["value"] is not None, f"{conn_type}.{name}: no default to show"
            assert field["description"] and schema["title"], f"{conn_type}.{name}"
        standard = forms[conn_type].standard_fields
        assert standard is not None
        for attribute in ("host", "login", "password"):
            behaviour = getattr(standard, attribute)
            assert behaviour is not None and behaviour.placeholder, f"{conn_type}.{attribute}"


def test_the_placeholders_of_extras_repeat_their_first_example() -> None:
    from airflow.providers_manager import ProvidersManager

    behaviours = ProvidersManager().field_behaviours
    for conn_type in CONN_TYPES:
        fields = connection_type(conn_type)["conn-fields"]
        placeholders = behaviours[conn_type]["placeholders"]
        for name, field in fields.items():
            assert placeholders[f"extra__{conn_type}__{name}"] == str(field["schema"]["examples"][0])
    assert behaviours["fibosms"]["placeholders"]["extra__fibosms__sender_name"] == "MYBRAND"


def test_airflow_3_0_and_3_1_get_the_same_form_from_the_hooks() -> None:
    """Those lines never read ``conn-fields``: they call the methods a hook class defines itself (not
    inherited ones), which build WTForms fields from the same entries, so there is one field list."""
    from airflow_provider_fptsms.hooks.fibo import FiboSmsHook
    from airflow_provider_fptsms.hooks.fpt import FptSmsHook

    for hook in (FptSmsHook, FiboSmsHook):
        assert {"get_connection_form_widgets", "get_ui_field_behaviour"} <= set(vars(hook)), hook
        entry = connection_type(hook.conn_type)
        widgets = hook.get_connection_form_widgets()
        assert list(widgets) == list(entry["conn-fields"])
        for name, widget in widgets.items():  # WTForms' UnboundField: the class and its arguments
            spec = entry["conn-fields"][name]
            assert widget.args == (spec["label"],) and widget.kwargs["description"] == spec["description"]
            default = spec["schema"].get("default")
            assert widget.kwargs["default"] in (default, None if default is None else str(default)), name
        behaviour = hook.get_ui_field_behaviour()
        assert behaviour == {key.replace("-", "_"): value for key, value in entry["ui-field-behaviour"].items()}
    assert type(FptSmsHook.get_connection_form_widgets()["timeout"]).__name__ == "UnboundField"


def test_connection_types_match_the_provider_yaml_schema() -> None:
    """The stricter provider.yaml schema spells out ``conn-fields`` (label, schema.type...)."""
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider.yaml.schema.json").read_text())
    jsonschema.validate(get_provider_info()["connection-types"], schema["properties"]["connection-types"])
