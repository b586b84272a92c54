"""The delivery model: never twice, never lost, never green-with-nothing — in one place, one vocabulary.

Theory of operation
===================
Every gateway call that can send or create (a CSKH message, a Fibo SMS, a QC campaign, a push
chunk) is an **intent** with an **idempotency key**: the business operation, not Airflow's run
(see :func:`operation_key`). It goes through three steps, always the same:

1. **Write ahead.** Before the call, the intent is made durable (state ``intended``). A try that
   dies after this write and before the answer leaves the key ``intended``, which the next try
   reads as ``in_doubt``. On a local journal nothing is written ahead of time for keys that are not
   about to go out, so a message that never left is never in doubt; a journal on an object store
   writes a bounded window of the next keys ahead in one PUT (``state.SendJournal`` states the bound),
   and a try that ends without being killed marks those it did not send as never sent.
2. **Classify the answer** with :func:`classify`, from typed errors only:

   - ``accepted``: the gateway acknowledged it;
   - ``refused``: the gateway said it did not take it, or the request never left (connection
     refused, DNS, 1007 "temporarily unable to process", a token refusal);
   - ``unknown``: it may have arrived and the reply cannot tell (reply lost, timeout after
     sending, a 5xx after the request arrived).

   The key becomes ``accepted``, ``refused`` or ``in_doubt``. Accepted is final. A refusal may be
   tried again, except a *final* one (FPT 2501 for a text we never sent: the phone already holds
   that text, so sending it later would be the duplicate we promise never to make).
3. **Reconcile what is in doubt** before anything is sent again, with the gateway's own evidence
   (a :class:`Reconciler`):

   - CSKH (:data:`FPT_DUPLICATE_WINDOW`): FPT refuses the same text to the same phone for 5 minutes
     (2501). Replaying inside that window is safe: a 2501 answer then means the earlier attempt
     landed. After the window the key is *held back* and reported, never sent blindly.
   - QC push chunks: ``detail-ads`` Total counts the phones the campaign holds
     (:func:`chunk_landed`).
   - Fibo (:data:`NO_RECONCILER`): the manual offers no evidence, so a lost reply is reported
     ``in_doubt`` and never replayed (``resend_in_doubt`` is the explicit human override).

Records live in the durable journal (``state.py``) keyed by the idempotency key, so "already
sent" comes from our own record for as long as the record lives, not from FPT's 5 minutes.

What a killed try may leave in doubt: the calls in flight (at most the concurrency) plus, for
bulk sends on an object store, at most ``flush_every`` more (and about one second of sending at a
slower pace): answers not yet written, and keys written ahead and not yet sent.

Retries multiply across layers; :class:`RetryBudget` states the whole stack's worst case. A bulk
send stops once the gateway looks unreachable (:class:`CircuitBreaker`) instead of retrying every row.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from airflow_provider_fptsms.gateways.errors import (
    DuplicateMessageError,
    GatewayBusyError,
    NetworkError,
    SmsError,
    TokenError,
)


class Outcome(str, Enum):
    """What one call's answer says happened."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    """The classified answer of one call: the outcome, why, and whether the same call may go again."""

    outcome: Outcome
    reason: str
    #: the same request may be tried again now (refused for a passing reason, or unknown)
    retryable: bool = False
    #: a refusal that must stand: sending later would duplicate what the phone already has
    final: bool = False


ACCEPTED = Verdict(Outcome.ACCEPTED, "acknowledged by the gateway")


def classify(error: BaseException | None) -> Verdict:
    """The outcome of a call from its typed error (None: it succeeded). Never reads gateway text."""
    if error is None:
        return ACCEPTED
    if isinstance(error, NetworkError):
        if not error.request_sent:
            return Verdict(Outcome.REFUSED, "the request never left (connection refused or name not resolved)", True)
        why = "timed out after the request was sent" if error.timed_out else "the reply was lost"
        return Verdict(Outcome.UNKNOWN, why, True)
    if isinstance(error, TokenError):
        return Verdict(Outcome.REFUSED, "the token was refused", True)
    if isinstance(error, GatewayBusyError):
        return Verdict(Outcome.REFUSED, "the gateway said it processed nothing (busy)", True)
    if isinstance(error, DuplicateMessageError):
        return Verdict(Outcome.REFUSED, "duplicate_content", final=True)
    if isinstance(error, SmsError):
        if error.retryable and (error.http_status or 0) >= 500:
            return Verdict(Outcome.UNKNOWN, f"HTTP {error.http_status} after the request arrived", True)
        return Verdict(Outcome.REFUSED, str(error.code if error.code is not None else "refused"), error.retryable)
    return Verdict(Outcome.UNKNOWN, f"unexpected {type(error).__name__} during the call")


def may_replay(verdict: Verdict, *, replay_safe: bool) -> bool:
    """May the same call go again inside this try? Refusals that may pass: yes. Unknown: only when
    a replay cannot duplicate (the gateway recognises a repeat, e.g. FPT's 5-minute window)."""
    if verdict.outcome is Outcome.REFUSED:
        return verdict.retryable
    if verdict.outcome is Outcome.UNKNOWN:
        return verdict.retryable and replay_safe
    return False


def replay_verdict(error: BaseException | None, *, replaying: bool) -> Verdict:
    """:func:`classify` for a call that may repeat an earlier attempt of the same key.

    FPT's 2501 says the phone holds this exact text from the last 5 minutes. When this call
    replays an attempt whose outcome was unknown, that text is ours: the earlier attempt landed.
    When it is the first attempt, the text is someone else's, and ours was not sent.
    """
    if replaying and isinstance(error, DuplicateMessageError):
        return Verdict(Outcome.ACCEPTED, "reconciled: the gateway already holds this text from our earlier attempt")
    return classify(error)


# ---------------------------------------------------------------------------------------------- states


class State(str, Enum):
    """Where one key stands in the durable record."""

    NEW = "new"  # never intended
    INTENDED = "intended"  # written ahead; no answer yet (the try died, or is still running)
    ACCEPTED = "accepted"
    REFUSED = "refused"
    IN_DOUBT = "in_doubt"


def state_after(verdict: Verdict) -> State:
    return {
        Outcome.ACCEPTED: State.ACCEPTED,
        Outcome.REFUSED: State.REFUSED,
        Outcome.UNKNOWN: State.IN_DOUBT,
    }[verdict.outcome]


@dataclass
class KeyRecord:
    """One key folded from the journal: its state and, when in doubt, since when (the store's clock)."""

    state: State = State.NEW
    #: when the earliest attempt that may have landed unseen was written ahead
    doubt_since: float | None = None
    #: the last result recorded for the key (status, message id, error...)
    result: dict[str, Any] = field(default_factory=dict)
    final: bool = False
    #: the attempt currently open (written ahead, not answered), and when
    open_since: float | None = None

    @property
    def done(self) -> bool:
        """Nothing more to send: accepted, or a refusal that must stand."""
        return self.state is State.ACCEPTED or self.final

    def intend(self, at: float) -> None:
        if self.done:
            return
        if self.open_since is not None:  # announced again with no answer in between: the try died
            self._doubt(self.open_since)
        self.open_since = at
        if self.state is not State.IN_DOUBT:
            self.state = State.INTENDED

    def answer(self, state: State, result: dict[str, Any], *, final: bool = False) -> None:
        """Close the open attempt with its answer. Only acceptance clears a doubt."""
        # no write-ahead seen for it: the doubt is as old as it can be (nothing is replayed on a guess)
        started = self.open_since if self.open_since is not None else 0.0
        self.open_since = None
        if self.state is State.ACCEPTED:
            return
        if state is State.ACCEPTED:
            self.state, self.result, self.doubt_since, self.final = State.ACCEPTED, result, None, False
        elif state is State.IN_DOUBT:
            self._doubt(started)
            self.result = result
        elif self.state is not State.IN_DOUBT:  # a refusal clears nothing earlier
            self.state, self.result, self.final = State.REFUSED, result, final

    def close(self) -> None:
        """End of the journal: an attempt still open was cut off by a dead try."""
        if self.open_since is not None:
            self._doubt(self.open_since)
            self.open_since = None

    def _doubt(self, since: float) -> None:
        self.state = State.IN_DOUBT
        self.doubt_since = since if self.doubt_since is None else min(self.doubt_since, since)


def fold(entries: Iterable[Mapping[str, Any]]) -> dict[str, KeyRecord]:
    """Replay journal entries (in write order) into one :class:`KeyRecord` per key.

    Two entry shapes: ``{"intent": [keys], "at": t}`` (written ahead) and
    ``{"key": k, "state": "accepted" | "refused" | "in_doubt", "final": bool, "at": t, ...}``.
    """
    records: dict[str, KeyRecord] = {}
    for entry in entries:
        if "intent" in entry:
            at = float(entry.get("at") or 0.0)
            for key in entry["intent"]:
                records.setdefault(key, KeyRecord()).intend(at)
            continue
        key = entry["key"]
        records.setdefault(key, KeyRecord()).answer(State(entry["state"]), dict(entry), final=bool(entry.get("final")))
    for record in records.values():
        record.close()
    return records


# ---------------------------------------------------------------------------------------------- reconcilers


class Step(str, Enum):
    """What to do with a key on this try."""

    SEND = "send"  # never sent, or refused for a passing reason
    SKIP = "skip"  # accepted (or finally refused): nothing to do
    REPLAY = "replay"  # in doubt, and a replay is safe: the gateway recognises a repeat
    HOLD = "hold"  # in doubt, and nothing can tell: report it, send nothing


@dataclass(frozen=True)
class Reconciler:
    """How long the gateway recognises a repeat of a doubtful send (0: never, nothing can tell).

    ``margin`` covers the time between our write-ahead and the gateway's receipt, and the
    difference between the store's clock and the gateway's.
    """

    name: str
    window: float = 0.0
    margin: float = 60.0

    def replay_until(self, since: float) -> float | None:
        """The store-clock time until which a replay of a key in doubt since ``since`` is safe."""
        if self.window <= 0:
            return None
        return since + self.window - self.margin

    def step(self, record: KeyRecord | None, now: float, *, resend_in_doubt: bool = False) -> Step:
        """What to do with a key on this try; ``record`` None: the journal has never seen it."""
        if record is None:
            return Step.SEND
        if record.done:
            return Step.SKIP
        if record.state in (State.NEW, State.REFUSED):
            return Step.SEND
        if resend_in_doubt:
            return Step.REPLAY
        until = self.replay_until(record.doubt_since or 0.0)
        return Step.REPLAY if until is not None and now < until else Step.HOLD


def needs_clock(records: Mapping[str, KeyRecord]) -> bool:
    """Only a key in doubt makes "now" matter (a replay's window): read the store's clock only then."""
    return any(record.state is State.IN_DOUBT for record in records.values())


#: FPT: "2501 or 1: Duplicate message in 5 minutes" (same phone, same text).
FPT_DUPLICATE_WINDOW = Reconciler("fpt-duplicate-window", window=300.0)
#: Fibo: no duplicate rule the client can rely on.
NO_RECONCILER = Reconciler("none")


def chunk_landed(total: int, mine: Any, others: Sequence[Any]) -> bool | None:
    """Push reconciler: did ``mine.in_flight`` land, judging by detail-ads ``total`` and every push record?

    Total = what the campaign held before any of these pushes (the earliest baseline: each range
    measures before it pushes) + every acknowledged chunk + whichever in-flight chunks landed. The
    chunk landed if every way of explaining the surplus includes it, did not if none does; None
    when both fit (two equal chunks in flight) or neither does (someone else pushed).
    """
    assert mine.in_flight is not None
    records = [mine, *others]
    baseline = min(r.baseline_total for r in records if r.baseline_total is not None)
    surplus = total - baseline - sum(r.pushed_rows for r in records)
    pending = [r.in_flight.rows for r in others if r.in_flight is not None]
    if len(pending) > 16:
        return None
    sums = {0}
    for rows in pending:
        sums |= {s + rows for s in sums}
    with_mine, without = surplus - mine.in_flight.rows in sums, surplus in sums
    return None if with_mine == without else with_mine


# ---------------------------------------------------------------------------------------------- keys

_READABLE = re.compile(r"[^A-Za-z0-9._-]+")


def operation_key(
    *, dag_id: str, task_id: str, map_index: int | None, logical_date: str | None, run_id: str | None
) -> str:
    """The default idempotency key: the business operation, which outlives Airflow's run id.

    A re-trigger or ``dags test`` of the same logical date makes a new run id but the same key.
    Runs without a logical date (Airflow 3 allows them) fall back to the run id.
    """
    when = logical_date if logical_date else f"run:{run_id}"
    index = "" if map_index in (None, -1) else f"[{map_index}]"
    return f"{dag_id}.{task_id}{index}@{when}"


def recipient_key(operation: str, recipient: str, secret: str | bytes | None = None) -> str:
    """The per-message key (sent as FPT's RequestId, Fibo's smsGUID): <= 100 chars, same input -> same id.

    A readable head for tracing in the gateway's reports, then a digest of operation + recipient, keyed with
    ``secret`` (the connection's own secret): an unkeyed digest next to a masked phone (3 digits hidden) would
    give the number back in a thousand guesses to anyone who reads a log or a report.
    """
    message = f"{operation}\x1f{recipient}".encode()
    if secret:
        key = secret.encode() if isinstance(secret, str) else secret
        digest = hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
    else:
        digest = hashlib.sha256(message).hexdigest()[:32]
    return f"{_key_head(operation)}-{digest}"


@lru_cache(maxsize=64)
def _key_head(operation: str) -> str:
    """``dag.task`` of an operation key, file-name safe (computed once per operation, not per phone)."""
    return _READABLE.sub("_", operation.split("@", 1)[0])[:40]


# ---------------------------------------------------------------------------------------------- budget


@dataclass(frozen=True)
class RetryBudget:
    """Every retry layer of the stack, multiplied out, so the worst case is written down, not discovered.

    :param http_attempts: tries of one HTTP call (connection extra ``max_attempts``).
    :param backoff: backoff base in seconds (connection extra ``backoff``); waits are random
        exponential, capped at ``32 * backoff``.
    :param timeout: seconds per HTTP attempt (connection extra ``timeout``).
    :param chunk_attempts: tries of one push chunk within one task try.
    :param reconcile_reads: detail-ads reads to reconcile one chunk whose reply was lost.
    :param task_tries: Airflow tries of the task (``retries + 1``).
    """

    http_attempts: int = 5
    backoff: float = 0.5
    timeout: float = 30.0
    chunk_attempts: int = 3
    reconcile_reads: int = 30
    task_tries: int = 3

    def call_seconds(self) -> float:
        """Worst case of one hook call: every attempt times out, every wait is the longest."""
        waits = sum(min(self.backoff * 2**n, 32 * self.backoff) for n in range(self.http_attempts - 1))
        return self.http_attempts * self.timeout + waits

    def cskh_sends_per_message(self) -> int:
        """Requests that may carry one CSKH message, all tries together. Replays happen only inside
        FPT's duplicate window, so however many there are, the phone receives the text once."""
        return self.http_attempts * self.task_tries

    def fibo_sends_per_message(self) -> int:
        """Fibo: a send whose outcome is unknown is never replayed, so only refusals are retried."""
        return self.http_attempts * self.task_tries

    def _reconcile_reads(self) -> int:
        """A reconciliation re-reads Total while other ranges write (``reconcile_reads`` at most); a read
        that fails after its own HTTP attempts ends it (the try fails, nothing is re-sent)."""
        return (self.reconcile_reads - 1) + self.http_attempts

    def push_calls_per_chunk(self) -> int:
        """Requests for one push chunk, all tries: every chunk attempt after the first may reconcile first."""
        per_try = self.chunk_attempts * self.http_attempts + (self.chunk_attempts - 1) * self._reconcile_reads()
        return per_try * self.task_tries

    def push_chunk_seconds(self) -> float:
        per_attempt = self.call_seconds() + self.timeout  # a timed-out chunk waits as long again
        reconcile = (self.reconcile_reads - 1) * (1.0 + self.timeout) + self.call_seconds()
        return self.task_tries * (self.chunk_attempts * per_attempt + (self.chunk_attempts - 1) * reconcile)

    def table(self) -> dict[str, float]:
        return {
            "seconds_per_call": self.call_seconds(),
            "cskh_requests_per_message": self.cskh_sends_per_message(),
            "fibo_requests_per_message": self.fibo_sends_per_message(),
            "push_requests_per_chunk": self.push_calls_per_chunk(),
            "push_seconds_per_chunk": self.push_chunk_seconds(),
        }


# ---------------------------------------------------------------------------------------------- breaker


class CircuitBreaker:
    """Opens after ``threshold`` consecutive calls that never reached a gateway that answers.

    Transport failures and token refusals count; any answer from the gateway (accepted or a
    per-message refusal) resets the run. Once open, a bulk send takes no new message and
    retries nothing: an unreachable gateway costs seconds and one error, not a retry loop per row.
    """

    def __init__(self, threshold: int = 10) -> None:
        self.threshold = max(1, threshold)
        self.consecutive = 0
        self.last_error: SmsError | None = None

    @staticmethod
    def counts(error: BaseException) -> bool:
        return isinstance(error, (NetworkError, TokenError)) or (
            isinstance(error, SmsError) and error.retryable and (error.http_status or 0) >= 500
        )

    def record(self, error: BaseException | None) -> None:
        if error is not None and self.counts(error):
            self.consecutive += 1
            self.last_error = error if isinstance(error, SmsError) else None
        else:
            self.consecutive = 0

    @property
    def open(self) -> bool:
        return self.consecutive >= self.threshold
