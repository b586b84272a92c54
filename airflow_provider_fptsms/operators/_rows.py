"""Per-row reports of the send and the push: every input row ends in exactly one output row.

One place for what a row's status may be, where the report goes when ``output_path`` is not given,
and how it is written (local or ObjectStoragePath, ``.gz`` compressed). Phones are masked by the
callers (:func:`~airflow_provider_fptsms.gateways.errors.mask_phone`); nothing here sees a full number.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from airflow_provider_fptsms.sms.phones import NEXT_STEPS

if TYPE_CHECKING:
    from airflow.sdk import Context

#: statuses a row of a send's report may have (README "Per-row reports" explains each)
SEND_STATUSES = (
    "sent",
    "already_sent",
    "failed",
    "in_doubt",
    "duplicate_content",
    "invalid",
    "duplicate",
    "suppressed",
    "not_sent",
)
#: statuses a row of a push's report may have
PUSH_STATUSES = (
    "pushed",
    "already_pushed",
    "not_pushed",
    "in_doubt",
    "invalid",
    "duplicate",
    "suppressed",
    "capped",
)


def invalid_reason(reason: str) -> str:
    """An invalid row's ``error`` cell: what is wrong with the number, and what to do about it."""
    step = NEXT_STEPS.get(reason)
    return f"{reason}. Next step: {step}" if step else reason


def duplicate_reason(first_row: int | None) -> str:
    """A duplicate row's ``error`` cell: it is not sent again, because an earlier row has the same phone."""
    where = f"row {first_row}" if first_row is not None else "an earlier row"
    return f"same phone as {where}: it gets one message, not two"


def suppressed_reason(list_name: str) -> str:
    """A suppressed row's ``error`` cell: which do-not-contact list holds the phone."""
    return f"on the do-not-contact list {list_name}: never sent advertising (Decree 91/2020/ND-CP)"


def capped_reason(cap: int) -> str:
    """A capped row's ``error`` cell: the advertiser's earlier campaigns already reach the legal limit."""
    return (
        f"would exceed {cap} advertising message(s) to this phone within 24 hours from this advertiser "
        "(Decree 91/2020/ND-CP, counted across campaigns): not pushed"
    )


def default_path(context: Context, kind: str) -> str:
    """``$AIRFLOW_HOME/fptsms/<kind>/<dag>/<run>/<task>[_<map index>].csv``: one file per task and run, so
    a retry rewrites its own try's report and mapped tasks never share one."""
    ti = context["ti"]
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    suffix = "" if ti.map_index in (-1, None) else f"_{ti.map_index}"
    return f"{home}/fptsms/{kind}/{ti.dag_id}/{_safe(ti.run_id)}/{ti.task_id}{suffix}.csv"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


@contextmanager
def row_report(target: str, fields: Sequence[str]) -> Iterator[IO[str]]:
    """A text file on ``target`` (local or ObjectStoragePath) whose CSV header is ``fields``; a name ending
    in ``.gz`` is gzip-compressed (a 10-million-row push report is ~40 MB instead of ~400 MB). Write rows
    with ``csv.writer`` or, on the hot path, as :func:`csv_line` text."""
    from airflow.sdk import ObjectStoragePath

    path = ObjectStoragePath(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw:
        binary = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) if target.endswith(".gz") else raw
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        try:
            text.write(csv_line(*fields))
            yield text
        finally:
            text.flush()
            text.detach()
            if binary is not raw:
                binary.close()


def csv_line(*values: object) -> str:
    """One CSV line, quoted as ``csv.writer`` quotes (only cells with a comma, a quote or a line break).
    NUL characters (a corrupt input file) are dropped: Python 3.10's ``csv`` can neither write nor read them."""
    return ",".join(_cell(value) for value in values) + "\r\n"


def _cell(value: object) -> str:
    text = str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
    if any(char in text for char in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


__all__ = [
    "PUSH_STATUSES",
    "SEND_STATUSES",
    "csv_line",
    "default_path",
    "duplicate_reason",
    "invalid_reason",
    "row_report",
]
