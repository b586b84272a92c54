"""The webhook as FPT meets it: exact replies, 4xx shapes, no stack trace, constant-time key check."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import requests
from fastapi import FastAPI

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.webhook.app import create_dlr_app
from airflow_provider_fptsms.webhook.report import DeliveryReport
from airflow_provider_fptsms.webhook.store import DlrStore
from tests.webhook.conftest import KEY, DlrReceiver

SAMPLE = {"smsid": "270148016", "status": 1, "telco": "viettel", "error": None, "mt_count": 1}
AUTH = {"Authorization": f"Basic {KEY}"}


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fpt-callback")


@pytest.fixture
async def client(store: DlrStore) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(create_dlr_app(store, KEY, max_body=1024)) as test_client:
        yield test_client


def _assert_failure(reply: Any, status: int) -> dict[str, Any]:
    assert reply.status_code == status
    body = reply.json()
    assert body["status"] == 0 and isinstance(body["desc"], str) and set(body) == {"status", "desc"}
    assert "Traceback" not in reply.text and KEY not in reply.text
    return dict(body)


async def test_good_report_is_stored_and_acknowledged_exactly(client: httpx.AsyncClient, store: DlrStore) -> None:
    reply = await client.post("/dlr", json=SAMPLE, headers={**AUTH, "Accept": "application/json"})
    assert reply.status_code == 200 and reply.json() == {"status": 1}
    assert reply.headers["content-type"] == "application/json"
    row = store.get("270148016")
    assert row is not None and (row["status"], row["telco"], row["mt_count"]) == (1, "viettel", 1)


async def test_same_report_twice_is_one_row(client: httpx.AsyncClient, store: DlrStore) -> None:
    for _ in range(2):
        assert (await client.post("/dlr", json=SAMPLE, headers=AUTH)).json() == {"status": 1}
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM fptsms_dlr").scalar() == 1


async def test_capitalised_fields_and_int_smsid(client: httpx.AsyncClient, store: DlrStore) -> None:
    body = {"smsid": 451838640, "Status": 0, "Telco": "mobi", "Error": "DELIVERY_FAILED", "mt_count": 2}
    assert (await client.post("/dlr", json=body, headers=AUTH)).json() == {"status": 1}
    assert store.summary(["451838640"])["failed"] == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic wrong-key"},
        {"Authorization": f"Bearer {KEY}"},
        {"Authorization": KEY},
        {"Authorization": "Basic "},
        {"Authorization": f"Basic {KEY}x"},
    ],
)
async def test_missing_or_wrong_key_is_401(client: httpx.AsyncClient, store: DlrStore, headers: dict[str, str]) -> None:
    body = _assert_failure(await client.post("/dlr", json=SAMPLE, headers=headers), 401)
    assert body["desc"] == "unauthorized"
    assert store.get("270148016") is None


async def test_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    assert (await client.post("/dlr", json=SAMPLE, headers={"Authorization": f"basic {KEY}"})).json() == {"status": 1}


async def test_key_is_compared_in_constant_time(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    await client.post("/dlr", json=SAMPLE, headers={"Authorization": "Basic guess"})
    await client.post("/dlr", json=SAMPLE, headers={"Authorization": f"Token {KEY}"})
    assert (await client.post("/dlr", json=SAMPLE, headers=AUTH)).json() == {"status": 1}
    assert calls == [(b"guess", KEY.encode()), (KEY.encode(), KEY.encode()), (KEY.encode(), KEY.encode())]


async def test_no_key_configured_refuses_everything(store: DlrStore) -> None:
    async with _client(create_dlr_app(store, None)) as client:
        for headers in ({}, {"Authorization": "Basic "}, {"Authorization": "Basic None"}, AUTH):
            _assert_failure(await client.post("/dlr", json=SAMPLE, headers=headers), 401)
    assert store.summary(["270148016"])["missing"] == 1


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"{not json", "invalid JSON"),
        (b"\xff\xfe\x00garbage", "invalid JSON"),
        (b"", "invalid JSON"),
        (b"[1, 2]", "body"),
        (json.dumps({"status": 1}).encode(), "smsid"),
        (json.dumps({"smsid": "1", "status": 7}).encode(), "status"),
        (json.dumps({"smsid": "1", "status": "delivered"}).encode(), "status"),
        (json.dumps({"smsid": "1"}).encode(), "status"),
    ],
)
async def test_bad_bodies_are_400(client: httpx.AsyncClient, content: bytes, hint: str) -> None:
    reply = await client.post("/dlr", content=content, headers={**AUTH, "Content-Type": "application/json"})
    assert hint in _assert_failure(reply, 400)["desc"]


async def test_oversized_body_is_413_by_content_length(client: httpx.AsyncClient, store: DlrStore) -> None:
    big = {**SAMPLE, "error": "x" * 2000}
    _assert_failure(await client.post("/dlr", json=big, headers=AUTH), 413)
    # before the key is even checked: nothing that large is read
    _assert_failure(await client.post("/dlr", json=big, headers={"Authorization": "Basic nope"}), 413)
    assert store.get("270148016") is None


def test_oversized_chunked_body_is_413_without_content_length(db_url: str) -> None:
    """A sender that lies (or sends chunked) is cut off by the bytes actually read."""
    server = DlrReceiver(db_url, max_body=1024).start()
    try:

        def chunks() -> Iterator[bytes]:
            yield b'{"smsid": "1", "status": 1, "error": "'
            for _ in range(64):
                yield b"x" * 256
            yield b'"}'

        reply = requests.post(server.url, data=chunks(), headers=AUTH, timeout=10)
        assert reply.request.headers.get("Transfer-Encoding") == "chunked"
        _assert_failure(reply, 413)
        small = requests.post(server.url, data=iter([json.dumps(SAMPLE).encode()]), headers=AUTH, timeout=10)
        assert small.json() == {"status": 1}
    finally:
        server.stop()


async def test_wrong_method_and_path_have_the_same_shape(client: httpx.AsyncClient) -> None:
    assert _assert_failure(await client.get("/dlr", headers=AUTH), 405)["desc"] == "method not allowed"
    assert _assert_failure(await client.post("/elsewhere", json=SAMPLE, headers=AUTH), 404)["desc"] == "not found"
    assert _assert_failure(await client.get("/docs"), 404)  # no API docs on a public webhook
    _assert_failure(await client.post("/dlr", json=SAMPLE, headers={**AUTH, "Content-Length": "abc"}), 400)


async def test_concurrent_posts_share_commits_and_each_answer_follows_its_commit(
    store: DlrStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real = store.record_many

    def counted(reports: list[DeliveryReport]) -> list[bool]:
        result = real(reports)
        batches.append(len(reports))  # committed: only now may the posts of this batch be answered
        return result

    monkeypatch.setattr(store, "record_many", counted)
    async with _client(create_dlr_app(store, KEY)) as client:

        async def post(i: int) -> tuple[int, int]:
            reply = await client.post("/dlr", json={**SAMPLE, "smsid": str(500 + i)}, headers=AUTH)
            assert reply.json() == {"status": 1}
            stored = store.get(str(500 + i))  # stored before the answer
            return reply.status_code, stored["status"] if stored else -1

        answers = await asyncio.gather(*(post(i) for i in range(200)))
    assert answers == [(200, 1)] * 200 and sum(batches) == 200
    assert len(batches) < 200  # posts that arrived during a commit shared the next one


async def test_internal_error_is_500_without_details(
    store: DlrStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(reports: object) -> list[bool]:
        raise RuntimeError(f"boom with {KEY} inside sqlite:///secret/path")

    monkeypatch.setattr(store, "record_many", explode)
    with caplog.at_level(logging.INFO):
        async with _client(create_dlr_app(store, KEY)) as client:
            reply = await client.post("/dlr", json=SAMPLE, headers=AUTH)
    assert _assert_failure(reply, 500)["desc"] == "internal error"
    assert "boom" not in reply.text and "secret" not in reply.text
    assert "RuntimeError" in caplog.text and "boom" not in caplog.text and KEY not in caplog.text


async def test_logs_never_carry_the_key(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        await client.post("/dlr", json=SAMPLE, headers=AUTH)
        await client.post("/dlr", json=SAMPLE, headers={"Authorization": "Basic almost-" + KEY})
    assert "270148016" in caplog.text and KEY not in caplog.text


async def test_custom_path_and_bad_arguments(store: DlrStore) -> None:
    app = create_dlr_app(store, KEY, path="/hooks/fpt-dlr")
    assert isinstance(app, FastAPI)
    async with _client(app) as client:
        assert (await client.post("/hooks/fpt-dlr", json=SAMPLE, headers=AUTH)).json() == {"status": 1}
    with pytest.raises(InvalidInputError, match="path"):
        create_dlr_app(store, KEY, path="dlr")
    with pytest.raises(InvalidInputError, match="max_body"):
        create_dlr_app(store, KEY, max_body=0)
