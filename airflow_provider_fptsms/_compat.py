"""Everything that differs between the Airflow lines this provider supports (3.0, 3.1, 3.2, 3.3), in one place.

Import these names from here, not from ``airflow.exceptions`` or ``airflow.sdk.exceptions``: the task-sdk of
Airflow 3.0 has none of the task exceptions, 3.1's has ``AirflowException`` only, and from 3.2 on
``airflow.exceptions`` still has them but warns that they are deprecated. ``make matrix`` runs the
suites on each line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import airflow

if TYPE_CHECKING:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowOptionalProviderFeatureException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
else:
    try:  # Airflow 3.2+ (task-sdk 1.2+): one set, all from the SDK
        from airflow.sdk.exceptions import (
            AirflowException,
            AirflowFailException,
            AirflowOptionalProviderFeatureException,
            AirflowSensorTimeout,
            AirflowSkipException,
            TaskDeferred,
        )
    except ImportError:  # Airflow 3.0/3.1: all from core (3.1's SDK AirflowException is the same class)
        from airflow.exceptions import (
            AirflowException,
            AirflowFailException,
            AirflowOptionalProviderFeatureException,
            AirflowSensorTimeout,
            AirflowSkipException,
            TaskDeferred,
        )

__all__ = [
    "AIRFLOW_VERSION",
    "AirflowException",
    "AirflowFailException",
    "AirflowOptionalProviderFeatureException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "TaskDeferred",
    "airflow_at_least",
    "bagged_dag",
    "connection_form_widgets",
    "lines",
    "require_airflow",
    "ui_field_behaviour",
]


def _release(version: str) -> tuple[int, ...]:
    """``3.1.8rc1`` -> ``(3, 1, 8)``: the release numbers, enough to compare Airflow lines."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


#: The running Airflow's release numbers, e.g. ``(3, 1, 8)``.
AIRFLOW_VERSION = _release(airflow.__version__)


def airflow_at_least(minimum: str) -> bool:
    return _release(minimum) <= AIRFLOW_VERSION


def require_airflow(minimum: str, feature: str) -> None:
    """Refuse a feature this Airflow line lacks, naming the version it needs (not an ImportError deep in Airflow)."""
    if not airflow_at_least(minimum):
        raise AirflowOptionalProviderFeatureException(
            f"{feature} needs Airflow {minimum} or newer; this is Airflow {airflow.__version__}. "
            f"Upgrade with: pip install 'apache-airflow>={minimum}'"
        )


def lines(handle: Any) -> Iterator[str]:
    """The lines of a text file from ``ObjectStoragePath.open``, for ``csv`` and ``for`` loops: Airflow 3.0's
    file wrapper proxies ``readline`` but has no ``__iter__`` (iterating it fails with "not subscriptable")."""
    return iter(handle.readline, "")


def bagged_dag(dag_id: str) -> Any:
    """The DAG ``dag_id`` parsed from the configured DAG bundles, as ``airflow dags test`` finds it."""
    from airflow.utils import cli

    if hasattr(cli, "get_bagged_dag"):  # Airflow 3.1+
        return cli.get_bagged_dag(bundle_names=None, dag_id=dag_id)
    legacy: Any = cli  # Airflow 3.0 (mypy reads the newest line)
    return legacy.get_dag(bundle_names=None, dag_id=dag_id)


def ui_field_behaviour(conn_type: str) -> dict[str, Any]:
    """The provider info's ``ui-field-behaviour`` of ``conn_type`` in the hook-method form Airflow 3.0/3.1
    read (snake_case keys; 3.2+ read the provider info itself and never call the hook)."""
    from airflow_provider_fptsms.get_provider_info import connection_type

    behaviour = connection_type(conn_type)["ui-field-behaviour"]
    return {
        "hidden_fields": list(behaviour.get("hidden-fields", [])),
        "relabeling": dict(behaviour.get("relabeling", {})),
        "placeholders": dict(behaviour.get("placeholders", {})),
    }


def connection_form_widgets(conn_type: str) -> dict[str, Any]:
    """The provider info's ``conn-fields`` of ``conn_type`` as the WTForms fields Airflow 3.0/3.1 build
    the connection form from (``get_connection_form_widgets``); 3.2+ read ``conn-fields`` directly.

    Those lines accept only string, integer, password and boolean fields: a ``number`` becomes a string
    field (the hooks parse it with ``float``). The examples have no place there; the placeholders of
    :func:`ui_field_behaviour` carry the first one. Airflow 3.1's API server stands in for WTForms when it
    is missing; 3.0 needs it installed.
    """
    from wtforms import BooleanField, IntegerField, PasswordField, StringField
    from wtforms.validators import Optional, any_of

    from airflow_provider_fptsms.get_provider_info import connection_type

    widgets: dict[str, Any] = {}
    for name, spec in connection_type(conn_type)["conn-fields"].items():
        schema = spec.get("schema", {})
        kinds = schema.get("type", "string")
        kinds = [kinds] if isinstance(kinds, str) else kinds
        validators: list[Any] = [Optional()]
        if "enum" in schema:
            validators.append(any_of(schema["enum"]))
        default = schema.get("default")
        if schema.get("format") == "password":
            field_class: Any = PasswordField
        elif "boolean" in kinds:
            field_class = BooleanField
        elif "integer" in kinds:
            field_class = IntegerField
        else:
            field_class = StringField
            default = None if default is None else str(default)
        widgets[name] = field_class(
            spec.get("label", name), validators=validators, description=spec.get("description", ""), default=default
        )
    return widgets
