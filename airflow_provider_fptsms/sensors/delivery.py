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

from airflow_provider_fptsms._compat import AirflowException, AirflowSensorTimeout, lines
from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.triggers.delivery import FptDeliveryTrigger, dlr_message, dlrs_complete
from airflow_provider_fptsms.triggers.fibo_delivery import (
    FiboDeliveryTrigger,
    read_summary,
    status_message,
    statuses_complete,
)
from airflow_provider_fptsms.webhook.store import DlrStore

if TYPE_CHECKING:
    from airflow.sdk import Context

ID_COLUMN = "message_id"


def _id_of(item: object, column: str = ID_COLUMN) -> str:
    if isinstance(item, Mapping):  # a per-recipient result row: {"status": "sent", "message_id": ...}
        if "status" in item and item["status"] not in ACCEPTED:
            return ""
        item = item.get(column)
    return "" if item is None else str(item).strip()


#: the statuses of a send's per-row report whose messages the gateway accepted (only those get a status)
ACCEPTED = frozenset({"sent", "already_sent"})


def _ids_from_csv(source: Any, column: str = ID_COLUMN, field: str = "message_ids") -> list[str]:
    """The ``column`` of a local or remote CSV (the send operator's per-row report: only the rows the
    gateway accepted, when it has a ``status`` column)."""
    from airflow.sdk import ObjectStoragePath

    path = source if isinstance(source, ObjectStoragePath) else ObjectStoragePath(str(source))
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(lines(handle))
            names = reader.fieldnames or ()
            if column not in names:
                raise InvalidInputError(
                    field,
                    str(path),
                    f"the CSV has no {column!r} column (columns: {list(names)})",
                    "pass the per-row report written by the send, or a list of ids",
                )
            rows = (row for row in reader if "status" not in names or row.get("status") in ACCEPTED)
            return [_id_of(row.get(column)) for row in rows]
    except FileNotFoundError:
        raise InvalidInputError(field, str(path), "file not found", "check the path and its template") from None


def resolve_message_ids(value: Any, column: str = ID_COLUMN, field: str = "message_ids") -> list[str]:
    """A list (ids or result rows), its rendered text, or a CSV path -> unique non-empty ids, in order.

    ``column`` is the id's key in result rows and CSVs (``request_id`` holds a Fibo send's smsGUID)."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:  # an XCom list rendered by Jinja as text
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise InvalidInputError(field, value[:40], "is neither a list nor a file path") from None
    if isinstance(value, (list, tuple)):
        ids: Iterable[str] = (_id_of(item, column) for item in value)
    elif isinstance(value, (str, os.PathLike)) or hasattr(value, "open"):
        ids = _ids_from_csv(value, column, field)
    else:
        raise InvalidInputError(
            field, type(value).__name__, "must be a list of ids or a CSV path", "pass a list or a path"
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


class FiboDeliverySensor(BaseSensorOperator):
    """Succeed when every message of a Fibo send has a final status (``GetSMSStatus``, pulled by our
    smsGUIDs); return the counts. The pull counterpart of :class:`FptDeliverySensor`.

    :param sms_guids: (templated) the sends' smsGUIDs — a list (or the send's result rows), or a path
        (str / ObjectStoragePath) to its per-row report, whose ``request_id`` column holds them (only
        rows Fibo accepted count).
    :param fibo_conn_id: a ``fibosms`` connection.
    :param db_url: the DLR store where a deferred wait registers its GUIDs (keeps the trigger small);
        None uses ``$FPTSMS_DLR_DB``, else ``sqlite:///$AIRFLOW_HOME/fptsms/dlr.db``. Not templated.
    :param deferrable: wait in the triggerer (default); ``False`` pokes on the worker.
    :param poll_interval: seconds between reads (default 60).
    Default timeout 6 h; then the task fails with the counts so far (``soft_fail=True``: skipped).
    Returns (XCom) ``{"total", "final", "delivered", "failed", "pending", "missing", "by_status"}``.
    """

    template_fields: Sequence[str] = ("sms_guids",)
    ui_color = "#e4f7ff"

    def __init__(
        self,
        *,
        sms_guids: list[str] | str | Any,
        fibo_conn_id: str = "fibosms_default",
        db_url: str | None = None,
        deferrable: bool = True,
        poll_interval: float = 60.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        kwargs.setdefault("timeout", 6 * 3600)
        super().__init__(**kwargs)
        self.sms_guids = sms_guids
        self.fibo_conn_id = fibo_conn_id
        self.db_url = db_url
        self.deferrable = deferrable
        self.poll_interval = poll_interval

    def _guids(self) -> list[str]:
        return resolve_message_ids(self.sms_guids, column="request_id", field="sms_guids")

    def _read(self, guids: list[str], next_check: float | None = None, *, deferring: bool = False) -> dict[str, Any]:
        summary = read_summary(self.fibo_conn_id, guids)
        self.log.info("%s", status_message(summary, next_check, deferring=deferring))
        return summary

    def poke(self, context: Context) -> PokeReturnValue:
        summary = self._read(self._guids(), self.poke_interval)
        return PokeReturnValue(is_done=statuses_complete(summary), xcom_value=summary)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        guids = self._guids()
        summary = self._read(guids, deferring=True)
        if statuses_complete(summary):
            return summary
        watch = _watch_key(context)
        store = DlrStore(self.db_url)
        try:
            store.watch(watch, guids)
        finally:
            store.dispose()
        self.defer(
            trigger=FiboDeliveryTrigger(
                watch=watch,
                fibo_conn_id=self.fibo_conn_id,
                db_url=self.db_url,
                poll_interval=self.poll_interval,
                deadline=time.time() + self.timeout,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + max(60.0, 2 * self.poll_interval)),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        status = event.get("status")
        if status == "error":
            raise AirflowException(event.get("message", "reading Fibo statuses failed"))
        summary: dict[str, Any] = event.get("summary") or {}
        if status == "deadline":
            raise AirflowSensorTimeout(
                f"Fibo statuses still not final after {self.timeout:.0f}s: "
                f"{summary.get('final', 0)}/{summary.get('total', 0)} final "
                f"({summary.get('pending', 0)} pending, {summary.get('missing', 0)} not known to Fibo). "
                "Next step: check the messages in Fibo's portal, or raise timeout / set soft_fail=True "
                "to accept partial statuses."
            )
        self.log.info("%s", status_message(summary))
        return summary
