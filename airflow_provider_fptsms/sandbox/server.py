"""Run the sandbox: in a background thread (tests) or as a child process (demo, benchmarks)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from types import TracebackType
from typing import Any

from airflow_provider_fptsms._listen import ThreadedServer, bind, url_of
from airflow_provider_fptsms.sandbox.app import Sandbox, create_app
from airflow_provider_fptsms.sandbox.config import (
    DEFAULT_FIBO_CLIENT_NO,
    DEFAULT_FIBO_CLIENT_PASS,
    DEFAULT_FPT_CLIENT_ID,
    DEFAULT_FPT_CLIENT_SECRET,
)

READY_LINE = re.compile(r"fptsms-sandbox listening on (\S+)")


def fpt_connection(url: str, **extra: Any) -> dict[str, Any]:
    """An Airflow connection (as a dict for ``AIRFLOW_CONN_*``) to the sandbox's FPT gateway."""
    return {
        "conn_type": "fptsms",
        "host": url,
        "login": DEFAULT_FPT_CLIENT_ID,
        "password": DEFAULT_FPT_CLIENT_SECRET,
        "extra": {"brandname": "SANDBOX", "scopes": "send_brandname_otp send_brandname", **extra},
    }


def fibo_connection(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "conn_type": "fibosms",
        "host": url,
        "login": DEFAULT_FIBO_CLIENT_NO,
        "password": DEFAULT_FIBO_CLIENT_PASS,
        "extra": {"sender_name": "SANDBOX", **extra},
    }


class SandboxServer:
    """The sandbox on a free localhost port, served by uvicorn in a daemon thread.

    ``extra_ports`` opens more listening ports on the same state: two "hosts" for failover tests.
    """

    def __init__(
        self, sandbox: Sandbox | None = None, host: str = "127.0.0.1", port: int = 0, extra_ports: int = 0
    ) -> None:
        self.sandbox = sandbox or Sandbox()
        self.sockets = [bind(host, port)] + [bind(host, 0) for _ in range(extra_ports)]
        self.urls = [url_of(s) for s in self.sockets]
        self.url = self.urls[0]
        self._runner = ThreadedServer(create_app(self.sandbox), self.sockets, "fptsms-sandbox")

    def start(self, timeout: float = 10.0) -> SandboxServer:
        self._runner.start(timeout)
        return self

    def stop(self) -> None:
        self._runner.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SandboxProcess:
    """The sandbox as a child process (``fptsms-sandbox``), for work that must not share our GIL."""

    def __init__(
        self,
        *args: str,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_ports: int = 0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.args = [
            sys.executable,
            "-m",
            "airflow_provider_fptsms.sandbox.cli",
            "--host",
            host,
            "--port",
            str(port),
            "--extra-ports",
            str(extra_ports),
            *args,
        ]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.urls: list[str] = []
        self.url = ""
        self._expected = 1 + extra_ports

    def start(self, timeout: float = 30.0) -> SandboxProcess:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env
        )
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            seen.append(line)
            match = READY_LINE.search(line)
            if match:
                self.urls.append(match.group(1))
            if len(self.urls) == self._expected:
                self.url = self.urls[0]
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.stop()
        raise RuntimeError("fptsms-sandbox did not start:\n" + "".join(seen[-20:]))

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for _ in self.process.stdout:
            pass

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def connection_env(url: str) -> dict[str, str]:
    """``AIRFLOW_CONN_FPTSMS_DEFAULT`` / ``AIRFLOW_CONN_FIBOSMS_DEFAULT`` pointing at a sandbox."""
    return {
        "AIRFLOW_CONN_FPTSMS_DEFAULT": json.dumps(fpt_connection(url)),
        "AIRFLOW_CONN_FIBOSMS_DEFAULT": json.dumps(fibo_connection(url)),
    }
