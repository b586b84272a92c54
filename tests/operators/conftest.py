from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle


@pytest.fixture(autouse=True)
def fast_connections(fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    fast = {"backoff": 0.001, "max_attempts": 4, "timeout": 5}
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(fptsms_sandbox.fpt_connection(**fast)))
    monkeypatch.setenv("AIRFLOW_CONN_FIBOSMS_DEFAULT", json.dumps(fptsms_sandbox.fibo_connection(**fast)))
    monkeypatch.setenv("FPTSMS_STATE_PATH", str(tmp_path / "state"))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))


def make_context(task_id: str = "send", map_index: int = -1, try_number: int = 1) -> Any:
    ti = SimpleNamespace(
        dag_id="cskh_dag", run_id="manual__1", task_id=task_id, map_index=map_index, try_number=try_number
    )
    return {"ti": ti}


def age_journals(state_path: str | os.PathLike[str], seconds: float) -> None:
    """Make every send journal look ``seconds`` older on the store's clock, which is what the delivery
    model trusts and time-machine cannot move: segment times, and each append log's creation time."""
    for segment in Path(state_path).rglob("*.jsonl"):
        lines = segment.read_text().splitlines()
        if lines and '"store_open"' in lines[0]:
            header = json.loads(lines[0])
            lines[0] = json.dumps({"store_open": header["store_open"] - seconds})
            segment.write_text("\n".join(lines) + "\n")
        stamp = segment.stat().st_mtime - seconds
        os.utime(segment, (stamp, stamp))
