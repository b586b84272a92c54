"""Durable records of QC campaigns: which campaign a run created, and which phone chunks FPT acknowledged.

Why files and not Airflow Variables: a push of a million phones writes a record after every
chunk; small JSON objects on ``ObjectStoragePath`` (a local folder by default, ``s3://`` or
``gs://`` when the deployment has several workers) keep that traffic out of the metadata
database, survive task retries and DAG re-runs, and can be read by a person.

Safety rules:
- every write replaces the whole record atomically (temp file + rename locally; a single
  object PUT on object stores), so a killed task never leaves half a record;
- every record carries a ``version`` and the try that owns it: ``save`` refuses to write
  over a newer version (``StateConflictError``), so a zombie try cannot corrupt the record
  that its successor is writing. On a local disk the check and the write happen under one
  exclusive lock, so two writers can never both pass it; object stores offer no portable
  conditional PUT, so there the check narrows the window but cannot close it.

Requests on object stores: a record's write is one GET (the version check) and one PUT; its folder is
made once per store, not before every write (a prefix needs no folder; ``mkdir`` costs a request).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_fptsms.delivery import KeyRecord, fold
from airflow_provider_fptsms.gateways.errors import SmsError

#: Where records live unless an operator says otherwise (``state_path=``) or this env var is set.
STATE_PATH_ENV = "FPTSMS_STATE_PATH"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StateConflictError(SmsError):
    """Another try or run wrote this record since we read it: stop instead of overwriting it."""


@dataclass
class Creation:
    """``create-campaign`` for one campaign name, as a delivery-model record: ``state`` goes
    intended (written before the call) -> accepted (with its code) | refused | in_doubt (reply lost)."""

    name: str
    requested_name: str = ""
    campaign_code: str | None = None
    schedule_time: str = ""
    quota: int = 0
    message_sha256: str = ""
    #: names used by earlier attempts whose reply was lost (campaigns that may exist, empty)
    abandoned_names: list[str] = field(default_factory=list)
    state: str = "new"
    #: the idempotency key of the operation that created it (a campaign belongs to one operation)
    operation: str = ""
    version: int = 0
    owner: str = ""
    updated_at: float = 0.0


@dataclass
class Chunk:
    index: int
    #: the first position (1-based, among the range's unique valid phones) this chunk covers
    first_row: int
    #: phones pushed in this chunk
    rows: int
    batch_id: str
    messages: int
    remain_quota: int | None
    #: positions covered, when some were not pushed (suppressed or capped); 0: ``rows`` (records before it)
    span: int = 0

    @property
    def covered(self) -> int:
        return self.span or self.rows


@dataclass
class PushProgress:
    """Acknowledged chunks of one push (a campaign code and an optional row range)."""

    key: str
    campaign_code: str
    chunks: list[Chunk] = field(default_factory=list)
    #: the chunk written ahead and not yet answered (state "intended"; "in_doubt" once its reply was
    #: lost): a successor reconciles it with detail-ads Total before anything is pushed again
    in_flight: Chunk | None = None
    #: detail-ads Total before this push started (other pushes to the same campaign)
    baseline_total: int | None = None
    version: int = 0
    owner: str = ""
    updated_at: float = 0.0

    @property
    def pushed_rows(self) -> int:
        return sum(chunk.rows for chunk in self.chunks)

    @property
    def covered_rows(self) -> int:
        """Positions the acknowledged chunks cover, those pushed and those skipped between them: a retry
        starts after them (chunks are contiguous)."""
        return sum(chunk.covered for chunk in self.chunks)

    @property
    def remain_quota(self) -> int | None:
        return self.chunks[-1].remain_quota if self.chunks else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PushProgress:
        chunks = [Chunk(**c) for c in data.pop("chunks", [])]
        in_flight = data.pop("in_flight", None)
        return cls(chunks=chunks, in_flight=Chunk(**in_flight) if in_flight else None, **data)


def default_state_path() -> str:
    configured = os.environ.get(STATE_PATH_ENV)
    if configured:
        return configured
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(home, "fptsms", "state")


def safe_key(text: str) -> str:
    """A file name for any campaign name/code (codes contain '=' and '/'): readable part + hash."""
    readable = _UNSAFE.sub("_", text)[:60]
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def is_local(path: Any) -> bool:
    return path.protocol in ("", "file", "local")


@contextmanager
def _exclusive(path: Any) -> Iterator[None]:
    """Hold an exclusive lock on ``.<name>.lock`` next to a local record (no-op on object stores)."""
    if not is_local(path):
        yield
        return
    import fcntl

    with open(os.path.join(os.path.dirname(path.path), f".{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also if the process dies
        yield


#: protocols served by s3fs, whose whole-object read asks HEAD for the size before its GET unless told not to
_S3 = ("s3", "s3a", "s3n")


def _read_text(path: Any) -> str | None:
    """The object's text, None when there is none; on S3 one request (a GET), not HEAD + GET."""
    try:
        if path.protocol in _S3:
            try:
                return bytes(path.fs.cat_file(path.path, max_concurrency=1)).decode()
            except TypeError:  # an s3fs without the parameter (before 2024.12)
                pass
        return str(path.read_text())
    except FileNotFoundError:
        return None


def _replace(path: Any, text: str) -> None:
    """Write ``text`` as the whole object at ``path``: readers see the old object or the new one, never half."""
    if is_local(path):
        temp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
        temp.write_text(text)
        temp.replace(path)  # atomic on one filesystem
    else:
        path.write_text(text)  # one PUT: object stores never show half an object


class StateStore:
    """JSON records under ``base`` (any ``ObjectStoragePath`` URL or a local folder)."""

    def __init__(self, base: Any = None) -> None:
        from airflow.sdk import ObjectStoragePath

        self.base = ObjectStoragePath(str(base) if base is not None else default_state_path())
        self._made: set[str] = set()  # folders made by this store (made once: on S3 each mkdir is a request)

    def _path(self, kind: str, key: str) -> Any:
        return self.base / kind / f"{safe_key(key)}.json"

    def _mkdir(self, folder: Any) -> None:
        if is_local(folder) or str(folder) not in self._made:  # a local folder may be removed meanwhile
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(str(folder))

    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        text = _read_text(self._path(kind, key))
        return None if text is None else dict(json.loads(text))

    def _write(self, kind: str, key: str, record: Any, expected_version: int, owner: str) -> None:
        path = self._path(kind, key)
        self._mkdir(path.parent)
        with _exclusive(path):
            self._check_and_write(kind, key, path, record, expected_version, owner)

    def _check_and_write(self, kind: str, key: str, path: Any, record: Any, expected_version: int, owner: str) -> None:
        current = self._read(kind, key)
        found = int(current.get("version", 0)) if current else 0
        if found != expected_version:
            raise StateConflictError(
                f"{kind} record {key!r} is at version {found}, expected {expected_version} "
                f"(last written by {current.get('owner') if current else '?'})",
                next_step="another try or DAG run is working on this campaign; let it finish or clear it first",
            )
        record.version = expected_version + 1
        record.owner = owner
        record.updated_at = time.time()
        _replace(path, json.dumps(asdict(record), ensure_ascii=False, indent=1))

    # ---------------------------------------------------------------- creations

    def creation(self, name: str) -> Creation | None:
        data = self._read("creations", name)
        if not data:
            return None
        if "in_flight" in data:  # a record from before the delivery model
            data["state"] = (
                "intended" if data.pop("in_flight") else ("accepted" if data.get("campaign_code") else "new")
            )
        return Creation(**data)

    def save_creation(self, record: Creation, owner: str) -> None:
        self._write("creations", record.name, record, record.version, owner)

    # ---------------------------------------------------------------- pushes

    def push(self, key: str) -> PushProgress | None:
        data = self._read("pushes", key)
        return PushProgress.from_dict(data) if data else None

    def save_push(self, record: PushProgress, owner: str) -> None:
        self._write("pushes", record.key, record, record.version, owner)

    def pushes_for(self, campaign_code: str) -> list[PushProgress]:
        """Every push record of one campaign (its row ranges, when a push was fanned out)."""
        folder = self.base / "pushes"
        if not folder.exists():
            return []
        prefix = _UNSAFE.sub("_", campaign_code)[:60]
        records = []
        for path in folder.iterdir():
            if path.name.startswith(prefix) and path.name.endswith(".json"):
                record = PushProgress.from_dict(dict(json.loads(path.read_text())))
                if record.campaign_code == campaign_code:
                    records.append(record)
        return sorted(records, key=lambda r: r.key)

    def path_of(self, kind: str, key: str) -> str:
        return str(self._path(kind, key))

    # ---------------------------------------------------------------- steps (the campaign view)

    def note_step(self, campaign_code: str, step: str, facts: dict[str, Any]) -> None:
        """Record what one lifecycle step learned about a campaign (figures only, no phone, no text).

        One object per step, replaced whole: the figures of a finished step, so the last writer (a retry of
        the same task) is right. The campaign view (:mod:`airflow_provider_fptsms.ui`) reads them.
        """
        path = self.base / "campaigns" / safe_key(campaign_code) / f"{safe_key(step)}.json"
        self._mkdir(path.parent)
        record = {**facts, "campaign_code": campaign_code, "step": step, "at": time.time()}
        _replace(path, json.dumps(record, ensure_ascii=False, indent=1))

    def campaign_steps(self) -> dict[str, list[dict[str, Any]]]:
        """Every campaign's recorded steps, by campaign code (a step being written is read next time)."""
        folder = self.base / "campaigns"
        if not folder.exists():
            return {}
        campaigns: dict[str, list[dict[str, Any]]] = {}
        for campaign in folder.iterdir():
            for path in campaign.iterdir() if campaign.is_dir() else ():
                if path.name.endswith(".json") and not path.name.startswith("."):
                    step = dict(json.loads(path.read_text()))
                    campaigns.setdefault(str(step["campaign_code"]), []).append(step)
        return campaigns


class SendJournal:
    """The durable record of a bulk send (or of alerts), keyed by its idempotency key.

    It is the delivery model's write-ahead log (:mod:`airflow_provider_fptsms.delivery`): a message's
    *intent* is on the store before its request leaves, its answer is written as it arrives or soon after.

    - On a local disk (or a mounted share) each try appends lines to a log file of its own: one
      ``write`` per intent or answer on an ``O_APPEND`` descriptor (whole lines, in order, from any
      thread), a few microseconds, so a killed try leaves nothing unrecorded but the calls in flight.
    - On object stores, which cannot append, writes go in segments, one object (one PUT) each. With the
      CSKH send's senders on one event loop (:class:`GroupCommit`) a segment holds the intents of the
      senders ready at that moment, the intents of the next messages in send order (written *ahead*, so
      that a sender seldom waits for a PUT) and every answer recorded since the segment before; answers
      with no intent to ride on go out after ``flush_every`` of them or ``flush_seconds``. Elsewhere
      (Fibo's senders, in threads) a segment holds one message's intent, or up to ``flush_every`` answers.

    What a killed try may leave in doubt (intended, no answer on the store: the next try replays it inside
    FPT's 5-minute window, and past it holds it back and reports it ``in_doubt``):

    - local log: the calls in flight (at most ``max_concurrency``);
    - object store, before intents were written ahead: the calls in flight and the answers not yet
      flushed (fewer than ``flush_every``, none older than ``flush_seconds``), so at most
      ``max_concurrency + flush_every - 1``, every one of them a message that had been sent;
    - object store now: what was in flight, or written ahead and not yet taken by a sender, when the
      latest segment that reached the store was started (every segment carries all the answers not yet
      on the store, so that one holds every answer recorded before it). The journal writes ahead at most
      as many messages as were taken in the last ``flush_seconds``, and never more than ``flush_every``,
      so the bound is the same, ``max_concurrency + flush_every``, and so is its size at a slower pace
      (about a second of sending). What changed is what the doubt may hold: a message written ahead may
      never have left. A retry inside the window sends it once; after the window it is held back and
      reported ``in_doubt`` like a message whose answer was lost. Only a kill leaves such messages: a try
      that ends otherwise (an error, a stop) records those it wrote ahead and never sent as not sent
      (``refused``: the request never left), free for the next try.

    Never the other way round: a sender awaits the PUT that holds its intent (or finds it written ahead)
    before its request leaves, so no message is sent with its intent unwritten.

    Times that decide anything are on the store's clock: a segment's modification time, or for a
    log file its modification time when it was created plus this process's monotonic clock since,
    so tries on machines whose clocks differ still agree. Safe to call from several threads.

    Retention: the record lives as long as its folder under ``<state_path>/sends``; while it does, a
    re-run of the same operation sends nothing twice. Delete old folders to forget them.
    """

    def __init__(self, store: StateStore, key: str, flush_every: int = 200, flush_seconds: float = 1.0) -> None:
        self.folder = store.base / "sends" / safe_key(key)
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.appends = is_local(self.folder)
        #: called instead of a flush when answers are due (a :class:`GroupCommit` writes them off the event loop)
        self.on_due: Callable[[], None] | None = None
        self._pending: list[dict[str, Any]] = []
        self._flushed_at = time.monotonic()
        self._segments = 0
        self._made = False  # the folder made: once per journal (on object stores each mkdir is a request)
        self._lock = threading.Lock()
        self._log: int | None = None  # the append log's file descriptor (local stores)
        self._opened = (0.0, 0.0)  # (store time, monotonic time) when the log was created

    def recall(self) -> dict[str, KeyRecord]:
        """Every key's record, folded from what earlier tries and runs wrote (in write order)."""
        if not self.folder.exists():
            return {}
        segments = sorted((p for p in self.folder.iterdir() if p.name.endswith(".jsonl")), key=lambda p: p.name)
        entries: list[dict[str, Any]] = []
        for segment in segments:
            number = segment.name.split("-", 1)[0]
            self._segments = max(self._segments, int(number) + 1 if number.isdigit() else 0)
            lines = _lines(_read_text(segment) or "")
            if lines and "store_open" in lines[0]:  # an append log: intents timed from its creation
                base = float(lines[0]["store_open"])
                entries += [{**e, "at": base + float(e.get("dt", 0.0))} if "intent" in e else e for e in lines[1:]]
            elif any("intent" in e for e in lines):
                stamp = segment.stat().st_mtime  # the store's clock, not the writer's
                entries += [{**e, "at": stamp} if "intent" in e else e for e in lines]
            else:
                entries += lines
        return fold(_once(entries))

    def clock(self) -> float:
        """The store's time now."""
        if self._log is not None:
            return self._store_now()
        self._mkdir()
        probe = self.folder / ".clock"
        probe.write_text(str(time.time()))
        return float(probe.stat().st_mtime)

    def intend(self, keys: list[str], *, stamp: bool = False) -> float | None:
        """Write, just before sending them, that these keys go out now.

        Returns the write's time on the store's clock when ``stamp`` is set (to re-check a replay's window).
        """
        if not keys:
            return None
        if self.appends:
            fd = self._ensure_log()
            listed = ",".join(map(_json_str, keys))
            os.write(fd, f'{{"intent":[{listed}],"dt":{time.monotonic() - self._opened[1]:.6f}}}\n'.encode())
            return self._store_now() if stamp else None
        return self.segment(keys, [], stamp=stamp)

    def segment(self, keys: list[str], answers: list[dict[str, Any]], *, stamp: bool = False) -> float | None:
        """One segment (object stores): these answers, then these keys' intents; with ``stamp``, its time."""
        entries = [*answers, {"intent": keys, "at": time.time()}] if keys else list(answers)
        target = self._write(entries)
        return float(target.stat().st_mtime) if stamp and target is not None else None

    def take_answers(self) -> list[dict[str, Any]]:
        """The answers recorded and not written yet, handed over (to a writer that puts them in a segment)."""
        return self._take()

    def give_back(self, answers: list[dict[str, Any]]) -> None:
        """Answers handed over by :meth:`take_answers` and not known written: the next flush writes them."""
        self._give_back(answers)

    def record(self, key: str, result: dict[str, Any]) -> None:
        """Note one answer (``state`` accepted / refused / in_doubt, ``final``, and what to report)."""
        entry = result  # taken over, not copied: callers pass a fresh dict
        entry["key"], entry["at"] = key, time.time()
        if self.appends:
            os.write(self._ensure_log(), (json.dumps(entry, ensure_ascii=False) + "\n").encode())
            return
        with self._lock:
            self._pending.append(entry)
            due = len(self._pending) >= self.flush_every or time.monotonic() - self._flushed_at >= self.flush_seconds
        if due:  # by count, or by time: a killed try leaves at most ~1 s of answers unrecorded (in doubt)
            on_due = self.on_due
            if on_due is not None:
                on_due()
            else:
                self.flush()

    def flush(self) -> None:
        if self.appends:
            return  # every line is written as it happens
        batch = self._take()
        try:
            self._write(batch)
        except BaseException:
            self._give_back(batch)  # kept for the next flush rather than lost
            raise

    def close(self) -> None:
        """Flush what is pending and close this try's log."""
        self.flush()
        with self._lock:
            fd, self._log = self._log, None
        if fd is not None:
            os.close(fd)

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            batch, self._pending = self._pending, []
            self._flushed_at = time.monotonic()
        return batch

    def _give_back(self, batch: list[dict[str, Any]]) -> None:
        if batch:
            with self._lock:
                self._pending[:0] = batch

    def _mkdir(self) -> None:
        if not self._made or self.appends:  # a local folder is cheap to check and may be removed meanwhile
            self.folder.mkdir(parents=True, exist_ok=True)
            self._made = True

    # ------------------------------------------------------------------ local append log

    def _store_now(self) -> float:
        self._ensure_log()
        return self._opened[0] + (time.monotonic() - self._opened[1])

    def _ensure_log(self) -> int:
        if self._log is not None:  # the hot path: no lock once the log is open
            return self._log
        with self._lock:
            if self._log is None:
                segment = self._segments
                self._segments += 1
                self.folder.mkdir(parents=True, exist_ok=True)
                path = os.path.join(self.folder.path, f"{segment:06d}-{uuid.uuid4().hex[:8]}.jsonl")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
                created = os.fstat(fd).st_mtime  # the store's clock at creation
                self._opened = (created, time.monotonic())
                os.write(fd, (json.dumps({"store_open": created}) + "\n").encode())
                self._log = fd
            return self._log

    # ------------------------------------------------------------------ object-store segments

    def _write(self, entries: list[dict[str, Any]]) -> Any:
        if not entries:
            return None
        with self._lock:  # segment numbers in write order; the write itself happens outside the lock
            segment = self._segments
            self._segments += 1
        self._mkdir()
        name = f"{segment:06d}-{uuid.uuid4().hex[:8]}.jsonl"
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        target = self.folder / name
        if is_local(target):
            temp = self.folder / f".{name}.tmp"
            temp.write_text(text)
            temp.replace(target)
        else:  # one PUT; fsspec's pipe_file skips the buffered text file (~1 ms of CPU per PUT on s3fs)
            target.fs.pipe_file(target.path, text.encode())
        return target


#: a JSON string literal (C-speed; keys are ASCII-safe ids, but any text stays valid JSON)
_json_str = json.encoder.encode_basestring_ascii


def _once(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries without repeats of an answer: a :class:`GroupCommit` segment carries every answer that is
    not yet known written, so one answer may be in two segments (the same key, time and state)."""
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for entry in entries:
        if "intent" not in entry:
            mark = (entry.get("key"), entry.get("at"), entry.get("state"))
            if mark in seen:
                continue
            seen.add(mark)
        unique.append(entry)
    return unique


def _lines(text: str) -> list[dict[str, Any]]:
    """Journal lines; a line cut short (a write interrupted by a dying machine) is skipped."""
    entries = []
    for line in text.splitlines():
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    return entries


class _Segment:
    """One intent write of a :class:`GroupCommit`: the order's keys up to ``end``, and who waits for it."""

    __slots__ = ("at", "done", "end", "failed", "futures", "start")

    def __init__(self, start: int, end: int, futures: list[Any]) -> None:
        self.start, self.end = start, end
        self.futures = futures
        self.done = self.failed = False
        self.at: float | None = None


class GroupCommit:
    """Write-ahead for concurrent senders on one event loop, for journals on object stores: every
    message's intent is durable before its request leaves, in as few writes as the guarantee allows.

    - The senders ready at the same moment share one segment.
    - ``order`` (the keys in the order the senders take them; never a key that wants a ``stamp``) lets a
      segment also hold the intents of the next messages, so that the senders after them find their intent
      written and go at once. How many are written ahead and not yet taken is kept within what the
      journal's answers may lag anyway (:class:`SendJournal`: the messages taken in the last
      ``flush_seconds``, at most ``flush_every``); the window is topped up once a quarter of it has gone.
    - Every segment carries the answers that are in no landed segment yet (so an answer may be written
      twice; :meth:`SendJournal.recall` counts it once), and answers that come due with no intent to ride
      on are written here too, never on the event loop. When a segment lands, every answer recorded before
      it started is on the store, whatever earlier segment is still under way.

    Writes run in threads: an object store takes tens of milliseconds per PUT (and a few milliseconds of
    this process's CPU: botocore), and the event loop keeps serving replies meanwhile. One top-up at a
    time; a second write starts beside it only for senders that found the window dry, so a sender waits
    for at most one PUT. The window (at most ``flush_every``) runs dry past about ``flush_every / (2 x PUT
    time)`` messages a second: 64 senders of 20 ms (~2,950/s without a journal) keep 84% of their pace
    with 45 ms PUTs, 68% with 60 ms ones. After a failed write
    nothing more is written ahead, and its keys are written again for the senders that take them (should
    that write have landed after all, its window is in doubt once more if the try is then killed); after
    a failed answer write no sender is let through (the store is failing: sending more would only add to
    what is unrecorded).
    """

    #: intent writes under way at once: a top-up, and one for senders that found the window dry meanwhile
    WRITES = 2

    def __init__(self, journal: SendJournal, order: Sequence[str] = ()) -> None:
        self.journal = journal
        self._order = list(order)
        self._position = {key: index for index, key in enumerate(self._order)}
        self._durable = 0  # order[:_durable] is on the store (but the keys of failed writes, in _lost)
        self._covered = 0  # order[:_covered] is on the store or in a write under way
        self._attempted = 0  # order[:_attempted] went into a write, landed or not
        self._lost: set[str] = set()  # keys of the order whose write failed: written again when taken
        self._taken: set[str] = set()  # keys a sender announced: they may go out
        self._taken_covered = 0  # ... of them within order[:_covered]
        self._recent: deque[float] = deque(maxlen=max(1, journal.flush_every))  # when the latest were taken
        self._waiting: list[tuple[str, bool, Any]] = []  # for the next write: (key, stamp, future)
        self._segments: list[_Segment] = []  # the intent writes not yet folded into _durable, in order
        self._ahead = bool(self._order)
        self._failed: BaseException | None = None
        self._answers_due = False
        #: answers taken from the journal and in no landed segment yet: every segment carries them all, so
        #: once one lands every answer recorded before it started is on the store (whatever lands later)
        self._answers: list[dict[str, Any]] = []
        self._answers_from = 0  # how many answers were taken before _answers[0]
        self._loop: Any = None
        self._planning = False
        self._tasks: set[Any] = set()  # the writes under way (a task nobody references may be collected)

    async def announce(self, key: str, *, stamp: bool = False) -> float | None:
        """Return once ``key``'s intent is written; with ``stamp``, the store's time of that write."""
        import asyncio

        if self._failed is not None:
            raise self._failed
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self.journal.on_due = self._due
        position = self._position.get(key)
        assert not (stamp and position is not None), "a key whose write time matters is never written ahead"
        self._taken.add(key)
        self._recent.append(time.monotonic())
        if position is not None and position < self._covered:
            self._taken_covered += 1
            if key not in self._lost:
                if position < self._durable:  # written ahead: go now
                    if self._top_up_due():
                        self._kick()
                    return None
                segment = next(s for s in self._segments if position < s.end)
                if segment.done:  # landed, behind one still under way
                    return segment.at
                done = loop.create_future()
                segment.futures.append(done)  # in a write under way: resolved with it
                return await done
        done = loop.create_future()
        self._waiting.append((key, stamp, done))
        self._kick()
        return await done

    def release(self) -> list[str]:
        """The keys written ahead (or in a write that may have landed) that no sender took: never sent.

        Call once the senders are done; the journal's due answers are flushed inline again from here on.
        """
        self.journal.on_due = None
        self.journal.give_back(self._answers)  # in no landed segment (or a cancelled one): written again
        self._answers_from += len(self._answers)
        self._answers = []
        return [key for key in self._order[: self._attempted] if key not in self._taken]

    # ---------------------------------------------------------------- the writer

    def _budget(self) -> int:
        """How many intents may be written ahead of the senders: those taken in the last ``flush_seconds``."""
        if not self._ahead:
            return 0
        since = time.monotonic() - self.journal.flush_seconds
        if self._recent and self._recent[0] >= since:  # at full pace: all of the last flush_every
            return len(self._recent)
        return sum(1 for at in self._recent if at >= since)

    def _due(self) -> None:
        """The journal's answers are due: write them from a task (inline if not on our loop)."""
        import asyncio

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is None or running is not self._loop:
            self.journal.flush()
            return
        self._answers_due = True
        self._kick()

    def _top_up_due(self) -> bool:
        """A quarter of the window written ahead has been taken (and the order has more to write)."""
        if self._covered >= len(self._order):
            return False
        budget = self._budget()
        return budget - (self._covered - self._taken_covered) >= max(1, budget // 4)

    def _kick(self) -> None:
        if not self._planning and self._loop is not None:
            self._planning = True
            self._spawn(self._schedule())

    def _spawn(self, work: Any) -> None:
        task = self._loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _schedule(self) -> None:
        import asyncio

        await asyncio.sleep(0)  # let the other senders that are ready join this segment
        self._planning = False
        while True:
            under_way = sum(1 for segment in self._segments if not segment.done)
            if under_way >= self.WRITES or (under_way and not self._waiting):
                return  # a write ends with a kick; a second one starts only for senders that wait
            plan = self._plan()
            if plan is None:
                if self._answers_due and not under_way:
                    self._answers_due = False
                    self._spawn(self._flush())
                return
            self._spawn(self._write(*plan))

    def _plan(self) -> tuple[_Segment, list[str], bool, list[str]] | None:
        """The next segment: (it, its intents, stamp, the keys of a failed write it holds), None: nothing."""
        if not self._waiting and not self._top_up_due():
            return None
        budget = self._budget()
        untaken = self._covered - self._taken_covered
        waiting, self._waiting = self._waiting, []
        loose = [key for key, _, _ in waiting if key not in self._position or key in self._lost]
        again = [key for key in loose if key in self._lost]
        self._lost.difference_update(again)
        needed = max(
            (self._position[key] + 1 for key in (k for k, _, _ in waiting) if key in self._position), default=0
        )
        end = max(self._covered, needed)
        for key in self._order[self._covered : end]:
            if key in self._taken:
                self._taken_covered += 1
            else:
                untaken += 1
        while end < len(self._order) and untaken < budget:
            if self._order[end] in self._taken:  # cannot be (a taken key beyond the covered end waits), but cheap
                self._taken_covered += 1
            else:
                untaken += 1
            end += 1
        keys = loose + self._order[self._covered : end]
        segment = _Segment(self._covered, end, [done for _, _, done in waiting])
        self._covered = end
        self._attempted = max(self._attempted, end)
        self._segments.append(segment)
        return segment, keys, any(wants for _, wants, _ in waiting), again

    async def _write(self, segment: _Segment, keys: list[str], stamp: bool, again: list[str]) -> None:
        import asyncio

        self._answers_due = False  # the segment carries them
        self._answers += self.journal.take_answers()
        upto, answers = self._answers_from + len(self._answers), list(self._answers)
        try:
            at = await asyncio.to_thread(self.journal.segment, keys, answers, stamp=stamp)
        except Exception as exc:  # the senders must not send what was not written ahead (its answers: next one)
            self._ahead = False
            self._lost.update(self._order[segment.start : segment.end])
            self._lost.update(again)
            segment.done = segment.failed = True
            self._settle(segment, exception=exc)
        except BaseException:  # cancelled (the loop is closing): that write may still land
            self._settle(segment, cancel=True)
            raise
        else:
            segment.done, segment.at = True, at
            self._written(upto)
            self._settle(segment, result=at)
        while self._segments and self._segments[0].done:
            self._durable = self._segments.pop(0).end
        self._kick()

    def _written(self, upto: int) -> None:
        """A segment carrying the first ``upto`` answers taken has landed."""
        if upto > self._answers_from:
            del self._answers[: upto - self._answers_from]
            self._answers_from = upto

    async def _flush(self) -> None:
        import asyncio

        self._answers += self.journal.take_answers()
        upto, answers = self._answers_from + len(self._answers), list(self._answers)
        try:
            if answers:
                await asyncio.to_thread(self.journal.segment, [], answers)
            self._written(upto)
        except Exception as exc:  # kept for the next segment (or given back by release()); no sender goes on
            self._failed, self._ahead = exc, False
            waiting, self._waiting = self._waiting, []
            for _, _, done in waiting:
                if not done.done():
                    done.set_exception(exc)
            return
        self._kick()

    @staticmethod
    def _settle(
        segment: _Segment, *, result: float | None = None, exception: Exception | None = None, cancel: bool = False
    ) -> None:
        futures, segment.futures = segment.futures, []
        for done in futures:
            if done.done():
                continue
            if cancel:
                done.cancel()
            elif exception is not None:
                done.set_exception(exception)
            else:
                done.set_result(result)
