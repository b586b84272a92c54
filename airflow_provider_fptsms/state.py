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

from airflow_provider_fptsms.gateways.errors import SmsError

#: Where records live unless an operator says otherwise (``state_path=``) or this env var is set.
STATE_PATH_ENV = "FPTSMS_STATE_PATH"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StateConflictError(SmsError):
    """Another try or run wrote this record since we read it: stop instead of overwriting it."""


@dataclass
class Creation:
    """``create-campaign`` for one campaign name: requested, then answered with a code."""

    name: str
    requested_name: str = ""
    campaign_code: str | None = None
    schedule_time: str = ""
    quota: int = 0
    message_sha256: str = ""
    #: names used by earlier attempts whose reply was lost (campaigns that may exist, empty)
    abandoned_names: list[str] = field(default_factory=list)
    in_flight: bool = False
    version: int = 0
    owner: str = ""
    updated_at: float = 0.0


@dataclass
class Chunk:
    index: int
    first_row: int
    rows: int
    batch_id: str
    messages: int
    remain_quota: int | None


@dataclass
class PushProgress:
    """Acknowledged chunks of one push (a campaign code and an optional row range)."""

    key: str
    campaign_code: str
    chunks: list[Chunk] = field(default_factory=list)
    #: the chunk being pushed now: if a try dies here, its successor reconciles with detail-ads Total
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


def _is_local(path: Any) -> bool:
    return path.protocol in ("", "file", "local")


@contextmanager
def _exclusive(path: Any) -> Iterator[None]:
    """Hold an exclusive lock on ``.<name>.lock`` next to a local record (no-op on object stores)."""
    if not _is_local(path):
        yield
        return
    import fcntl

    with open(os.path.join(os.path.dirname(path.path), f".{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also if the process dies
        yield


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
        text = json.dumps(asdict(record), ensure_ascii=False, indent=1)
        if _is_local(path):
            temp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
            temp.write_text(text)
            temp.replace(path)  # atomic on one filesystem
        else:
            path.write_text(text)  # one PUT: object stores never show half an object

    # ---------------------------------------------------------------- creations

    def creation(self, name: str) -> Creation | None:
        data = self._read("creations", name)
        return Creation(**data) if data else None

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


@dataclass
class Recall:
    """What earlier tries of a bulk send left behind."""

    #: request_id -> result, for messages that need no resend (sent / already_sent)
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: request_id -> when it may have reached the gateway without us learning the outcome: a reply
    #: lost after every retry (``in_doubt``), or announced in an intent and never answered (the try died)
    in_doubt: dict[str, float] = field(default_factory=dict)


class SendJournal:
    """What a bulk send did, kept across task retries, so a retry never sends a message twice.

    Before a block of messages goes out its RequestIds are written as an *intent*; results are
    written as they arrive. Writes go in small segments (an intent, or the results of up to
    ``flush_every`` messages / ``flush_seconds``), so
    the journal works on object stores that cannot append. A retry then knows three kinds of
    message: done (skip), in doubt (announced or sent, outcome unknown) and the rest (send). FPT
    recognises a repeated RequestId for 5 minutes only, so whether a message in doubt may be sent
    again depends on how long ago it was announced: the operator decides. Safe to call from several
    threads (the Fibo operator records from a thread pool).
    """

    def __init__(self, store: StateStore, key: str, flush_every: int = 200, flush_seconds: float = 1.0) -> None:
        self.folder = store.base / "sends" / safe_key(key)
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self._pending: list[dict[str, Any]] = []
        self._flushed_at = time.monotonic()
        self._segments = 0
        self._lock = threading.Lock()

    def recall(self) -> Recall:
        """Read every segment written by earlier tries.

        Each intent opens an attempt for its messages and the next result for a message closes it.
        A message is done once any attempt was accepted; otherwise it is in doubt if any attempt may
        have landed unseen (an ``in_doubt`` result, or no result at all: the try died), timed from
        the earliest such attempt. A refusal closes its own attempt and clears nothing earlier.
        """
        recall = Recall()
        opened: dict[str, float] = {}
        doubt: dict[str, float] = {}

        def doubtful(request_id: str, since: float) -> None:
            doubt[request_id] = min(since, doubt.get(request_id, since))

        if not self.folder.exists():
            return recall
        segments = sorted((p for p in self.folder.iterdir() if p.name.endswith(".jsonl")), key=lambda p: p.name)
        for segment in segments:
            number = segment.name.split("-", 1)[0]
            self._segments = max(self._segments, int(number) + 1 if number.isdigit() else 0)
            for line in segment.read_text().splitlines():
                if not line.strip():
                    continue
                entry = json.loads(line)
                if "intent" in entry:
                    for request_id in entry["intent"]:
                        if request_id in opened:  # announced again with no answer in between
                            doubtful(request_id, opened[request_id])
                        opened[request_id] = float(entry["at"])
                    continue
                request_id = entry["request_id"]
                started = opened.pop(request_id, float(entry.get("at") or 0.0))
                if entry.get("status") in ("sent", "already_sent"):
                    recall.done[request_id] = entry
                elif entry.get("status") == "in_doubt":
                    doubtful(request_id, started)
        for request_id, started in opened.items():
            doubtful(request_id, started)
        recall.in_doubt = {rid: at for rid, at in doubt.items() if rid not in recall.done}
        return recall

    def intend(self, request_ids: list[str]) -> None:
        """Write, before sending them, that these messages are about to go out (one segment)."""
        if request_ids:
            self._write([{"intent": request_ids, "at": time.time()}])

    def record(self, result: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(result)
            due = len(self._pending) >= self.flush_every or time.monotonic() - self._flushed_at >= self.flush_seconds
        if due:  # by count, or by time: a killed try leaves at most ~1 s of results unrecorded (in doubt)
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._flushed_at = time.monotonic()
        try:
            self._write(batch)
        except BaseException:
            with self._lock:  # keep them for the next flush rather than lose them
                self._pending[:0] = batch
            raise

    def _write(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        with self._lock:  # segment numbers in write order; the write itself happens outside the lock
            segment = self._segments
            self._segments += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{segment:06d}-{uuid.uuid4().hex[:8]}.jsonl"
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        target = self.folder / name
        if _is_local(target):
            temp = self.folder / f".{name}.tmp"
            temp.write_text(text)
            temp.replace(target)
        else:
            target.write_text(text)
