"""Who may see what in the campaign view: Airflow's own user and its auth manager's DAG permissions.

Plugin FastAPI apps are not behind Airflow's authentication unless they ask for it: this dependency does, with
the API server's ``get_user`` (a ``Bearer`` token, or the ``_token`` cookie the UI's login sets), so the page
works inside the Airflow UI and a script with a token from ``/auth/token`` reads the same JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from airflow_provider_fptsms.ui.app import CanRead


def airflow_viewer() -> Callable[..., Awaitable[CanRead]]:
    """The FastAPI dependency: 401 without a user; else "may this user GET this DAG?" per the auth manager."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends

    async def viewer(user: Any = Depends(get_user)) -> CanRead:
        manager = get_auth_manager()
        return lambda dag_id: bool(manager.is_authorized_dag(method="GET", details=DagDetails(id=dag_id), user=user))

    return viewer


__all__ = ["airflow_viewer"]
