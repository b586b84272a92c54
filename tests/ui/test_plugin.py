"""The campaign view as the API server mounts it: behind Airflow's own login, unlike the DLR webhook."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from airflow_provider_fptsms._compat import airflow_at_least
from airflow_provider_fptsms.state import StateStore
from tests.compat import fastapi_apps
from tests.webhook.test_cli_and_plugin import plugin_caches  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("plugin_caches")


@pytest.mark.skipif(airflow_at_least("3.1"), reason="Airflow 3.0 only: the view needs external views (3.1+)")
def test_on_airflow_3_0_only_the_webhook_is_registered() -> None:
    from airflow_provider_fptsms.plugins import FptSmsPlugin

    assert [a["url_prefix"] for a in fastapi_apps() if a["name"].startswith("FPT SMS")] == ["/fptsms"]
    assert FptSmsPlugin.external_views == []


@pytest.mark.skipif(not airflow_at_least("3.1"), reason="the campaign view needs Airflow 3.1+ (external views)")
@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
async def test_the_view_needs_an_airflow_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow.api_fastapi.app import create_auth_manager, init_plugins
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    if airflow_at_least("3.2"):  # tokens can be revoked from 3.2 on: the check reads this table (no full migration)
        from airflow import settings
        from airflow.models.revoked_token import RevokedToken

        RevokedToken.__table__.create(settings.engine, checkfirst=True)

    from airflow_provider_fptsms.plugins import CAMPAIGNS_PREFIX, FptSmsPlugin, campaign_app

    [view] = FptSmsPlugin.external_views
    assert view["href"] == f"{CAMPAIGNS_PREFIX}/" and view["category"] == "browse"
    monkeypatch.setenv("FPTSMS_STATE_PATH", str(tmp_path / "state"))
    monkeypatch.setenv("FPTSMS_DLR_DB", f"sqlite:///{tmp_path / 'dlr.db'}")
    StateStore().note_step("C1", "created", {"campaign_name": "summer", "dag_id": "qc", "run_id": "manual__1"})
    campaign_app.reset()
    api = FastAPI()
    init_plugins(api)  # what Airflow's API server does with fastapi_apps
    token = create_auth_manager().generate_jwt(SimpleAuthManagerUser(username="ana", role="VIEWER"))
    url = f"{CAMPAIGNS_PREFIX}/api/campaigns"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://airflow") as client:
        assert (await client.get(url)).status_code == 401
        assert (await client.get(f"{CAMPAIGNS_PREFIX}/")).status_code == 401
        assert (await client.get(url, headers={"Authorization": "Bearer not-a-token"})).status_code == 403
        bearer = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        client.cookies.set("_token", token)  # what the UI's login leaves in the browser
        cookie = await client.get(url)
    assert bearer.status_code == cookie.status_code == 200
    assert (
        [c["campaign_code"] for c in bearer.json()["campaigns"]]
        == ["C1"]
        == [c["campaign_code"] for c in cookie.json()["campaigns"]]
    )
