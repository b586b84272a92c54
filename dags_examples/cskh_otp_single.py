"""One OTP to one customer, triggered by an application, with neither the phone nor the code in the run's conf.

Why: ``dag_run.conf`` is stored in clear in the metadata database and shown by the UI, the REST
API and the audit log, to everyone who may read the DAG's runs. A phone number or a one-time code
there leaks. So the application sends only a *reference*, and names the run itself::

    POST /api/v2/dags/cskh_otp_single/dagRuns
    {"dag_run_id": "otp-<uuid>", "logical_date": null, "conf": {"customer_id": "KH0001"}}

Inside the task, and nowhere else:

- the phone is looked up by customer id in the customer directory (here a CSV next to this file;
  in production your CRM table, read through its own hook and connection);
- the code comes from :mod:`secrets` and is written to the OTP store under the run id, for the
  application to check what the customer types (``hmac.compare_digest``) and then delete. The
  store holds the code itself, not a hash, for one reason: a retry of the same run must send the
  *same* text, so that a reply lost in flight is settled by FPT's 5-minute duplicate rule instead of
  a second SMS with another code. So the entry outlives that window (:data:`OTP_TTL`), the file is
  readable by its owner only, and in production the store is a table the verifying service owns
  (Redis with a TTL, say) — set ``FPTSMS_OTP_STORE`` to a path both can reach.
- both are registered with Airflow's secrets masker before anything is logged, and the message
  template holds ``{otp}``, never the code: the Rendered tab shows the template (``***`` too, with
  ``mask_message=True``), XCom gets the usual summary (masked phone), the logs show ``***``.

The RequestId comes from the run (one challenge, one run, one SMS): retrying the task never sends a
second OTP.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import Param, dag

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.operators.send import FptSendSmsOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

DIRECTORY = Path(__file__).parent / "data" / "customer_directory.csv"
#: How long a code may be checked. Longer than FPT's 5-minute duplicate window, so a retry that
#: replays an in-doubt send inside that window always finds, and sends, the same code.
OTP_TTL = timedelta(minutes=10)
OTP_DIGITS = 6


def otp_store() -> Path:
    """Where codes wait for the application to check them (shared with it in production)."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return Path(os.environ.get("FPTSMS_OTP_STORE") or f"{home}/fptsms/otp")


def customer_phone(customer_id: str) -> str:
    """The customer's phone from the directory: the run carries the id, never the number."""
    with DIRECTORY.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["customer_id"] == customer_id:
                return row["so_dien_thoai"]
    raise InvalidInputError(
        "customer_id", customer_id, f"is not in the customer directory {DIRECTORY.name}", "check the id the app sent"
    )


def issue_code(challenge: str) -> str:
    """The code of this challenge (the run id): a live one is reused, so every try sends the same text."""
    path = otp_store() / f"{''.join(c if c.isalnum() or c in '-_.' else '_' for c in challenge)}.json"
    if path.is_file():
        entry = json.loads(path.read_text())
        if entry["expires_at"] > time.time():
            return str(entry["code"])
    code = f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump({"code": code, "expires_at": time.time() + OTP_TTL.total_seconds()}, handle)
    partial.replace(path)  # atomic: the application never reads half an entry
    return code


class CustomerOtpOperator(FptSendSmsOperator):
    """FptSendSmsOperator whose recipient and code are resolved inside ``execute``: nothing of them
    is a template field, so neither reaches the run's conf, the Rendered tab or XCom."""

    template_fields: Sequence[str] = (*FptSendSmsOperator.template_fields, "customer_id")

    def __init__(self, *, customer_id: str, **kwargs: Any) -> None:
        super().__init__(phones=[], **kwargs)
        self.customer_id = customer_id

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_fptsms.hooks._http import mask
        from airflow_provider_fptsms.sms.phones import normalise

        phone = customer_phone(str(self.customer_id))
        code = issue_code(context["run_id"])
        for secret in (phone, normalise(phone), code):  # before anything can log them
            mask(secret)
        self.phones = [{"phone": phone, "otp": code}]
        return super().execute(context)


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["fptsms", "cskh", "example"],
    params={"customer_id": Param("KH0001", type="string", description="a customer id, never a phone number")},
)
def cskh_otp_single() -> None:
    CustomerOtpOperator(
        task_id="send_otp",
        customer_id="{{ params.customer_id }}",
        message="Ma OTP cua ban la {otp}. Khong chia se ma nay cho bat ky ai.",
        idempotency_key="otp-{{ run_id }}",  # one challenge = one run = one SMS, whatever the retries
        max_segments=1,
        mask_message=True,  # the text holds the code: *** in the Rendered tab and the logs
        retries=2,
    )


cskh_otp_single()
