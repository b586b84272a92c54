"""``fptsms-sandbox`` as users run it."""

from __future__ import annotations

import subprocess
import sys

import requests

from airflow_provider_fptsms.gateways import fibo, fpt
from airflow_provider_fptsms.sandbox.server import READY_LINE, SandboxProcess


def test_cli_serves_both_gateways_and_env_settings() -> None:
    with SandboxProcess("--approval-delay", "0", env={"FPTSMS_SANDBOX_FIBO_REPLY_STYLE": "bare"}) as sandbox:
        request = fpt.token_request("sandbox-client", "sandbox-secret", fpt.DEFAULT_SCOPES, "s")
        token = requests.post(sandbox.url + request.path, json=request.body, timeout=10).json()
        assert set(token) == {"access_token", "expires_in", "token_type", "scope"}
        reply = requests.get(
            sandbox.url + "/Service.asmx/GetClientBalance",
            params={"clientNo": "CL0000000001", "clientPass": "sandbox-pass", "serviceType": "1"},
            timeout=10,
        )
        assert reply.text.startswith("<string><SMS><Code>200</Code><AccountBalance>")
        assert fibo.parse_balance(reply.content) > 0
        assert requests.get(sandbox.url + "/_sandbox/config", timeout=10).json()["approval_delay"] == 0
    assert sandbox.process is not None and sandbox.process.poll() is not None  # stopped, nothing left behind


def test_access_log_masks_passwords() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_fptsms.sandbox.cli", "--port", "0", "--access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = READY_LINE.search(process.stdout.readline()).group(1)  # type: ignore[union-attr]
        requests.get(
            url + "/Service.aspx/GetClientBalance",
            params={"clientNo": "CL0000000001", "clientPass": "top-secret-pass"},
            timeout=10,
        )
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "GetClientBalance" in output and "clientPass=***" in output
    assert "top-secret-pass" not in output


def test_bad_flags_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_fptsms.sandbox.cli", "--fpt-client", "nocolon"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "CLIENT_ID:SECRET" in result.stderr
