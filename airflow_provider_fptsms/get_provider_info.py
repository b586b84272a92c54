"""Provider metadata for Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Read without importing any hook: keep this module free of heavy imports.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_fptsms import __version__

# Where Airflow 3.3 shows a hint for each kind of field (read in its providers_manager.py, the API's
# services/ui/connections.py and the React connection form):
# - host, login, password: ``ui-field-behaviour.placeholders``, shown as the input's placeholder;
# - an extra (``conn-fields``) string field: ``schema.examples``, offered as suggestions while typing
#   (the placeholder reads "Start typing to see options"); ``ui-field-behaviour.placeholders`` for
#   extras is stored by the ProvidersManager but never sent to the form;
# - an extra number or choice field: no placeholder at all; ``schema.default`` fills it in instead.
# So every extra gets its hint in ``schema.examples`` (plus a default where one exists); the first
# example is also its ``placeholders`` text, which the hooks' ``get_ui_field_behaviour`` returns.


def _field(label: str, description: str, kind: str, *examples: object, **schema: Any) -> dict[str, Any]:
    """One ``conn-fields`` entry; its examples are where Airflow's form reads a field hint (the first
    one is also the ``placeholders`` text)."""
    return {
        "label": label,
        "description": description,
        "schema": {"type": [kind, "null"], "examples": list(examples), **schema},
    }


def _common_fields(fallback_example: str) -> dict[str, dict[str, Any]]:
    return {
        "fallback_hosts": _field(
            "Fallback hosts",
            "Comma-separated base URLs tried when the host fails (connection error or 5xx).",
            "string",
            fallback_example,
        ),
        "timeout": _field("Timeout (s)", "Seconds to wait for each HTTP reply.", "number", 30, default=30),
        "max_attempts": _field(
            "Max attempts",
            "Attempts for retryable errors (network, 5xx, gateway busy). Permanent errors never retry.",
            "integer",
            5,
            default=5,
        ),
    }


_FPT_FIELDS: dict[str, dict[str, Any]] = {
    "brandname": _field(
        "Brandname",
        "Brandname registered with FPT (not the app name); operators may override it.",
        "string",
        "FTI",
    ),
    "scopes": _field(
        "Scopes",
        "Space-separated: send_brandname_otp (CSKH) and/or send_brandname (QC). "
        "Ask only for scopes the app has (else error 1005).",
        "string",
        "send_brandname_otp send_brandname",
        "send_brandname_otp",
        "send_brandname",
        default="send_brandname_otp send_brandname",
    ),
    **_common_fields("https://service.sms.fpt.net"),
}
_FIBO_FIELDS: dict[str, dict[str, Any]] = {
    "sender_name": _field("Sender name", "Brandname (senderName) registered with Fibo.", "string", "MYBRAND"),
    "service_path": _field(
        "Service path",
        "/Service.aspx as the manual writes it, or /service.asmx as ASP.NET clients use.",
        "string",
        "/Service.aspx",
        "/service.asmx",
        default="/Service.aspx",
        enum=["/Service.aspx", "/service.asmx", None],
    ),
    **_common_fields("https://sms-backup.example.com"),  # Fibo documents no second domain: only a shape
}


def _placeholders(standard: dict[str, str], fields: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The standard fields' placeholders, and each extra's example as text (one source for both)."""
    return {**standard, **{name: str(spec["schema"]["examples"][0]) for name, spec in fields.items()}}


CONNECTION_TYPES: list[dict[str, Any]] = [
    {
        "hook-class-name": "airflow_provider_fptsms.hooks.fpt.FptSmsHook",
        "hook-name": "FPT SMS Brandname",
        "connection-type": "fptsms",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Base URL", "login": "Client ID", "password": "Client secret"},
            "placeholders": _placeholders(
                {
                    "host": "https://app.sms.fpt.net",
                    "login": "client_id from developer.sms.fpt.net > My apps",
                    "password": "client_secret",
                },
                _FPT_FIELDS,
            ),
        },
        "conn-fields": _FPT_FIELDS,
    },
    {
        "hook-class-name": "airflow_provider_fptsms.hooks.fibo.FiboSmsHook",
        "hook-name": "Fibo SMS",
        "connection-type": "fibosms",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Base URL", "login": "Client No", "password": "Client password"},
            "placeholders": _placeholders(
                {"host": "http://center.fibosms.com", "login": "CL1609110001", "password": "clientPass"},
                _FIBO_FIELDS,
            ),
        },
        "conn-fields": _FIBO_FIELDS,
    },
]


def connection_type(name: str) -> dict[str, Any]:
    return next(entry for entry in CONNECTION_TYPES if entry["connection-type"] == name)


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-fptsms",
        "name": "FPT SMS Brandname and Fibo SMS",
        "description": "Send Vietnamese brandname SMS (CSKH/OTP and QC campaigns) through FPT SMS Brandname "
        "and Fibo SMS from Airflow.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "FPT SMS Brandname",
                "external-doc-url": "https://developer.sms.fpt.net",
                "tags": ["service"],
            },
            {"integration-name": "Fibo SMS", "external-doc-url": "https://fibosms.com", "tags": ["service"]},
        ],
        "operators": [
            {
                "integration-name": "FPT SMS Brandname",
                "python-modules": [
                    "airflow_provider_fptsms.operators.send",
                    "airflow_provider_fptsms.operators.campaign_create",
                    "airflow_provider_fptsms.operators.campaign_preview",
                    "airflow_provider_fptsms.operators.campaign_push",
                    "airflow_provider_fptsms.operators.campaign_report",
                    "airflow_provider_fptsms.operators.balance",
                ],
            },
        ],
        "sensors": [
            {
                "integration-name": "FPT SMS Brandname",
                "python-modules": [
                    "airflow_provider_fptsms.sensors.campaign",
                    "airflow_provider_fptsms.sensors.delivery",
                ],
            },
        ],
        "triggers": [
            {
                "integration-name": "FPT SMS Brandname",
                "python-modules": [
                    "airflow_provider_fptsms.triggers.campaign",
                    "airflow_provider_fptsms.triggers.delivery",
                ],
            },
            {
                "integration-name": "Fibo SMS",
                "python-modules": ["airflow_provider_fptsms.triggers.fibo_delivery"],
            },
        ],
        "extra-links": ["airflow_provider_fptsms.links.FptCampaignLink"],
        "notifications": [
            "airflow_provider_fptsms.notifications.sms.FptSmsNotifier",
            "airflow_provider_fptsms.notifications.sms.FiboSmsNotifier",
        ],
        "hooks": [
            {
                "integration-name": "FPT SMS Brandname",
                "python-modules": ["airflow_provider_fptsms.hooks.fpt", "airflow_provider_fptsms.hooks.fpt_async"],
            },
            {"integration-name": "Fibo SMS", "python-modules": ["airflow_provider_fptsms.hooks.fibo"]},
        ],
        "connection-types": CONNECTION_TYPES,
    }
