from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_fptsms.gateways.errors import SmsError
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.leaks import SANDBOX_SECRETS, find_leaks

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


# ---------------------------------------------------------------------- leak guard
# Every hook test runs under this guard: all log records (DEBUG and up) and the text of every
# SmsError created during the test are scanned for secrets, issued tokens and unmasked phones.


@pytest.fixture(autouse=True)
def leak_guard(
    fptsms_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    texts: list[str] = []
    original = SmsError._render

    def recording_render(self: SmsError) -> str:
        text = original(self)
        texts.append(text)
        return text

    monkeypatch.setattr(SmsError, "_render", recording_render)
    caplog.set_level(logging.DEBUG)
    yield texts
    assert fptsms_sandbox.sandbox is not None
    tokens = list(fptsms_sandbox.sandbox.fpt.tokens)
    passwords = [json.loads(v).get("password") for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")]
    secrets = [*SANDBOX_SECRETS, *tokens, *passwords]
    records = [r for phase in ("setup", "call") for r in caplog.get_records(phase)]
    everything = texts + [r.getMessage() for r in records] + [r.exc_text or "" for r in records]
    leaks = find_leaks(everything, secrets)
    assert not leaks, f"secrets or raw phones leaked: {leaks[:3]}"
