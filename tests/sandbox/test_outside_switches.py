"""The sandbox's documented switches, set the three ways a user sets them: PATCH /_sandbox/config, a CLI
flag, and the ``FPTSMS_SANDBOX_<FLAG>`` variable (the CLI's convention, ``fptsms-sandbox --help``).

``error_texts=vi``: production answers FPT errors in Vietnamese (DESIGN.md field notes and issue 16: 1005
``Scope không hợp lệ cho request này.``); the other switches are the manuals' two readings of one rule.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_fptsms.sandbox.cli import build, parser
from airflow_provider_fptsms.sandbox.config import SandboxConfig
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from tests.sandbox.fibo_raw import call

CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", "grant_type": "client_credentials"}
SAMPLE_SESSION = "5c22be0c0396440829c98d7ba124092020145753419"  # the manual's sample, 43 characters (line 170)
SCOPE_VI = "Scope không hợp lệ cho request này."


def _token_failure(url: str, **fields: Any) -> tuple[int, str]:
    reply = requests.post(url + "/oauth2/token", json={**CLIENT, **fields}, timeout=10)
    assert reply.status_code != 200
    body = reply.json()
    return body["error"], body["error_description"]


def test_vietnamese_texts_through_the_admin_api(fptsms_sandbox: SandboxHandle) -> None:
    bad_scope = {"scope": "send_everything", "session_id": "s"}
    assert _token_failure(fptsms_sandbox.url, **bad_scope) == (1005, "Invalid scopes")  # manual line 767
    fptsms_sandbox.admin.configure(error_texts="vi")
    assert _token_failure(fptsms_sandbox.url, **bad_scope) == (1005, SCOPE_VI)
    code, text = _token_failure(fptsms_sandbox.url, scope="send_brandname", session_id="s", client_secret="x")
    assert code == 1008 and text != "Invalid Client Information." and not text.isascii()
    reply = requests.post(fptsms_sandbox.url + "/api/push-brandname-otp", data=b"not json", timeout=10)
    assert reply.json()["error"] == 1001 and not reply.json()["error_description"].isascii()


def test_an_unknown_setting_value_is_refused(fptsms_sandbox: SandboxHandle) -> None:
    for change in ({"error_texts": "fr"}, {"fibo_balance_style": "v3"}, {"strict_session_id": "yes"}):
        reply = requests.patch(fptsms_sandbox.url + "/_sandbox/config", json=change, timeout=10)
        assert reply.status_code == 400, change


def test_the_cli_flags() -> None:
    flags = ("--error-texts", "vi", "--fibo-balance-style", "v2", "--strict-session-id")
    with SandboxProcess(*flags) as sandbox:
        assert _token_failure(sandbox.url, scope="send_everything", session_id="s") == (1005, SCOPE_VI)
        # --strict-session-id: the table's "<= 32 characters" (line 160) refuses the 43-character sample
        assert _token_failure(sandbox.url, scope="send_brandname", session_id=SAMPLE_SESSION)[0] == 1001
        # --fibo-balance-style v2: FIBO_API_V2.md "v2.0: bare <string>529</string>"
        assert int(call(sandbox.url, "GetClientBalance", serviceType="1")) > 0
        settings = requests.get(sandbox.url + "/_sandbox/config", timeout=10).json()
        assert (settings["error_texts"], settings["fibo_balance_style"], settings["strict_session_id"]) == (
            "vi",
            "v2",
            True,
        )


def test_the_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FPTSMS_SANDBOX_ERROR_TEXTS", "vi")
    monkeypatch.setenv("FPTSMS_SANDBOX_FIBO_BALANCE_STYLE", "v2")
    monkeypatch.setenv("FPTSMS_SANDBOX_STRICT_SESSION_ID", "1")
    config, _ = build(parser().parse_args([]))  # what `fptsms-sandbox` runs with, without starting a server
    assert (config.error_texts, config.fibo_balance_style, config.strict_session_id) == ("vi", "v2", True)
    # the in-process fixtures build SandboxConfig() and follow the error-texts variable too
    assert SandboxConfig().error_texts == "vi"
