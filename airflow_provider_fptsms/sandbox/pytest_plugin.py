"""Pytest fixtures: a sandbox on a free port, reset per test, with Airflow connections pointing at it.

Enable in a ``conftest.py``::

    pytest_plugins = ["airflow_provider_fptsms.sandbox.pytest_plugin"]

``fptsms_sandbox`` (in-process, fast to reset) sets ``AIRFLOW_CONN_FPTSMS_DEFAULT`` and
``AIRFLOW_CONN_FIBOSMS_DEFAULT`` for the test; ``fptsms_sandbox_process`` runs it as a child process.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_fptsms.sandbox.app import Sandbox
from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.config import SandboxConfig
from airflow_provider_fptsms.sandbox.server import (
    SandboxProcess,
    SandboxServer,
    connection_env,
    fibo_connection,
    fpt_connection,
)


@dataclass
class SandboxHandle:
    """What a test gets: URLs, the admin client, and (in-process) the live state."""

    url: str
    urls: list[str]
    admin: SandboxClient
    sandbox: Sandbox | None = None

    def fpt_connection(self, **extra: Any) -> dict[str, Any]:
        return fpt_connection(self.url, **extra)

    def fibo_connection(self, **extra: Any) -> dict[str, Any]:
        return fibo_connection(self.url, **extra)


@pytest.fixture(scope="session")
def fptsms_sandbox_server() -> Iterator[SandboxServer]:
    """One in-process sandbox for the session, with a second port (a second "host") on the same state."""
    server = SandboxServer(Sandbox(SandboxConfig()), extra_ports=1).start()
    server.pristine_config = copy.deepcopy(server.sandbox.config)  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def fptsms_sandbox(fptsms_sandbox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHandle]:
    """A clean sandbox for this test, with the default connections set in the environment."""
    sandbox = fptsms_sandbox_server.sandbox
    pristine = fptsms_sandbox_server.pristine_config  # type: ignore[attr-defined]
    sandbox.reset()
    for name, value in connection_env(fptsms_sandbox_server.url).items():
        monkeypatch.setenv(name, value)
    _forget_tokens()
    yield SandboxHandle(
        fptsms_sandbox_server.url, fptsms_sandbox_server.urls, SandboxClient(fptsms_sandbox_server.url), sandbox
    )
    sandbox.config.__dict__.update(copy.deepcopy(pristine).__dict__)
    sandbox.reset()
    _forget_tokens()


@pytest.fixture(scope="session")
def fptsms_sandbox_process() -> Iterator[SandboxHandle]:
    """The sandbox as a child process (its own GIL), for load and kill/retry tests."""
    with SandboxProcess(extra_ports=1) as process:
        yield SandboxHandle(process.url, process.urls, SandboxClient(process.url))


def _forget_tokens() -> None:
    # Tokens cached by hooks in this process belong to the previous sandbox state.
    from airflow_provider_fptsms.hooks.fpt import TOKENS

    TOKENS.clear()
