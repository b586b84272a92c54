"""``FptSmsNotifier`` / ``FiboSmsNotifier``: SMS alerts from ``on_failure_callback`` & co.

Each alert carries an id derived from the DAG run, the task, the phone and the text, so a
callback that runs twice does not page anyone twice (FPT answers 2501 for a repeated RequestId;
Fibo recognises a repeated smsGUID). Accents are stripped by default so an alert stays one
GSM-7 segment (160 characters) instead of a UCS-2 one (70).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from airflow_provider_fptsms.gateways.errors import SmsError, mask_phone

if TYPE_CHECKING:
    from airflow.sdk import Context


#: Ready-made alert texts for QC campaign DAGs (templated).
TASK_FAILED_ALERT = "QC {{ ti.dag_id }}: task {{ ti.task_id }} failed"
REPORT_READY_ALERT = (
    "QC {{ ti.dag_id }}: {{ ti.xcom_pull(task_ids='delivery_report')['delivered'] }} delivered, "
    "{{ ti.xcom_pull(task_ids='delivery_report')['failed'] }} failed"
)


class _SmsNotifier(BaseNotifier):
    template_fields: Sequence[str] = ("message", "phones")

    def __init__(self, *, message: str, phones: Sequence[str] | str, strip_accents: bool = True) -> None:
        super().__init__()
        self.message = message
        self.phones = phones
        self.strip_accents = strip_accents

    def _recipients(self) -> list[str]:
        phones = self.phones.split(",") if isinstance(self.phones, str) else list(self.phones)
        return [p.strip() for p in phones if p and p.strip()]

    def _text(self) -> str:
        from airflow_provider_fptsms.sms.text import check_message, strip_accents

        text = strip_accents(self.message) if self.strip_accents else self.message
        check_message(text, field="message")
        return text

    @staticmethod
    def _alert_id(context: Context, phone: str, text: str) -> str:
        run = context.get("dag_run")
        ti = context.get("ti")
        parts = [
            getattr(run, "dag_id", "") or getattr(ti, "dag_id", ""),
            getattr(run, "run_id", "") or getattr(ti, "run_id", ""),
            getattr(ti, "task_id", "") or "dag",
            phone,
            text,
        ]
        return "alert-" + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]

    def _send_one(self, phone: str, text: str, alert_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def notify(self, context: Context) -> None:
        text = self._text()
        phones = self._recipients()
        if not phones:
            from airflow_provider_fptsms.gateways.errors import InvalidInputError

            raise InvalidInputError("phones", self.phones, "no recipient", "pass at least one phone")
        failures: list[str] = []
        for phone in phones:
            try:
                result = self._send_one(phone, text, self._alert_id(context, phone, text))
                self.log.info("SMS alert to %s: %s", mask_phone(phone), result["status"])
            except SmsError as error:
                failures.append(f"{mask_phone(phone)}: {error}")
        if failures:
            raise SmsError(
                f"{len(failures)} of {len(phones)} SMS alerts failed: " + "; ".join(failures),
                next_step="see each error's next step",
            )

    async def async_notify(self, context: Context) -> None:
        # The hooks are synchronous; keep the triggerer's event loop free while they run.
        await asyncio.to_thread(self.notify, context)


class FptSmsNotifier(_SmsNotifier):
    """Send an SMS alert through FPT SMS Brandname (CSKH).

    :param message: templated text, e.g. ``"{{ dag.dag_id }} failed at {{ ti.task_id }}"``.
    :param phones: list or comma-separated string (templated).
    :param strip_accents: keep the alert GSM-7 (default True).
    """

    template_fields: Sequence[str] = ("message", "phones", "brandname")

    def __init__(
        self,
        *,
        message: str,
        phones: Sequence[str] | str,
        fpt_conn_id: str = "fptsms_default",
        brandname: str | None = None,
        international: bool = False,
        strip_accents: bool = True,
    ) -> None:
        super().__init__(message=message, phones=phones, strip_accents=strip_accents)
        self.fpt_conn_id = fpt_conn_id
        self.brandname = brandname
        self.international = international

    def _send_one(self, phone: str, text: str, alert_id: str) -> dict[str, Any]:
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        return FptSmsHook(self.fpt_conn_id).send_cskh(
            phone, text, brandname=self.brandname, request_id=alert_id, international=self.international
        )


class FiboSmsNotifier(_SmsNotifier):
    """Send an SMS alert through Fibo SMS (SendMaskedSMS)."""

    template_fields: Sequence[str] = ("message", "phones", "sender_name")

    def __init__(
        self,
        *,
        message: str,
        phones: Sequence[str] | str,
        fibo_conn_id: str = "fibosms_default",
        sender_name: str | None = None,
        strip_accents: bool = True,
    ) -> None:
        super().__init__(message=message, phones=phones, strip_accents=strip_accents)
        self.fibo_conn_id = fibo_conn_id
        self.sender_name = sender_name

    def _send_one(self, phone: str, text: str, alert_id: str) -> dict[str, Any]:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        return FiboSmsHook(self.fibo_conn_id).send_sms(phone, text, sender_name=self.sender_name, sms_guid=alert_id)
