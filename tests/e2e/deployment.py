"""A real Airflow 3 deployment on one machine: embedded PostgreSQL, each component its own process.

What ``airflow dags test`` hides shows up only here: tasks run by an executor in their own
processes, talking to the api-server's Execution API; deferred sensors handed to a separate
triggerer; DAGs parsed by the dag-processor; and everything sharing one PostgreSQL database.
Nothing is installed by hand: PostgreSQL comes from the ``pgserver`` wheel (``make e2e``
installs ``requirements/e2e.txt``), every port is a free localhost port, and :meth:`stop`
leaves no process behind (:meth:`leftovers` checks it).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

from airflow_provider_fptsms._listen import bind

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
USER = "e2e"


def free_port() -> int:
    with bind("127.0.0.1", 0) as sock:
        return int(sock.getsockname()[1])


class Postgres:
    """PostgreSQL from the ``pgserver`` wheel, on a Unix socket in a fresh data directory.

    pgserver runs the server as its own system user when we are root (PostgreSQL refuses root),
    so the data directory lives under the system temp folder, which that user can reach.
    """

    def __init__(self) -> None:
        self.pgdata = Path(tempfile.mkdtemp(prefix="fptsms-e2e-pg-"))
        self._server: Any = None

    def start(self) -> Postgres:
        import pgserver

        self._server = pgserver.get_server(self.pgdata, cleanup_mode="delete")
        self._server.psql("CREATE DATABASE airflow;")
        return self

    @property
    def socket_dir(self) -> str:
        return str(self._server.get_postmaster_info().socket_dir)

    def url(self, driver: str = "psycopg2", database: str = "airflow") -> str:
        return f"postgresql+{driver}://postgres@/{database}?host={self.socket_dir}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
        shutil.rmtree(self.pgdata, ignore_errors=True)


@dataclass
class Component:
    """One long-running Airflow (or sandbox) process, in its own process group, logging to a file."""

    name: str
    args: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.args, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True
        )
        handle.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the whole group (Airflow components fork workers), SIGKILL what outlives ``timeout``."""
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # children that left the group (or the group leader died first) go too
        for proc in _descendants_by_env(self.name):
            proc.kill()


def _descendants_by_env(component: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("FPTSMS_E2E_COMPONENT") == component:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@dataclass
class Deployment:
    """PostgreSQL, the sandbox and Airflow's four components (plus Celery workers for that executor)."""

    work: Path
    executor: str = "LocalExecutor"
    celery_workers: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    postgres: Postgres = field(default_factory=Postgres)
    components: list[Component] = field(default_factory=list)
    api_port: int = field(default_factory=free_port)
    sandbox_port: int = field(default_factory=free_port)
    dlr_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    timings: dict[str, float] = field(default_factory=dict)
    run_marker: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def home(self) -> Path:
        return self.work / "airflow-home"

    @property
    def dags(self) -> Path:
        return self.work / "dags"

    @property
    def state_path(self) -> Path:
        return self.work / "fptsms-state"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def dlr_db(self) -> Path:
        return self.work / "dlr.db"

    def env(self, component: str) -> dict[str, str]:
        from airflow_provider_fptsms.sandbox.server import connection_env

        values = {
            **os.environ,
            "FPTSMS_E2E_COMPONENT": component,
            "FPTSMS_E2E_RUN": self.run_marker,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__CORE__PARALLELISM": "16",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.url("psycopg2"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": self.postgres.url("asyncpg"),
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__SECRET_KEY": self.dlr_key + "-api",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.dlr_key + "-jwt",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",  # the leak scan reads every DEBUG line too
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "FPTSMS_STATE_PATH": str(self.state_path),
            "FPTSMS_DLR_KEY": self.dlr_key,
            "FPTSMS_DLR_DB": f"sqlite:///{self.dlr_db}",
            # polls every 3 s; a trigger's first check still waits FPTSMS_TRIGGER_FIRST_CHECK_SECONDS (10 s), which
            # keeps it clear of the scheduler's deferral race on a loaded machine (triggers/campaign.py)
            "FPTSMS_EXAMPLE_POLL_SECONDS": "3",
            "PYTHONUNBUFFERED": "1",
            **connection_env(self.sandbox_url),
            **self.extra_env,
        }
        if self.executor == "CeleryExecutor":  # Kombu's SQLAlchemy transport: the broker is the same PostgreSQL
            values["AIRFLOW__CELERY__BROKER_URL"] = "sqla+" + self.postgres.url("psycopg2")
            values["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + self.postgres.url("psycopg2")
        values.pop("PYTEST_CURRENT_TEST", None)
        return values

    def _run(self, name: str, *args: str) -> None:
        started = time.perf_counter()
        log = self.work / f"{name}.log"
        with log.open("ab") as handle:
            code = subprocess.call(
                [str(BIN / "airflow"), *args], stdout=handle, stderr=subprocess.STDOUT, env=self.env(name), cwd=ROOT
            )
        if code != 0:
            raise RuntimeError(f"airflow {' '.join(args)} exited {code}; see {log}:\n{tail(log)}")
        self.timings[name] = time.perf_counter() - started

    def _spawn(self, name: str, *args: str, program: str = "airflow") -> Component:
        component = Component(name, [str(BIN / program), *args], self.work / f"{name}.log")
        component.start(self.env(name))
        self.components.append(component)
        return component

    def start(self) -> Deployment:
        self.work.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(exist_ok=True)
        started = time.perf_counter()
        self.postgres.start()
        self.timings["postgres"] = time.perf_counter() - started
        self._run("db-migrate", "db", "migrate")
        sandbox = self._spawn(
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.sandbox_port),
            # long enough that every sensor finds the campaign still waiting, and defers, even on a busy machine:
            # each wait outlasts the task start before it plus a trigger's 10 s first check
            "--approval-delay",
            "20",
            "--send-delay",
            "20",
            "--dlr-delay",
            "20",
            "--dlr-url",
            f"{self.api_url}/fptsms/dlr",
            program="fptsms-sandbox",
        )
        started = time.perf_counter()
        self._spawn("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1")
        self._spawn("scheduler", "scheduler", "--skip-serve-logs")
        self._spawn("dag-processor", "dag-processor")
        self._spawn("triggerer", "triggerer", "--skip-serve-logs")
        for index in range(1, self.celery_workers + 1):
            self.start_celery_worker(index)
        wait_until(lambda: _answers(f"{self.sandbox_url}/_sandbox/health"), 30, "the sandbox", sandbox.log)
        wait_until(
            lambda: _answers(f"{self.api_url}/api/v2/monitor/health"), 120, "the api-server", self.log_of("api-server")
        )
        self.timings["components up"] = time.perf_counter() - started
        return self

    def start_celery_worker(self, index: int, concurrency: int = 2, wait: bool = False) -> Component:
        """One more ``airflow celery worker``: the same machine here, another machine in production.

        ``wait``: return once Celery logs ``worker<index>@<host> ready.`` (it consumes from then on)."""
        worker = self._spawn(
            f"celery-worker-{index}",
            "celery",
            "worker",
            "--skip-serve-logs",
            "--concurrency",
            str(concurrency),
            "--celery-hostname",
            f"worker{index}@%h",
        )
        if wait:
            wait_until(
                lambda: logged(worker.log, f"worker{index}@", "ready."), 90, f"Celery worker {index}", worker.log
            )
        return worker

    def log_of(self, name: str) -> Path:
        return self.work / f"{name}.log"

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def component_alive(self, name: str) -> bool:
        return any(c.name == name and c.alive for c in self.components)

    def check_alive(self) -> None:
        dead = [c.name for c in self.components if not c.alive]
        if dead:
            raise RuntimeError(
                f"component(s) {dead} died; last lines:\n" + "\n".join(tail(self.log_of(n)) for n in dead)
            )

    def password(self) -> str:
        path = self.home / "simple_auth_manager_passwords.json.generated"
        wait_until(path.exists, 60, "the auth manager's password file", self.log_of("api-server"))
        return str(json.loads(path.read_text())[USER])

    def stop(self) -> None:
        for component in reversed(self.components):
            component.stop()
        self.postgres.stop()

    def leftovers(self) -> list[str]:
        """Processes of this deployment still alive after :meth:`stop` (should be none)."""
        left = []
        for proc in psutil.process_iter(["pid", "name", "cmdline"]):
            try:
                if proc.environ().get("FPTSMS_E2E_RUN") == self.run_marker or str(self.postgres.pgdata) in " ".join(
                    proc.info["cmdline"] or ()
                ):
                    left.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or ())[:100]}")
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return left


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def wait_until(condition: Any, timeout: float, what: str, log: Path | None = None, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}" + (f"; {log}:\n{tail(log)}" if log else ""))


def logged(path: Path, *parts: str) -> bool:
    """Whether one line of the log holds every part."""
    return any(all(part in line for part in parts) for line in path.read_text(errors="replace").splitlines())


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"
