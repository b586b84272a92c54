"""The campaign view: a small JSON API and the page that draws it, served by Airflow's API server.

``GET api/campaigns`` lists the QC campaigns the caller may see, ``GET api/campaign?code=...`` gives one
campaign's funnel, report by telco and cost (:mod:`.board`), ``GET api/sends`` the CSKH sends' delivery rates
from the DLR store. Campaign codes contain ``/`` and ``=``, hence a query parameter rather than a path.

Unlike the DLR webhook (FPT cannot log in to Airflow), every route but the vendored chart library requires an
Airflow user, and a campaign or send shows only to users who may read its DAG: ``viewer`` is the dependency
that says who may read what (:func:`.auth.airflow_viewer` in the API server; tests pass their own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from airflow_provider_fptsms.ui import board

STATIC = Path(__file__).parent / "static"
#: May this user read this DAG? (one per request: the user is known)
CanRead = Callable[[str], bool]


class StepSource(Protocol):
    def campaign_steps(self) -> dict[str, list[dict[str, Any]]]: ...


class SendSource(Protocol):
    def watch_summaries(self, limit: int = 100) -> dict[str, dict[str, Any]]: ...


def run_url(base_url: str, dag_id: str | None, run_id: str | None) -> str | None:
    """The Airflow UI page of a DAG run (``<base>/dags/<dag_id>/runs/<run_id>``)."""
    if not dag_id or not run_id:
        return None
    return f"{base_url.rstrip('/')}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def create_campaign_app(
    steps: Callable[[], StepSource],
    sends: Callable[[], SendSource],
    viewer: Callable[..., Awaitable[CanRead]],
    base_url: str = "",
) -> FastAPI:
    """The campaign view's FastAPI app.

    :param steps: gives the state store whose campaign steps are shown (called per request: no stale cache).
    :param sends: gives the DLR store whose registered waits are the CSKH sends shown.
    :param viewer: a FastAPI dependency returning "may this user read this DAG?"; it raises 401/403 itself.
    :param base_url: the Airflow UI's base URL path, for the DAG run links.
    """
    app = FastAPI(title="FPT SMS campaigns", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC / "vendor"), name="static")

    def visible(can_read: CanRead, dag_id: str | None) -> bool:
        return bool(dag_id) and can_read(str(dag_id))

    def with_link(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "run_url": run_url(base_url, item.get("dag_id"), item.get("run_id"))}

    @app.get("/", include_in_schema=False)
    async def page(can_read: CanRead = Depends(viewer)) -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/campaigns.js", include_in_schema=False)
    async def script(can_read: CanRead = Depends(viewer)) -> FileResponse:
        return FileResponse(STATIC / "campaigns.js", media_type="text/javascript")

    @app.get("/api/campaigns")
    def campaigns(can_read: CanRead = Depends(viewer)) -> dict[str, Any]:
        rows = board.campaign_list(steps().campaign_steps())
        return {"campaigns": [with_link(item) for item in rows if visible(can_read, item["dag_id"])]}

    @app.get("/api/campaign")
    def campaign(code: str, can_read: CanRead = Depends(viewer)) -> dict[str, Any]:
        found = steps().campaign_steps().get(code)
        if not found or not visible(can_read, board.row(code, found)["dag_id"]):
            raise HTTPException(404, f"no campaign {code!r} recorded (or its DAG is not yours to read)")
        return with_link(board.detail(code, found))

    @app.get("/api/sends")
    def delivery(limit: int = 100, can_read: CanRead = Depends(viewer)) -> dict[str, Any]:
        rows = board.send_rows(sends().watch_summaries(limit))
        return {"sends": [with_link(item) for item in rows if visible(can_read, item["dag_id"])]}

    return app


__all__ = ["create_campaign_app", "run_url"]
