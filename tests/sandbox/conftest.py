from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.sandbox.config import DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle


class FptClient:
    """A bare-bones FPT client over the protocol layer, so sandbox tests don't depend on the hook."""

    def __init__(self, url: str, session_id: str = "session-1") -> None:
        self.url = url
        self.session_id = session_id
        self.http = requests.Session()

    def post(self, path: str, body: Any) -> requests.Response:
        return self.http.post(self.url + path, json=body, timeout=10)

    def token(self, session_id: str | None = None, scopes: tuple[str, ...] = fpt.DEFAULT_SCOPES) -> str:
        request = fpt.token_request(
            DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET, scopes, session_id or self.session_id
        )
        reply = self.post(request.path, request.body)
        return fpt.parse_token(reply.status_code, reply.content).access_token

    def send(
        self,
        token: str,
        phone: str,
        message: str,
        request_id: str | None = None,
        brandname: str = "SANDBOX",
        international: bool = False,
    ) -> requests.Response:
        request = fpt.cskh_request(
            token, self.session_id, brandname, phone, message, request_id, international=international
        )
        return self.post(request.path, request.body)

    def create(self, token: str, name: str, message: str, schedule: str, quota: int) -> requests.Response:
        request = fpt.create_campaign_request(token, self.session_id, name, "SANDBOX", message, schedule, quota)
        return self.post(request.path, request.body)


@pytest.fixture
def client(fptsms_sandbox: SandboxHandle) -> FptClient:
    return FptClient(fptsms_sandbox.url)
