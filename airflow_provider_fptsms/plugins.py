"""Airflow 3 plugin: the FPT delivery-report webhook inside Airflow's API server, at ``/fptsms/dlr``.

Registered through the ``airflow.plugins`` entry point.  Airflow loads plugins in every
component (scheduler, workers, triggerer), so this module only defines a small ASGI shim: FastAPI,
SQLAlchemy and the settings are touched on the first request, in the API server.

Settings (environment of the API server): ``FPTSMS_DLR_KEY`` — the key given to FPT (without it
every report is refused with 401); ``FPTSMS_DLR_DB`` — the store's SQLAlchemy URL (default
``sqlite:///$AIRFLOW_HOME/fptsms/dlr.db``; use a shared database when the API server and the
workers running ``FptDeliverySensor`` are on different machines).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from airflow.plugins_manager import AirflowPlugin

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KEY_ENV = "FPTSMS_DLR_KEY"


class LazyDlrApp:
    """An ASGI app that builds the real receiver (and reads its settings) on first use."""

    def __init__(self, path: str = "/dlr") -> None:
        self.path = path
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    def build(self) -> ASGIApp:
        with self._lock:
            if self._app is None:
                from airflow_provider_fptsms.webhook.app import create_dlr_app
                from airflow_provider_fptsms.webhook.store import DlrStore

                key = os.environ.get(KEY_ENV, "").strip() or None
                self._app = create_dlr_app(DlrStore(), key, path=self.path)
            return self._app

    def reset(self) -> None:
        """Forget the built app, so changed settings apply to the next request (tests)."""
        with self._lock:
            self._app = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or self.build()
        await app(scope, receive, send)


dlr_app = LazyDlrApp()


class FptSmsPlugin(AirflowPlugin):
    """Serves FPT's CSKH delivery-report callbacks at ``<api-server>/fptsms/dlr``."""

    name = "fptsms"
    fastapi_apps = [{"app": dlr_app, "url_prefix": "/fptsms", "name": "FPT SMS DLR receiver"}]  # noqa: RUF012
