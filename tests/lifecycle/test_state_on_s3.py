"""``state_path`` on S3 for real: moto's S3 server on localhost, reached the way a deployment reaches a
bucket (``ObjectStoragePath`` through the Amazon provider's s3fs filesystem), each request counted by the
server. Needs the ``bench`` extra (``make bench`` installs it); skipped without it.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("moto")
pytest.importorskip("s3fs")
pytest.importorskip("airflow.providers.amazon.aws.fs.s3")

from airflow_provider_fptsms.delivery import State
from airflow_provider_fptsms.hooks.fpt_async import CskhMessage
from airflow_provider_fptsms.hooks.results import SendResult
from airflow_provider_fptsms.operators.send import TryDelivery
from airflow_provider_fptsms.state import PushProgress, SendJournal, StateConflictError, StateStore
from benchmarks.s3_state import BUCKET, FAKE_AWS, LatencyAndCount


@pytest.fixture(scope="module")
def s3() -> Iterator[LatencyAndCount]:
    from moto.moto_server.werkzeug_app import create_backend_app
    from werkzeug.serving import make_server

    app = LatencyAndCount(create_backend_app("s3"), 0.0)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/{BUCKET}", method="PUT"), timeout=10).close()  # noqa: S310
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**FAKE_AWS, "AWS_ENDPOINT_URL": url}.items():
            env.setenv(name, value)
        yield app
    server.shutdown()


def requests(app: LatencyAndCount) -> dict[str, int]:
    seen = dict(app.counts)
    app.counts.clear()
    return seen


def test_a_record_write_is_one_get_and_one_put_and_still_refuses_a_stale_writer(s3: LatencyAndCount) -> None:
    base = f"s3://{BUCKET}/records-{uuid.uuid4().hex[:8]}"
    store = StateStore(base)
    record = PushProgress(key="C1", campaign_code="C1")
    store.save_push(record, "try-1")  # the first: makes the folder (a HEAD) and finds no record
    requests(s3)
    store.save_push(record, "try-1")
    assert requests(s3) == {"GET": 1, "PUT": 1}  # no exists() HEAD, no HEAD for the size, no mkdir
    assert store.push("C1") is not None and requests(s3) == {"GET": 1}
    assert StateStore(base).push("missing") is None  # a missing record: one GET, answered 404
    assert requests(s3) == {"GET": 1}
    zombie = StateStore(base).push("C1")
    assert zombie is not None
    store.save_push(record, "try-2")  # the successor writes on
    with pytest.raises(StateConflictError):
        StateStore(base).save_push(zombie, "try-1")  # the zombie's version is behind: refused


def _send(delivery: TryDelivery, keys: list[str], concurrency: int) -> None:
    queue = iter(keys)

    async def worker() -> None:
        for key in queue:
            assert await delivery.before_send_async(CskhMessage("84912000000", "t", key))
            await asyncio.sleep(0.002)
            delivery.on_result(0, SendResult.ok("84912000000", key, "m", "viettel"))

    async def run() -> None:
        await asyncio.gather(*(worker() for _ in range(concurrency)))

    asyncio.run(run())


def test_a_cskh_journal_on_s3_writes_ahead_in_few_puts_and_reads_back(s3: LatencyAndCount) -> None:
    store = StateStore(f"s3://{BUCKET}/sends-{uuid.uuid4().hex[:8]}")
    journal = SendJournal(store, "d.t@2026-01-01")
    assert not journal.appends and journal.recall() == {}
    keys = [f"k{i:04d}" for i in range(600)]
    requests(s3)
    delivery = TryDelivery(journal, {}, set(), {}, keys)
    _send(delivery, keys, concurrency=16)
    delivery.close()
    puts = requests(s3).get("PUT", 0)
    assert 0 < puts < len(keys) / 16  # fewer than one per round of the senders
    records = SendJournal(store, "d.t@2026-01-01").recall()
    assert {key: record.state for key, record in records.items()} == dict.fromkeys(keys, State.ACCEPTED)
    assert abs(SendJournal(store, "x").clock() - time.time()) < 60  # the store's clock, read through S3


def test_a_killed_cskh_try_on_s3_leaves_what_was_in_flight_in_doubt(s3: LatencyAndCount) -> None:
    store = StateStore(f"s3://{BUCKET}/sends-{uuid.uuid4().hex[:8]}")
    keys = [f"k{i:04d}" for i in range(400)]
    delivery = TryDelivery(SendJournal(store, "d.t@2026-01-01"), {}, set(), {}, keys)
    _send(delivery, keys[:150], concurrency=8)  # the senders stop; the try is killed: no close
    records: dict[str, Any] = SendJournal(store, "d.t@2026-01-01").recall()
    assert set(keys[:150]) <= set(records)  # every message sent has its intent on the store
    doubt = {key for key, record in records.items() if record.state is State.IN_DOUBT}
    assert len(doubt) <= 8 + 200
