from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle


@pytest.fixture
def fast_conn(fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = fptsms_sandbox.fpt_connection(backoff=0.001, max_attempts=4, timeout=5)
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(conn))


@pytest.fixture
def new_campaign(fast_conn: None) -> Callable[..., str]:
    """Create a campaign in the sandbox (ScheduleTime 2 days ahead, 09:00) and push a few phones."""

    def create(name: str, message: str = "[QC] Khuyen mai 20%", phones: tuple[str, ...] = ("0912345678",)) -> str:
        schedule = (datetime.now(fpt.VN_TZ) + timedelta(days=2)).replace(hour=9, minute=0)
        hook = FptSmsHook()
        code = hook.create_campaign(name, message, schedule, 10)
        hook.push_campaign(code, list(phones))
        return code

    return create
