"""The send journal on an object store: intents written ahead of the senders and answers riding along.

The store is faked by a local folder whose journal writes segments as it would on S3 (``appends``
off), each write made to take ``PUT_SECONDS`` as a PUT does. What must hold, whatever the batching:
a message's intent is on the store before its request leaves; a killed try leaves in doubt no more
than before (the calls in flight and ``flush_every``); a try that ends without being killed leaves
nothing it wrote ahead in doubt.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_fptsms.delivery import FPT_DUPLICATE_WINDOW, State, Step
from airflow_provider_fptsms.hooks.fpt_async import CskhMessage
from airflow_provider_fptsms.hooks.results import SendResult
from airflow_provider_fptsms.operators.send import FptSendSmsOperator, TryDelivery
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.state import SendJournal, StateStore
from tests.operators.conftest import make_context

pytestmark = pytest.mark.exactly_once

PUT_SECONDS = 0.02


_SEEN: dict[Path, set[str]] = {}


def written_intents(folder: Path) -> set[str]:
    """Every key whose intent a segment on the store holds (a segment appears whole: temp file + rename,
    and never changes after: each is read once)."""
    keys: set[str] = set()
    for segment in folder.rglob("*.jsonl"):
        if segment not in _SEEN:
            lines = (json.loads(line) for line in segment.read_text().splitlines())
            _SEEN[segment] = {key for entry in lines for key in entry.get("intent", ())}
        keys |= _SEEN[segment]
    return keys


@pytest.fixture
def object_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every journal writes segments, as on an object store, each write taking a PUT's time; yields the
    number of segment writes so far (one PUT each)."""
    writes = [0]
    init, write = SendJournal.__init__, SendJournal._write

    def segments(self: SendJournal, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.appends = False

    def slow_write(self: SendJournal, entries: list[dict[str, Any]]) -> Any:
        if entries:
            time.sleep(PUT_SECONDS)
            writes[0] += 1
        return write(self, entries)

    monkeypatch.setattr(SendJournal, "__init__", segments)
    monkeypatch.setattr(SendJournal, "_write", slow_write)
    yield writes


def test_every_intent_is_on_the_store_before_its_request_leaves(
    fptsms_sandbox: SandboxHandle, object_store: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked where the request leaves (the hook's HTTP post), against what the store holds at that moment."""
    from airflow_provider_fptsms.hooks.fpt_async import FptSmsAsyncHook

    post = FptSmsAsyncHook._post
    checked: list[str] = []

    async def checking_post(self: FptSmsAsyncHook, session: Any, request: Any, *args: Any) -> Any:
        key = request.body.get("RequestId") if isinstance(request.body, dict) else None
        if key is not None:
            assert key in written_intents(tmp_path / "state"), "a request left before its intent was written"
            checked.append(key)
        return await post(self, session, request, *args)

    monkeypatch.setattr(FptSmsAsyncHook, "_post", checking_post)
    n, concurrency = 400, 16
    phones = [f"0912{i:06d}" for i in range(n)]
    summary = FptSendSmsOperator(
        task_id="send", phones=phones, message="Ma OTP 8080", max_concurrency=concurrency
    ).execute(make_context())
    assert summary["sent"] == n and len(set(checked)) == n
    assert object_store[0] < n / concurrency  # fewer PUTs than one per round of the senders
    ledger = fptsms_sandbox.admin.summary()
    assert (ledger["total"], ledger["duplicates"]) == (n, 0)
    again = FptSendSmsOperator(task_id="send", phones=phones, message="Ma OTP 8080").execute(make_context())
    assert (again["sent"], again["already_sent"]) == (0, n)  # every answer reached the store


def _senders(
    delivery: TryDelivery,
    keys: list[str],
    folder: Path,
    *,
    concurrency: int,
    send_seconds: float,
    stop_after: int | None = None,
    watch: Callable[[int], None] | None = None,
) -> list[str]:
    """What ``send_cskh_many`` does with ``delivery``: senders taking messages in order, the write-ahead
    awaited before each "request", which checks the store; returns the keys sent."""
    sent: list[str] = []
    queue = iter(keys)

    async def worker() -> None:
        for key in queue:
            if stop_after is not None and len(sent) >= stop_after:
                return  # taken from the iterator, never announced: as the hook does once stopped
            assert await delivery.before_send_async(CskhMessage("84912000000", "t", key))
            assert key in written_intents(folder), f"{key} would be sent before its intent was written"
            sent.append(key)
            if watch is not None:
                watch(len(sent))
            await asyncio.sleep(send_seconds)
            delivery.on_result(0, SendResult.ok("84912000000", key, "m", "viettel"))

    async def run() -> None:
        await asyncio.gather(*(worker() for _ in range(concurrency)))

    asyncio.run(run())
    return sent


def _delivery(tmp_path: Path, keys: list[str], **journal: Any) -> tuple[TryDelivery, Path]:
    store = StateStore(tmp_path / "state")
    delivery = TryDelivery(SendJournal(store, "d.t@2026-01-01", **journal), {}, set(), {}, keys)
    return delivery, tmp_path / "state"


def test_a_killed_try_leaves_in_doubt_no_more_than_the_calls_in_flight_and_one_flush(
    object_store: list[int], tmp_path: Path
) -> None:
    keys = [f"k{i:04d}" for i in range(3000)]
    concurrency, flush_every = 32, 200
    delivery, folder = _delivery(tmp_path, keys, flush_every=flush_every)
    sent = _senders(delivery, keys, folder, concurrency=concurrency, send_seconds=0.005, stop_after=1500)
    # killed: no close, so the answers in memory and the release of what was written ahead are lost
    records = SendJournal(StateStore(folder), "d.t@2026-01-01").recall()
    assert all(key in records for key in sent)  # nothing went out unrecorded
    doubt = {key for key, record in records.items() if record.state is State.IN_DOUBT}
    assert len(doubt) <= concurrency + flush_every
    assert len(doubt - set(sent)) <= flush_every  # written ahead, never sent
    assert {key for key, record in records.items() if record.state is State.ACCEPTED} >= set(sent) - doubt
    assert len(records) < len(keys)  # nothing written far ahead of the senders


def test_a_try_that_ends_without_a_kill_leaves_nothing_it_wrote_ahead_in_doubt(
    object_store: list[int], tmp_path: Path
) -> None:
    keys = [f"k{i:04d}" for i in range(1000)]
    delivery, folder = _delivery(tmp_path, keys)
    sent = _senders(delivery, keys, folder, concurrency=16, send_seconds=0.002, stop_after=400)
    delivery.close()  # the hook stopped (an error, the breaker): the try ends and says so
    records = SendJournal(StateStore(folder), "d.t@2026-01-01").recall()
    assert {key for key, record in records.items() if record.state is State.ACCEPTED} == set(sent)
    ahead = set(records) - set(sent)
    assert ahead  # some were written ahead
    for key in ahead:  # and are free for the next try: the request never left
        assert records[key].state is State.REFUSED and records[key].result["status"] == "not_sent"
        assert FPT_DUPLICATE_WINDOW.step(records[key], time.time()) is Step.SEND


def test_at_a_slow_pace_what_is_written_ahead_is_about_a_second_of_sending(
    object_store: list[int], tmp_path: Path
) -> None:
    """4 senders of 40 ms: at most 100 messages a second, so the window stays near 100, below flush_every."""
    keys = [f"k{i:04d}" for i in range(300)]
    delivery, folder = _delivery(tmp_path, keys, flush_every=200)
    widest = [0]

    def watch(sent: int) -> None:
        widest[0] = max(widest[0], len(written_intents(folder)) - sent)

    sent = _senders(delivery, keys, folder, concurrency=4, send_seconds=0.04, watch=watch)
    delivery.close()
    assert len(sent) == len(keys)
    assert 4 < widest[0] <= 100 + 2 * 4  # ahead of the senders, by about a second of them
    assert object_store[0] < len(keys) / 4  # and in fewer PUTs than one per round of the senders


def test_an_answer_carried_by_two_segments_counts_once(tmp_path: Path) -> None:
    """A segment carries every answer not yet known on the store: the same answer read twice must not
    move a doubt's start (a second ``in_doubt`` with no intent open would date it from 0: held, not replayed)."""
    journal = SendJournal(StateStore(tmp_path), "d.t@2026-01-01")
    journal.appends = False
    journal.intend(["k"])
    answer = {"state": "in_doubt", "status": "in_doubt", "key": "k", "at": time.time()}
    journal.segment([], [answer])
    journal.segment([], [dict(answer)])  # the same answer, carried again
    record = SendJournal(StateStore(tmp_path), "d.t@2026-01-01").recall()["k"]
    assert record.state is State.IN_DOUBT and record.doubt_since is not None and record.doubt_since > 1e9


def test_the_answers_of_a_write_that_failed_reach_the_store_with_a_later_one(
    object_store: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"k{i:04d}" for i in range(600)]
    delivery, folder = _delivery(tmp_path, keys)
    segment, calls, refused = SendJournal.segment, [0], [0]

    def one_fails(self: SendJournal, intents: list[str], answers: list[dict[str, Any]], **kwargs: Any) -> Any:
        calls[0] += 1
        if answers and not refused[0]:  # the first write with answers in it: the store refuses it
            refused[0] = len(answers)
            time.sleep(PUT_SECONDS)
            raise OSError("503 Slow Down")
        return segment(self, intents, answers, **kwargs)

    monkeypatch.setattr(SendJournal, "segment", one_fails)
    sent: list[str] = []
    queue = iter(keys)

    async def worker() -> None:
        for key in queue:
            try:
                await delivery.before_send_async(CskhMessage("84912000000", "t", key))
            except OSError:
                continue  # its intent was not written: not sent (the hook's sender would stop here)
            sent.append(key)
            await asyncio.sleep(0.002)
            delivery.on_result(0, SendResult.ok("84912000000", key, "m", "viettel"))

    async def run() -> None:
        await asyncio.gather(*(worker() for _ in range(16)))

    asyncio.run(run())
    assert refused[0] and calls[0] > 3 and len(sent) > 500
    delivery.close()
    records = SendJournal(StateStore(folder), "d.t@2026-01-01").recall()
    assert {key for key, record in records.items() if record.state is State.ACCEPTED} == set(sent)
    assert not {key for key, record in records.items() if record.state is State.IN_DOUBT}
