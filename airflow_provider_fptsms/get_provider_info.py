"""Provider metadata for Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Read without importing any hook: keep this module free of heavy imports.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_fptsms import __version__

_COMMON_FIELDS: dict[str, dict[str, Any]] = {
    "fallback_hosts": {
        "label": "Fallback hosts",
        "description": "Comma-separated base URLs tried when the host fails (connection error or 5xx).",
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Timeout (s)",
        "description": "Seconds to wait for each HTTP reply.",
        "schema": {"type": ["number", "null"], "default": 30},
    },
    "max_attempts": {
        "label": "Max attempts",
        "description": "Attempts for retryable errors (network, 5xx, gateway busy). Permanent errors never retry.",
        "schema": {"type": ["integer", "null"], "default": 5},
    },
}

CONNECTION_TYPES: list[dict[str, Any]] = [
    {
        "hook-class-name": "airflow_provider_fptsms.hooks.fpt.FptSmsHook",
        "hook-name": "FPT SMS Brandname",
        "connection-type": "fptsms",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Base URL", "login": "Client ID", "password": "Client secret"},
            "placeholders": {
                "host": "https://app.sms.fpt.net",
                "login": "client_id from developer.sms.fpt.net > My apps",
                "password": "client_secret",
                "brandname": "FTI",
                "scopes": "send_brandname_otp send_brandname",
                "fallback_hosts": "https://service.sms.fpt.net",
            },
        },
        "conn-fields": {
            "brandname": {
                "label": "Brandname",
                "description": "Brandname registered with FPT (not the app name); operators may override it.",
                "schema": {"type": ["string", "null"]},
            },
            "scopes": {
                "label": "Scopes",
                "description": "Space-separated: send_brandname_otp (CSKH) and/or send_brandname (QC). "
                "Ask only for scopes the app has (else error 1005).",
                "schema": {"type": ["string", "null"], "default": "send_brandname_otp send_brandname"},
            },
            **_COMMON_FIELDS,
        },
    },
    {
        "hook-class-name": "airflow_provider_fptsms.hooks.fibo.FiboSmsHook",
        "hook-name": "Fibo SMS",
        "connection-type": "fibosms",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Base URL", "login": "Client No", "password": "Client password"},
            "placeholders": {
                "host": "http://center.fibosms.com",
                "login": "CL1609110001",
                "password": "clientPass",
                "sender_name": "MYBRAND",
            },
        },
        "conn-fields": {
            "sender_name": {
                "label": "Sender name",
                "description": "Brandname (senderName) registered with Fibo.",
                "schema": {"type": ["string", "null"]},
            },
            "service_path": {
                "label": "Service path",
                "description": "/Service.aspx as the manual writes it, or /service.asmx as ASP.NET clients use.",
                "schema": {
                    "type": ["string", "null"],
                    "default": "/Service.aspx",
                    "enum": ["/Service.aspx", "/service.asmx", None],
                },
            },
            **_COMMON_FIELDS,
        },
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
