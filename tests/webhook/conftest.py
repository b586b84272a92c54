"""A DLR receiver on a free port (uvicorn in a thread) and a store in a temp SQLite file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_fptsms._listen import ThreadedServer, bind
from airflow_provider_fptsms.webhook.app import create_dlr_app
from airflow_provider_fptsms.webhook.cli import url_of
from airflow_provider_fptsms.webhook.store import DlrStore

KEY = "4355d6fc4cd24598aa7cb363f662c2fb"  # the manual's sample key


class DlrReceiver:
    """The receiver app served by uvicorn in a daemon thread, as FPT would reach it."""

    def __init__(self, db_url: str, key: str | None = KEY, path: str = "/dlr", max_body: int = 64 * 1024) -> None:
        self.db_url = db_url
        self.store = DlrStore(db_url)
        self.app = create_dlr_app(self.store, key, path=path, max_body=max_body)
        self.sock = bind("127.0.0.1", 0)
        self.url = url_of(self.sock, path)
        self._runner = ThreadedServer(self.app, [self.sock], "dlr-receiver")

    def start(self) -> DlrReceiver:
        self._runner.start()
        return self

    def stop(self) -> None:
        self._runner.stop()
        self.store.dispose()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dlr.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[DlrStore]:
    store = DlrStore(db_url)
    yield store
    store.dispose()


@pytest.fixture
def receiver(db_url: str) -> Iterator[DlrReceiver]:
    server = DlrReceiver(db_url).start()
    yield server
    server.stop()


def wait_until(condition: Any, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Poll ``condition()`` until true (asynchronous callbacks), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
