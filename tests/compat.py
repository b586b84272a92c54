"""Test-only Airflow internals that moved between the lines ``make matrix`` runs (3.0-3.3).

The package's own differences live in ``airflow_provider_fptsms._compat``; these are private APIs only the
tests reach for (the masker's ``redact``, plugin discovery), so they stay out of the package. The older
lines' modules are typed ``Any``: mypy reads the newest line.
"""

from __future__ import annotations

import importlib
from typing import Any

from airflow_provider_fptsms._compat import airflow_at_least


def _module(name: str) -> Any:
    return importlib.import_module(name)


def redact(value: Any) -> Any:
    """What Airflow's masker makes of ``value``: the counterpart of ``_compat.mask_secret``."""
    if airflow_at_least("3.1"):
        return _module("airflow.sdk._shared.secrets_masker.secrets_masker").redact(value)
    return _module("airflow.sdk.execution_time.secrets_masker").redact(value)


def forget_plugins() -> None:
    """Make Airflow discover plugins afresh, as a new API-server process would (entry points included)."""
    manager = _module("airflow.plugins_manager")
    if airflow_at_least("3.2"):  # cached functions
        _module("airflow._shared.module_loading")._get_grouped_entry_points.cache_clear()
        manager._get_plugins.cache_clear()
        manager.get_fastapi_plugins.cache_clear()
        return
    _module("airflow.utils.entry_points")._get_grouped_entry_points.cache_clear()  # 3.0/3.1: module globals
    manager.plugins = None
    manager.loaded_plugins.clear()
    manager.import_errors.clear()
    manager.fastapi_apps = None
    manager.fastapi_root_middlewares = None


def discovered_plugins() -> tuple[list[Any], dict[str, str]]:
    """The plugins Airflow loads and its plugin import errors."""
    manager = _module("airflow.plugins_manager")
    if airflow_at_least("3.2"):
        plugins, errors = manager._get_plugins()
        return list(plugins), dict(errors)
    manager.ensure_plugins_loaded()
    return list(manager.plugins or []), dict(manager.import_errors)


def fastapi_apps() -> list[dict[str, Any]]:
    """The ``fastapi_apps`` entries of every plugin, as the API server mounts them."""
    manager = _module("airflow.plugins_manager")
    if airflow_at_least("3.2"):
        return list(manager.get_fastapi_plugins()[0])
    manager.initialize_fastapi_plugins()
    return list(manager.fastapi_apps or [])
