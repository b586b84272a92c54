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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
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

    def _path(self, kind: str, key: str) -> Any:
        return self.base / kind / f"{safe_key(key)}.json"

    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        path = self._path(kind, key)
        if not path.exists():
            return None
        return dict(json.loads(path.read_text()))

    def _write(self, kind: str, key: str, record: Any, expected_version: int, owner: str) -> None:
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
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
        path.parent.mkdir(parents=True, exist_ok=True)
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

    It is the delivery model's write-ahead log (:mod:`airflow_provider_fptsms.delivery`): a
    message's *intent* is written just before it goes out, its answer as it arrives.

    - On a local disk (or a mounted share) each try appends lines to a log file of its own: one
      ``write`` per intent or answer on an ``O_APPEND`` descriptor (whole lines, in order, from any
      thread), a few microseconds, so a killed try leaves nothing unrecorded but the calls in flight.
    - On object stores, which cannot append, writes go in small segments (the intents of the
      messages about to go out, or the answers of up to ``flush_every`` messages / ``flush_seconds``).

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
        self._pending: list[dict[str, Any]] = []
        self._flushed_at = time.monotonic()
        self._segments = 0
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
            lines = _lines(segment.read_text())
            if lines and "store_open" in lines[0]:  # an append log: intents timed from its creation
                base = float(lines[0]["store_open"])
                entries += [{**e, "at": base + float(e.get("dt", 0.0))} if "intent" in e else e for e in lines[1:]]
            elif any("intent" in e for e in lines):
                stamp = segment.stat().st_mtime  # the store's clock, not the writer's
                entries += [{**e, "at": stamp} if "intent" in e else e for e in lines]
            else:
                entries += lines
        return fold(entries)

    def clock(self) -> float:
        """The store's time now."""
        if self._log is not None:
            return self._store_now()
        self.folder.mkdir(parents=True, exist_ok=True)
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
        target = self._write([{"intent": keys, "at": time.time()}])
        return float(target.stat().st_mtime) if stamp and target is not None else None

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
            self.flush()

    def flush(self) -> None:
        if self.appends:
            return  # every line is written as it happens
        with self._lock:
            batch, self._pending = self._pending, []
            self._flushed_at = time.monotonic()
        try:
            self._write(batch)
        except BaseException:
            with self._lock:  # keep them for the next flush rather than lose them
                self._pending[:0] = batch
            raise

    def close(self) -> None:
        """Flush what is pending and close this try's log."""
        self.flush()
        with self._lock:
            fd, self._log = self._log, None
        if fd is not None:
            os.close(fd)

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
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{segment:06d}-{uuid.uuid4().hex[:8]}.jsonl"
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        target = self.folder / name
        if is_local(target):
            temp = self.folder / f".{name}.tmp"
            temp.write_text(text)
            temp.replace(target)
        else:
            target.write_text(text)
        return target


#: a JSON string literal (C-speed; keys are ASCII-safe ids, but any text stays valid JSON)
_json_str = json.encoder.encode_basestring_ascii


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


class GroupCommit:
    """Write-ahead for concurrent senders on one event loop, for journals on object stores: every
    message's intent is durable before its request leaves, in as few writes as the load allows (the
    senders ready at the same moment share one segment). Writes run in a thread: an object store takes
    tens of milliseconds per PUT, and the event loop keeps serving replies meanwhile.
    """

    def __init__(self, journal: SendJournal) -> None:
        self.journal = journal
        self._pending: list[tuple[str, bool, Any]] = []
        self._running = False
        self._task: Any = None

    async def announce(self, key: str, *, stamp: bool = False) -> float | None:
        """Return once ``key``'s intent is written; with ``stamp``, the store's time of that write."""
        import asyncio

        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.append((key, stamp, done))
        if not self._running:
            self._running = True
            self._task = loop.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        import asyncio

        try:
            while self._pending:
                await asyncio.sleep(0)  # let the other senders that are ready join this segment
                batch, self._pending = self._pending, []
                keys, stamp = [key for key, _, _ in batch], any(wants for _, wants, _ in batch)
                try:
                    at = await asyncio.to_thread(self.journal.intend, keys, stamp=stamp)
                except BaseException as exc:  # the senders must not send what was not written ahead
                    for _, _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(at)
        finally:
            self._running = False
