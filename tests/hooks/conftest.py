from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

FAST_RETRIES = {"backoff": 0.001, "max_attempts": 6, "timeout": 5}


@pytest.fixture
def dead_url() -> str:
    """A localhost URL nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def fpt_conn(fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Point ``fptsms_default`` at the sandbox with fast retries; returns a function to override fields."""

    def configure(**overrides: Any) -> dict[str, Any]:
        extra = {**FAST_RETRIES, **overrides.pop("extra", {})}
        conn = {**fptsms_sandbox.fpt_connection(**extra), **overrides}
        monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(conn))
        return conn

    configure()
    return configure


@pytest.fixture
def fibo_conn(fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def configure(**overrides: Any) -> dict[str, Any]:
        extra = {**FAST_RETRIES, **overrides.pop("extra", {})}
        conn = {**fptsms_sandbox.fibo_connection(**extra), **overrides}
        monkeypatch.setenv("AIRFLOW_CONN_FIBOSMS_DEFAULT", json.dumps(conn))
        return conn

    configure()
    return configure
