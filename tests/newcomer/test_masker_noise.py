"""Issue 14, item 7: the hooks give Airflow's secrets masker secrets only, not brandnames or sender names.

Registering ``FTI`` or ``FIBO`` made Airflow warn "Skipping masking for a secret as it's too short"
on every task. Airflow 3.3 itself still registers every connection extra once per process when it
loads a connection from a secrets backend (``Connection.get_uri`` reads ``extra_dejson``), so that
one line can still appear; it is upstream's, and no call of ours adds to it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import airflow.sdk.log
import pytest

from airflow_provider_fptsms.hooks.fibo import FiboSmsHook
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.sandbox.server import fibo_connection, fpt_connection


def test_the_hooks_register_the_passwords_and_unknown_sensitive_extras_only(monkeypatch: pytest.MonkeyPatch) -> None:
    fpt = fpt_connection("http://127.0.0.1:9", brandname="FTI", api_key="k3y-for-a-proxy")
    fibo = fibo_connection("http://127.0.0.1:9", sender_name="FIBO", service_path="/Service.aspx")
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(fpt))
    monkeypatch.setenv("AIRFLOW_CONN_FIBOSMS_DEFAULT", json.dumps(fibo))
    ours: list[tuple[Any, Any]] = []
    real = airflow.sdk.log.mask_secret

    def recording(secret: Any, name: str | None = None) -> None:
        if "airflow_provider_fptsms" in sys._getframe(1).f_code.co_filename:
            ours.append((secret, name))
        real(secret, name)

    monkeypatch.setattr(airflow.sdk.log, "mask_secret", recording)
    assert FptSmsHook().settings.brandname == "FTI"
    assert FiboSmsHook().settings.sender_name == "FIBO"
    assert ours == [
        ({"api_key": "k3y-for-a-proxy"}, None),  # not one of ours: Airflow decides by its name
        (fpt["password"], None),
        (fibo["password"], None),
    ]
