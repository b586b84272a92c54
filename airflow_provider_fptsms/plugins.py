"""Airflow 3 plugin: the FPT delivery-report webhook at ``/fptsms/dlr`` and, from Airflow 3.1 on, the campaign
view at ``/fptsms-campaigns/`` (a page in the UI's *Browse* menu).

Registered through the ``airflow.plugins`` entry point.  Airflow loads plugins in every component (scheduler,
workers, triggerer), so this module only defines small ASGI shims: FastAPI, SQLAlchemy and the settings are
touched on the first request, in the API server.

Settings (environment of the API server): ``FPTSMS_DLR_KEY`` — the key given to FPT (without it every report is
refused with 401); ``FPTSMS_DLR_DB`` — the store's SQLAlchemy URL (default ``sqlite:///$AIRFLOW_HOME/fptsms/dlr.db``;
use a shared database when the API server and the workers running ``FptDeliverySensor`` are on different
machines); ``FPTSMS_STATE_PATH`` — the state store the campaign view reads (the operators' default ``state_path``).

The campaign view needs Airflow 3.1's external views (a menu entry that embeds the page); on Airflow 3.0 the
plugin registers only the webhook, and says so once (at INFO) in the log of each component that loads it.
"""

from __future__ import annotations

import logging
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
#: Where the campaign view is mounted, and its route in the UI (``<ui>/plugin/sms-campaigns``).
CAMPAIGNS_PREFIX = "/fptsms-campaigns"
CAMPAIGNS_ROUTE = "sms-campaigns"
log = logging.getLogger(__name__)


class LazyApp:
    """An ASGI app that builds the real one (and reads its settings) on first use."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    def build(self) -> ASGIApp:
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    def reset(self) -> None:
        """Forget the built app, so changed settings apply to the next request (tests)."""
        with self._lock:
            self._app = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or self.build()
        await app(scope, receive, send)


def build_dlr_app(path: str = "/dlr") -> ASGIApp:
    from airflow_provider_fptsms.webhook.app import create_dlr_app
    from airflow_provider_fptsms.webhook.store import DlrStore

    key = os.environ.get(KEY_ENV, "").strip() or None
    return create_dlr_app(DlrStore(), key, path=path)


def build_campaign_app() -> ASGIApp:
    """The campaign view over this API server's state store and DLR store, behind Airflow's auth."""
    from urllib.parse import urlsplit

    from airflow.configuration import conf

    from airflow_provider_fptsms.state import StateStore
    from airflow_provider_fptsms.ui.app import create_campaign_app
    from airflow_provider_fptsms.ui.auth import airflow_viewer
    from airflow_provider_fptsms.webhook.store import DlrStore

    dlr = DlrStore()
    base = urlsplit(conf.get("api", "base_url", fallback="") or "").path
    return create_campaign_app(StateStore, lambda: dlr, airflow_viewer(), base_url=base)


dlr_app = LazyApp(build_dlr_app)
campaign_app = LazyApp(build_campaign_app)


def _campaign_view() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The view's app and menu entry, or nothing (and why) on an Airflow without external views."""
    from airflow_provider_fptsms._compat import airflow_at_least

    if not airflow_at_least("3.1"):
        log.info("fptsms: the campaign view needs Airflow 3.1+ (external views); only the DLR webhook is registered")
        return [], []
    app = {"app": campaign_app, "url_prefix": CAMPAIGNS_PREFIX, "name": "FPT SMS campaign view"}
    view = {
        "name": "SMS campaigns",
        "href": f"{CAMPAIGNS_PREFIX}/",
        "destination": "nav",
        "category": "browse",
        "url_route": CAMPAIGNS_ROUTE,
    }
    return [app], [view]


_CAMPAIGN_APPS, _EXTERNAL_VIEWS = _campaign_view()


class FptSmsPlugin(AirflowPlugin):
    """Serves FPT's CSKH delivery-report callbacks at ``<api-server>/fptsms/dlr`` and the campaign view."""

    name = "fptsms"
    fastapi_apps = [  # noqa: RUF012
        {"app": dlr_app, "url_prefix": "/fptsms", "name": "FPT SMS DLR receiver"},
        *_CAMPAIGN_APPS,
    ]
    external_views = _EXTERNAL_VIEWS
