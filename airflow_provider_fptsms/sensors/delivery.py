"""Wait until FPT has reported a final delivery status for every CSKH message of a send.

FPT pushes CSKH delivery reports to a webhook (``fptsms-dlr-receiver``, or the API-server plugin
at ``/fptsms/dlr``) which records them in the DLR store; this sensor reads that store.  Most
reports come within minutes, but a phone that is off can keep a message waiting for hours, so
the sensor defers to :class:`FptDeliveryTrigger` by default instead of holding a worker slot.
"""

from __future__ import annotations

import ast
import csv
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.triggers.delivery import FptDeliveryTrigger, dlr_message, dlrs_complete
from airflow_provider_fptsms.webhook.store import DlrStore

if TYPE_CHECKING:
    from airflow.sdk import Context

ID_COLUMN = "message_id"


def _id_of(item: object) -> str:
    if isinstance(item, Mapping):  # a per-recipient result row: {"status": "sent", "message_id": ...}
        item = item.get(ID_COLUMN)
    return "" if item is None else str(item).strip()


def _ids_from_csv(source: Any) -> list[str]:
    """The ``message_id`` column of a local or remote CSV (what the send operator writes)."""
    from airflow.sdk import ObjectStoragePath

    path = source if isinstance(source, ObjectStoragePath) else ObjectStoragePath(str(source))
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if ID_COLUMN not in (reader.fieldnames or ()):
                raise InvalidInputError(
                    "message_ids",
                    str(path),
                    f"the CSV has no {ID_COLUMN!r} column (columns: {list(reader.fieldnames or ())})",
                    "pass the per-recipient results file written by the send, or a list of MessageIds",
                )
            return [_id_of(row.get(ID_COLUMN)) for row in reader]
    except FileNotFoundError:
        raise InvalidInputError("message_ids", str(path), "file not found", "check the path and its template") from None


def resolve_message_ids(value: Any) -> list[str]:
    """A list (ids or result rows), its rendered text, or a CSV path -> unique non-empty ids, in order."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:  # an XCom list rendered by Jinja as text
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise InvalidInputError("message_ids", value[:40], "is neither a list nor a file path") from None
    if isinstance(value, (list, tuple)):
        ids: Iterable[str] = (_id_of(item) for item in value)
    elif isinstance(value, (str, os.PathLike)) or hasattr(value, "open"):
        ids = _ids_from_csv(value)
    else:
        raise InvalidInputError(
            "message_ids", type(value).__name__, "must be a list of MessageIds or a CSV path", "pass a list or a path"
        )
    return list(dict.fromkeys(i for i in ids if i))


def _watch_key(context: Context) -> str:
    """One key per task instance: a retry re-registers the same wait instead of adding another."""
    ti = context.get("ti")
    if ti is None:  # called outside a task (a notebook)
        return f"adhoc/{uuid.uuid4().hex}"
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}"


class FptDeliverySensor(BaseSensorOperator):
    """Succeed when every CSKH message has a final DLR (delivered or failed); return the counts.

    :param message_ids: (templated) MessageIds — a list (or the send's per-recipient result rows), or
        a path (str / ObjectStoragePath) to a CSV with a ``message_id`` column. Empty ids are ignored.
    :param db_url: the DLR store's SQLAlchemy URL; None uses ``$FPTSMS_DLR_DB``, else
        ``sqlite:///$AIRFLOW_HOME/fptsms/dlr.db``. Not templated: it may hold a password.
    :param deferrable: wait in the triggerer (default); ``False`` pokes on the worker.
    :param poll_interval: seconds between reads of the store (default 30).
    Default timeout 6 h; then the task fails with the counts so far (``soft_fail=True``: skipped).
    Returns (XCom) ``{"total", "final", "delivered", "failed", "pending", "missing", "by_telco"}``.
    """

    template_fields: Sequence[str] = ("message_ids",)
    ui_color = "#e4f7ff"

    def __init__(
        self,
        *,
        message_ids: list[str] | str | Any,
        db_url: str | None = None,
        deferrable: bool = True,
        poll_interval: float = 30.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        kwargs.setdefault("timeout", 6 * 3600)
        super().__init__(**kwargs)
        self.message_ids = message_ids
        self.db_url = db_url
        self.deferrable = deferrable
        self.poll_interval = poll_interval

    def _summary(self, ids: list[str]) -> dict[str, Any]:
        store = DlrStore(self.db_url)
        try:
            return store.summary(ids)
        finally:
            store.dispose()

    def _report(
        self, summary: dict[str, Any], next_check: float | None = None, *, deferring: bool = False
    ) -> dict[str, Any]:
        """Log what was found, and what the wait goes on for, in the trigger's words (:func:`dlr_message`)."""
        self.log.info("%s", dlr_message(summary, next_check, deferring=deferring))
        return summary

    def poke(self, context: Context) -> PokeReturnValue:
        summary = self._report(self._summary(resolve_message_ids(self.message_ids)), self.poke_interval)
        return PokeReturnValue(is_done=dlrs_complete(summary), xcom_value=summary)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        ids = resolve_message_ids(self.message_ids)
        store = DlrStore(self.db_url)
        try:
            # maybe all reports are in already: no need to defer
            summary = self._report(store.summary(ids), deferring=True)
            if dlrs_complete(summary):
                return summary
            watch = _watch_key(context)
            store.watch(watch, ids)  # the trigger row then carries this key, not the ids
        finally:
            store.dispose()
        self.defer(
            trigger=FptDeliveryTrigger(
                watch=watch,
                db_url=self.db_url,
                poll_interval=self.poll_interval,
                deadline=time.time() + self.timeout,
            ),
            method_name="execute_complete",
            # our own deadline event (with the counts) comes first; this is only the backstop
            timeout=timedelta(seconds=self.timeout + max(60.0, 2 * self.poll_interval)),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        status = event.get("status")
        if status == "error":
            raise AirflowException(event.get("message", "reading the DLR store failed"))
        summary: dict[str, Any] = event.get("summary") or {}
        if status == "deadline":
            raise AirflowSensorTimeout(
                f"FPT delivery reports still not final after {self.timeout:.0f}s: "
                f"{summary.get('final', 0)}/{summary.get('total', 0)} final "
                f"({summary.get('pending', 0)} pending, {summary.get('missing', 0)} missing). "
                "Next step: check the webhook receives reports (FPT must have its URL and key), "
                "or raise timeout / set soft_fail=True to accept partial reports."
            )
        return self._report(summary)
