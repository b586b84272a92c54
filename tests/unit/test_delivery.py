"""The delivery model (pure): outcome classification, the record fold, reconcilers, keys, budget, breaker.

The property test plays many tries of a bulk send against a gateway that follows FPT's manual
(the same text to the same phone is refused with 2501 for 5 minutes) and injects every fate a
call can meet: accepted, refused, reply lost, never left, the try killed before or after the
gateway took it, answers lost with the killed try. The subscriber's view is the judge: no key may
reach the phone twice, and no key may end neither delivered nor reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_fptsms.delivery import (
    FPT_DUPLICATE_WINDOW,
    NO_RECONCILER,
    CircuitBreaker,
    KeyRecord,
    Outcome,
    RetryBudget,
    State,
    Step,
    classify,
    fold,
    may_replay,
    operation_key,
    recipient_key,
    replay_verdict,
    state_after,
)
from airflow_provider_fptsms.gateways.errors import (
    DuplicateMessageError,
    GatewayBusyError,
    InvalidPhoneError,
    NetworkError,
    QuotaError,
    RetryableError,
    TokenError,
)


def network(*, sent: bool, timed_out: bool = False) -> NetworkError:
    error = NetworkError("x", gateway="FPT", code="network")
    error.request_sent, error.timed_out = sent, timed_out
    return error


# ------------------------------------------------------------------------------------------ classify


@pytest.mark.parametrize(
    ("error", "outcome", "retryable", "final"),
    [
        (None, Outcome.ACCEPTED, False, False),
        (network(sent=False), Outcome.REFUSED, True, False),
        (network(sent=True), Outcome.UNKNOWN, True, False),
        (network(sent=True, timed_out=True), Outcome.UNKNOWN, True, False),
        (TokenError("t", gateway="FPT", code=1012), Outcome.REFUSED, True, False),
        (GatewayBusyError("busy", gateway="FPT", code=1007, http_status=503), Outcome.REFUSED, True, False),
        (RetryableError("5xx", gateway="FPT", code="HTTP 503", http_status=503), Outcome.UNKNOWN, True, False),
        (RetryableError("busy", gateway="Fibo", code=2, http_status=200), Outcome.REFUSED, True, False),
        (DuplicateMessageError("dup", gateway="FPT", code=2501), Outcome.REFUSED, False, True),
        (InvalidPhoneError("bad", gateway="FPT", code=53), Outcome.REFUSED, False, False),
        (QuotaError("quota", gateway="FPT", code=1016), Outcome.REFUSED, False, False),
        (RuntimeError("bug"), Outcome.UNKNOWN, False, False),
    ],
)
def test_outcomes_come_from_typed_errors_only(error: Any, outcome: Outcome, retryable: bool, final: bool) -> None:
    verdict = classify(error)
    assert (verdict.outcome, verdict.retryable, verdict.final) == (outcome, retryable, final)
    assert verdict.reason


def test_unknown_outcomes_are_replayed_only_where_a_repeat_is_recognised() -> None:
    lost = classify(network(sent=True))
    assert may_replay(lost, replay_safe=True) and not may_replay(lost, replay_safe=False)
    busy = classify(GatewayBusyError("busy", gateway="FPT", code=1007))
    assert may_replay(busy, replay_safe=False)  # the gateway processed nothing: always safe
    assert not may_replay(classify(None), replay_safe=True)


def test_a_2501_is_ours_only_when_it_answers_a_replay() -> None:
    duplicate = DuplicateMessageError("dup", gateway="FPT", code=2501)
    assert replay_verdict(duplicate, replaying=True).outcome is Outcome.ACCEPTED
    first = replay_verdict(duplicate, replaying=False)
    assert (first.outcome, first.final, first.reason) == (Outcome.REFUSED, True, "duplicate_content")
    assert state_after(first) is State.REFUSED


# ------------------------------------------------------------------------------------------ fold


def test_fold_states_and_the_earliest_doubt() -> None:
    entries: list[dict[str, Any]] = [
        {"intent": ["a", "b", "c", "d", "e"], "at": 1000.0},
        {"key": "a", "state": "accepted"},
        {"key": "b", "state": "in_doubt"},
        {"key": "c", "state": "refused"},
        {"key": "e", "state": "refused", "final": True},
        {"intent": ["b"], "at": 1200.0},  # replayed inside the window, lost again
        {"key": "b", "state": "in_doubt"},
        {"intent": ["b"], "at": 1400.0},  # then refused: a refusal clears no earlier doubt
        {"key": "b", "state": "refused"},
    ]
    records = fold(entries)
    assert records["a"].state is State.ACCEPTED and records["a"].done
    assert (records["b"].state, records["b"].doubt_since) == (State.IN_DOUBT, 1000.0)
    assert records["c"].state is State.REFUSED and not records["c"].done
    assert (records["d"].state, records["d"].doubt_since) == (State.IN_DOUBT, 1000.0)  # the try died
    assert records["e"].done and records["e"].state is State.REFUSED
    assert "f" not in records


def test_acceptance_clears_a_doubt_and_stays() -> None:
    records = fold(
        [
            {"intent": ["k"], "at": 1.0},
            {"intent": ["k"], "at": 2.0},  # announced twice without an answer: the first try died
            {"key": "k", "state": "accepted"},
            {"intent": ["k"], "at": 3.0},
            {"key": "k", "state": "refused"},
        ]
    )
    assert records["k"].state is State.ACCEPTED and records["k"].doubt_since is None


@pytest.mark.parametrize(
    ("state", "since", "now", "reconciler", "expected"),
    [
        (State.NEW, None, 0.0, FPT_DUPLICATE_WINDOW, Step.SEND),
        (State.REFUSED, None, 0.0, NO_RECONCILER, Step.SEND),
        (State.ACCEPTED, None, 0.0, NO_RECONCILER, Step.SKIP),
        (State.IN_DOUBT, 1000.0, 1239.0, FPT_DUPLICATE_WINDOW, Step.REPLAY),  # 300 s window, 60 s margin
        (State.IN_DOUBT, 1000.0, 1240.0, FPT_DUPLICATE_WINDOW, Step.HOLD),
        (State.IN_DOUBT, 1000.0, 1001.0, NO_RECONCILER, Step.HOLD),  # Fibo: nothing can tell
    ],
)
def test_steps(state: State, since: float | None, now: float, reconciler: Any, expected: Step) -> None:
    assert reconciler.step(KeyRecord(state=state, doubt_since=since), now) is expected


def test_resend_in_doubt_is_the_explicit_override() -> None:
    record = KeyRecord(state=State.IN_DOUBT, doubt_since=0.0)
    assert NO_RECONCILER.step(record, 1e9, resend_in_doubt=True) is Step.REPLAY


# ------------------------------------------------------------------------------------------ the property

WINDOW = FPT_DUPLICATE_WINDOW.window
#: ``someone_else``: another operation sends the same text to the phone just before this call
FATES = ("accepted", "busy", "lost", "never_left", "kill_before", "kill_after", "permanent", "someone_else")


@dataclass
class Phone:
    """What the subscriber sees, and FPT's duplicate memory (same text, same phone, 5 minutes)."""

    received: int = 0
    ours: int = 0
    accepted_at: float | None = None

    def send(self, now: float, *, ours: bool = True) -> bool:
        """True when FPT accepts (the phone receives it), False for 2501."""
        if self.accepted_at is not None and now - self.accepted_at < WINDOW:
            return False
        self.received += 1
        self.ours += ours
        self.accepted_at = now
        return True


@dataclass
class World:
    journal: list[dict[str, Any]] = field(default_factory=list)
    unflushed: list[dict[str, Any]] = field(default_factory=list)
    phones: dict[str, Phone] = field(default_factory=dict)
    now: float = 0.0
    #: keys that had an attempt whose outcome the try could not learn
    doubted: set[str] = field(default_factory=set)


class Killed(Exception):
    pass


def one_try(world: World, keys: list[str], fates: list[str], lose_unflushed: bool) -> dict[str, Step]:
    """One task try, written with the model's own pieces, as the operators use them."""
    records = fold(world.journal)
    steps = {k: FPT_DUPLICATE_WINDOW.step(records.get(k, KeyRecord()), world.now) for k in keys}
    order = [k for k in keys if steps[k] is Step.REPLAY] + [k for k in keys if steps[k] is Step.SEND]
    fate = iter(fates)
    try:
        for key in order:
            world.journal.append({"intent": [key], "at": world.now})  # written ahead, durably
            chosen = next(fate, "accepted")
            phone = world.phones.setdefault(key, Phone())
            if chosen in ("kill_before", "kill_after", "lost"):
                world.doubted.add(key)
            if chosen == "kill_before":
                raise Killed
            error: BaseException | None
            if chosen == "someone_else":
                phone.send(world.now, ours=False)
                chosen = "accepted"
            if chosen in ("accepted", "lost", "kill_after"):
                error = None if phone.send(world.now) else DuplicateMessageError("dup", gateway="FPT", code=2501)
                if chosen == "kill_after":
                    raise Killed
                if chosen == "lost":
                    error = network(sent=True)
            elif chosen == "busy":
                error = GatewayBusyError("busy", gateway="FPT", code=1007)
            elif chosen == "never_left":
                error = network(sent=False)
            else:
                error = InvalidPhoneError("bad", gateway="FPT", code=53)
            verdict = replay_verdict(error, replaying=steps[key] is Step.REPLAY)
            world.unflushed.append({"key": key, "state": state_after(verdict).value, "final": verdict.final})
            if len(world.unflushed) >= 2:  # flush_every=2
                world.journal += world.unflushed
                world.unflushed = []
    except Killed:
        if lose_unflushed:  # their answers die with the try: to the next one they are in doubt
            world.doubted |= {entry["key"] for entry in world.unflushed}
            world.unflushed = []
    world.journal += world.unflushed
    world.unflushed = []
    return steps


@settings(max_examples=300, deadline=None)
@given(
    tries=st.lists(
        st.tuples(
            st.lists(st.sampled_from(FATES), max_size=8),
            st.booleans(),
            st.sampled_from([0.0, 10.0, 200.0, 250.0, 400.0]),
        ),
        max_size=6,
    )
)
def test_no_interleaving_sends_a_key_twice_or_drops_it_silently(tries: list[tuple[list[str], bool, float]]) -> None:
    world = World()
    keys = [f"k{i}" for i in range(4)]
    for fates, lose, pause in tries:
        one_try(world, keys, fates, lose)
        world.now += pause
    final_steps = one_try(world, keys, [], False)  # a last clean try
    records = fold(world.journal)
    for key in keys:
        phone = world.phones.get(key, Phone())
        assert phone.received <= 1, f"{key}'s text reached the phone {phone.received} times"
        record = records[key]
        if record.state is State.ACCEPTED:
            assert phone.received == 1, f"{key} recorded as delivered, but the phone never got the text"
            # FPT's 2501 cannot say whose text it holds: only a replay of a doubt may count it as ours
            assert phone.ours == 1 or key in world.doubted, f"{key}: someone else's text reported as ours"
        elif record.final:  # duplicate_content: the phone holds the text, from someone else
            assert phone.received == 1 and phone.ours == 0, key
        else:  # not delivered by the record: it must be reported, never dropped
            assert record.state is State.IN_DOUBT and final_steps[key] is Step.HOLD, (key, record)


# ------------------------------------------------------------------------------------------ keys, budget, breaker


def test_the_default_key_follows_the_logical_date_not_the_run() -> None:
    a = operation_key(dag_id="d", task_id="t", map_index=-1, logical_date="2026-06-01T00:00:00+00:00", run_id="r1")
    b = operation_key(dag_id="d", task_id="t", map_index=-1, logical_date="2026-06-01T00:00:00+00:00", run_id="r2")
    assert a == b == "d.t@2026-06-01T00:00:00+00:00"
    assert operation_key(dag_id="d", task_id="t", map_index=3, logical_date=None, run_id="r1") == "d.t[3]@run:r1"
    rid = recipient_key(a, "84912345678")
    assert rid == recipient_key(a, "84912345678") != recipient_key(a, "84912345679")
    assert len(rid) <= 100 and "84912345678" not in rid and rid.startswith("d.t-")
    assert len(recipient_key("x" * 500, "8491")) <= 100


def test_the_retry_budget_is_written_down() -> None:
    budget = RetryBudget(http_attempts=5, backoff=0.5, timeout=30, chunk_attempts=3, reconcile_reads=30, task_tries=3)
    table = budget.table()
    assert table["seconds_per_call"] == 5 * 30 + (0.5 + 1 + 2 + 4)
    assert table["cskh_requests_per_message"] == 15
    assert table["push_requests_per_chunk"] == (3 * 5 + 2 * (29 + 5)) * 3
    assert table["push_seconds_per_chunk"] > table["seconds_per_call"]


def test_the_breaker_opens_on_a_run_of_transport_failures_only() -> None:
    breaker = CircuitBreaker(3)
    for _ in range(2):
        breaker.record(network(sent=False))
    breaker.record(InvalidPhoneError("bad", gateway="FPT", code=53))  # the gateway answered: the run restarts
    assert not breaker.open
    for _ in range(2):
        breaker.record(network(sent=True))
    assert not breaker.open
    breaker.record(TokenError("t", gateway="FPT", code=1011))
    assert breaker.open and breaker.consecutive == 3
    breaker.record(None)
    assert not breaker.open


def test_a_send_result_as_a_dict_has_every_field() -> None:
    from dataclasses import asdict

    from airflow_provider_fptsms.hooks.results import SendResult

    result = SendResult.ok("84912345678", "rid", "mid", "vina")
    assert result.as_dict() == {**asdict(result), "status": "sent"}
