"""``FptSmsNotifier`` / ``FiboSmsNotifier``: SMS alerts from ``on_failure_callback`` & co.

An alert must go out even when the context is thinner than the template expected (a run
triggered from the REST API or the CLI has no logical date, so no ``ds`` / ``ts``): undefined
variables render as ``-``, with one warning, and the SMS is still sent.

Each alert is one intent of the delivery model: its key is the notifier's ``idempotency_key``
(default: dag, task, map index, logical date or run id) with the phone and the text, recorded in
the send journal, so a callback that runs twice does not page anyone twice, minutes or days apart.
Accents are stripped by default so an alert stays one GSM-7 segment (160 characters) instead of a
UCS-2 one (70).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jinja2
from airflow.sdk import BaseNotifier

from airflow_provider_fptsms.delivery import (
    FPT_DUPLICATE_WINDOW,
    NO_RECONCILER,
    Reconciler,
    Step,
    classify,
    needs_clock,
    recipient_key,
    state_after,
)
from airflow_provider_fptsms.gateways.errors import DuplicateMessageError, SmsError, mask_phone
from airflow_provider_fptsms.idempotency import operation_key_for

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fptsms.hooks.results import SendResult
    from airflow_provider_fptsms.state import SendJournal

log = logging.getLogger(__name__)

#: what an undefined template variable renders as in an alert
UNDEFINED = "-"

#: Ready-made alert texts for QC campaign DAGs (templated).
TASK_FAILED_ALERT = "QC {{ ti.dag_id }}: task {{ ti.task_id }} failed"
SIGN_OFF_ALERT = "QC {{ ti.dag_id }}: a campaign waits for your sign-off (Airflow: Required actions)"
REPORT_READY_ALERT = (
    "QC {{ ti.dag_id }}: {{ ti.xcom_pull(task_ids='delivery_report')['delivered'] }} delivered, "
    "{{ ti.xcom_pull(task_ids='delivery_report')['failed'] }} failed"
)


def forgiving_undefined(missing: list[str]) -> type[jinja2.Undefined]:
    """An ``Undefined`` that renders as ``-`` (also ``{{ a.b.c }}``) and notes the name it stood for."""

    class Forgiving(jinja2.ChainableUndefined):
        def __str__(self) -> str:
            missing.append(self._undefined_name or "?")
            return UNDEFINED

    return Forgiving


class _SmsNotifier(BaseNotifier):
    template_fields: Sequence[str] = ("message", "phones", "idempotency_key")

    def __init__(
        self,
        *,
        message: str,
        phones: Sequence[str] | str,
        strip_accents: bool = True,
        idempotency_key: str | None = None,
        state_path: str | None = None,
    ) -> None:
        super().__init__()
        self.message = message
        self.phones = phones
        self.strip_accents = strip_accents
        self.idempotency_key = idempotency_key
        self.state_path = state_path

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        """Render as Airflow does, but an undefined variable becomes ``-`` instead of failing the alert."""
        env = jinja_env or self.get_template_env(dag=context.get("dag"))
        missing: list[str] = []
        super().render_template_fields(context, env.overlay(undefined=forgiving_undefined(missing)))
        if missing:
            log.warning(
                "SMS alert template: %s undefined in this run's context, rendered as %r",
                ", ".join(sorted(set(missing))),
                UNDEFINED,
            )

    def _recipients(self) -> list[str]:
        phones = self.phones.split(",") if isinstance(self.phones, str) else list(self.phones)
        return [p.strip() for p in phones if p and p.strip()]

    def _text(self) -> str:
        from airflow_provider_fptsms.sms.text import check_message, strip_accents

        text = strip_accents(self.message) if self.strip_accents else self.message
        check_message(text, field="message")
        return text

    #: how a doubtful alert is settled (see :mod:`airflow_provider_fptsms.delivery`)
    reconciler: Reconciler = NO_RECONCILER

    def _send_one(self, phone: str, text: str, alert_id: str, replaying: bool) -> SendResult:
        raise NotImplementedError

    def _secret(self) -> str | None:
        """The connection's secret, which keys the alert ids (see :func:`..delivery.recipient_key`)."""
        raise NotImplementedError

    def _send_and_record(
        self, journal: SendJournal | None, phone: str, text: str, key: str, *, replaying: bool, failures: list[str]
    ) -> None:
        _write(journal, lambda j: j.intend([key]))
        try:
            result = self._send_one(phone, text, key, replaying)
        except DuplicateMessageError:
            log.info("SMS alert to %s: the phone already has this text from the last minutes", mask_phone(phone))
            _write(journal, lambda j: j.record(key, {"state": "refused", "final": True}))
            return
        except SmsError as error:
            failures.append(f"{mask_phone(phone)}: {error}")
            state = state_after(classify(error)).value  # a lost reply is in doubt, not refused
            _write(journal, lambda j: j.record(key, {"state": state}))
            return
        _write(journal, lambda j: j.record(key, result.as_dict()))
        log.info("SMS alert to %s: %s", mask_phone(phone), result.status.value)

    def _journal(self, operation: str) -> SendJournal | None:
        from airflow_provider_fptsms.state import SendJournal, StateStore

        try:
            return SendJournal(StateStore(self.state_path), f"alerts/{operation}")
        except Exception as error:  # an alert must not drop because its record cannot be kept
            log.warning("SMS alert journal unavailable (%s): sending without it", type(error).__name__)
            return None

    def notify(self, context: Context) -> None:
        text = self._text()
        phones = self._recipients()
        if not phones:
            from airflow_provider_fptsms.gateways.errors import InvalidInputError

            raise InvalidInputError("phones", self.phones, "no recipient", "pass at least one phone")
        operation = operation_key_for(context, self.idempotency_key)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        secret = self._secret()
        journal = self._journal(operation)
        records = _recall(journal)
        failures: list[str] = []
        try:
            now = _write(journal, lambda j: j.clock()) if needs_clock(records) else None
            for phone in phones:
                key = recipient_key(operation, f"{phone}\x1f{digest}", secret)
                step = self.reconciler.step(records.get(key), now or 0.0)
                if step is Step.SKIP:
                    log.info("SMS alert to %s: already sent for %r", mask_phone(phone), operation)
                    continue
                if step is Step.HOLD:
                    log.warning(
                        "SMS alert to %s: an earlier attempt may have been delivered (its reply was lost); "
                        "not sent again so nobody is paged twice",
                        mask_phone(phone),
                    )
                    continue
                self._send_and_record(journal, phone, text, key, replaying=step is Step.REPLAY, failures=failures)
        finally:
            _write(journal, lambda j: j.close())
        if failures:
            raise SmsError(
                f"{len(failures)} of {len(phones)} SMS alerts failed: " + "; ".join(failures),
                next_step="see each error's next step",
            )

    async def async_notify(self, context: Context) -> None:
        # The hooks are synchronous; keep the triggerer's event loop free while they run.
        await asyncio.to_thread(self.notify, context)


def _recall(journal: SendJournal | None) -> dict[str, Any]:
    if journal is None:
        return {}
    try:
        return journal.recall()
    except Exception as error:
        log.warning("SMS alert journal unreadable (%s): sending without it", type(error).__name__)
        return {}


def _write(journal: SendJournal | None, action: Any) -> Any:
    """Journal writes never stop an alert: a page that goes out unrecorded beats one that does not go out."""
    if journal is None:
        return None
    try:
        return action(journal)
    except Exception as error:
        log.warning("SMS alert journal write failed (%s)", type(error).__name__)
        return None


class FptSmsNotifier(_SmsNotifier):
    """Send an SMS alert through FPT SMS Brandname (CSKH).

    :param message: templated text, e.g. ``"{{ dag.dag_id }} failed at {{ ti.task_id }}"``.
    :param phones: list or comma-separated string (templated).
    :param strip_accents: keep the alert GSM-7 (default True).
    :param fpt_conn_id: a ``fptsms`` connection.
    :param brandname: overrides the connection's brandname.
    :param international: use FPT's international endpoint.
    :param idempotency_key: the alert's operation (templated); default dag, task, map index and
        logical date (or run id). The same key, phone and text are sent once.
    :param state_path: where the alert journal lives (default ``$AIRFLOW_HOME/fptsms/state``).
    """

    template_fields: Sequence[str] = ("message", "phones", "brandname", "idempotency_key")

    def __init__(
        self,
        *,
        message: str,
        phones: Sequence[str] | str,
        fpt_conn_id: str = "fptsms_default",
        brandname: str | None = None,
        international: bool = False,
        strip_accents: bool = True,
        idempotency_key: str | None = None,
        state_path: str | None = None,
    ) -> None:
        super().__init__(
            message=message,
            phones=phones,
            strip_accents=strip_accents,
            idempotency_key=idempotency_key,
            state_path=state_path,
        )
        self.fpt_conn_id = fpt_conn_id
        self.brandname = brandname
        self.international = international

    reconciler = FPT_DUPLICATE_WINDOW

    def _secret(self) -> str | None:
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        return FptSmsHook(self.fpt_conn_id).settings.password or None

    def _send_one(self, phone: str, text: str, alert_id: str, replaying: bool) -> SendResult:
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        return FptSmsHook(self.fpt_conn_id).send_cskh(
            phone,
            text,
            brandname=self.brandname,
            request_id=alert_id,
            international=self.international,
            replaying=replaying,
        )


class FiboSmsNotifier(_SmsNotifier):
    """Send an SMS alert through Fibo SMS (SendMaskedSMS).

    :param message: templated text.
    :param phones: list or comma-separated string (templated).
    :param fibo_conn_id: a ``fibosms`` connection.
    :param sender_name: overrides the connection extra ``sender_name``.
    :param strip_accents: keep the alert GSM-7 (default True).
    :param idempotency_key: the alert's operation (templated), as for :class:`FptSmsNotifier`.
    :param state_path: where the alert journal lives.
    """

    template_fields: Sequence[str] = ("message", "phones", "sender_name", "idempotency_key")

    def __init__(
        self,
        *,
        message: str,
        phones: Sequence[str] | str,
        fibo_conn_id: str = "fibosms_default",
        sender_name: str | None = None,
        strip_accents: bool = True,
        idempotency_key: str | None = None,
        state_path: str | None = None,
    ) -> None:
        super().__init__(
            message=message,
            phones=phones,
            strip_accents=strip_accents,
            idempotency_key=idempotency_key,
            state_path=state_path,
        )
        self.fibo_conn_id = fibo_conn_id
        self.sender_name = sender_name

    def _secret(self) -> str | None:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        return FiboSmsHook(self.fibo_conn_id).settings.password or None

    def _send_one(self, phone: str, text: str, alert_id: str, replaying: bool) -> SendResult:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        return FiboSmsHook(self.fibo_conn_id).send_masked_sms(
            phone, text, sender_name=self.sender_name, sms_guid=alert_id
        )
