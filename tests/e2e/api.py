"""The slice of Airflow 3's public REST API (``/api/v2``) the deployment test drives, as a user would."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import requests

FINISHED = {"success", "failed"}


@dataclass(frozen=True)
class Run:
    dag_id: str
    run_id: str
    label: str
    expected: str


@dataclass
class Watch:
    """Every task state seen per run while polling, so a deferral shorter than a run is not missed."""

    seen: dict[tuple[str, str], dict[str, set[str]]] = field(default_factory=lambda: defaultdict(dict))
    final: dict[tuple[str, str], str] = field(default_factory=dict)

    def deferred(self, run: Run) -> list[str]:
        tasks = self.seen[(run.dag_id, run.run_id)]
        return sorted(task for task, states in tasks.items() if "deferred" in states)


class AirflowApi:
    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        reply = self.session.post(
            f"{self.url}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        reply.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.session.request(method, f"{self.url}/api/v2{path}", timeout=30, **kwargs)
        if reply.status_code >= 400:
            raise RuntimeError(f"{method} /api/v2{path}: HTTP {reply.status_code} {reply.text[:500]}")
        return reply.json() if reply.content else None

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.call("GET", "/dags", params={"limit": 1000})["dags"]}

    def import_errors(self) -> list[str]:
        return [
            f"{e['filename']}: {e['stack_trace'][-300:]}" for e in self.call("GET", "/importErrors")["import_errors"]
        ]

    def set_pool(self, name: str, slots: int, description: str) -> None:
        body = {"name": name, "slots": slots, "description": description, "include_deferred": False}
        try:
            self.call("POST", "/pools", json=body)
        except RuntimeError:
            self.call("PATCH", f"/pools/{name}", json=body)

    def trigger(self, dag_id: str, label: str, expected: str, logical_date: str | None, conf: dict[str, Any]) -> Run:
        body = {"logical_date": logical_date, "conf": conf, "note": f"e2e: {label}"}
        reply = self.call("POST", f"/dags/{dag_id}/dagRuns", json=body)
        return Run(dag_id, reply["dag_run_id"], label, expected)

    def run_state(self, run: Run) -> str:
        return str(self.call("GET", f"/dags/{run.dag_id}/dagRuns/{run.run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(
            self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})["task_instances"]
        )

    def watch(self, runs: list[Run], timeout: float, every: float = 0.5, watch: Watch | None = None) -> Watch:
        """Poll until every run finished (or ``timeout``), recording each task's states on the way."""
        watch = watch or Watch()
        deadline = time.monotonic() + timeout
        pending = list(runs)
        while pending and time.monotonic() < deadline:
            for run in list(pending):
                key = (run.dag_id, run.run_id)
                for ti in self.task_instances(run.dag_id, run.run_id):
                    name = ti["task_id"] + (f"[{ti['map_index']}]" if ti.get("map_index", -1) >= 0 else "")
                    watch.seen[key].setdefault(name, set()).add(str(ti["state"]))
                state = self.run_state(run)
                if state in FINISHED:
                    watch.final[key] = state
                    pending.remove(run)
            time.sleep(every)
        for run in pending:
            watch.final[(run.dag_id, run.run_id)] = f"timeout ({self.run_state(run)})"
        return watch
