"""One FPT delivery report (DLR) as FPT posts it: validated once here, sans-IO.

The manual's table capitalises some fields (``Status``, ``Telco``, ``Error``) while its sample uses
lower case, and ``smsid`` arrives as an int or a string: accept both spellings and both types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_fptsms.gateways.errors import InvalidInputError

DELIVERED = 1
FAILED = 0
#: "2 or -11: Waiting, no result yet"
WAITING = frozenset({2, -11})
FINAL = frozenset({DELIVERED, FAILED})
STATUS_NAMES: dict[int, str] = {DELIVERED: "delivered", FAILED: "failed", 2: "pending", -11: "pending"}

#: MessageIds are digits; allow a little more, but nothing that could forge a log line.
_SMSID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_TELCO = 32
MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    smsid: str
    status: int
    telco: str | None = None
    error: str | None = None
    mt_count: int | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


def _short(value: object) -> object:
    """Enough of a bad value to recognise it in the reply, never a whole body."""
    if isinstance(value, str):
        return value if len(value) <= 40 else value[:37] + "..."
    return value if len(repr(value)) <= 40 else type(value).__name__


def _bad(field: str, value: object, problem: str) -> InvalidInputError:
    return InvalidInputError(field, _short(value), problem)


def _as_int(field: str, value: object) -> int:
    if isinstance(value, bool):
        raise _bad(field, value, "must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _bad(field, value, "must be an integer")


def parse_report(body: object) -> DeliveryReport:
    """Validate a decoded JSON body; :class:`InvalidInputError` names the field that is wrong."""
    if not isinstance(body, Mapping):
        raise _bad("body", type(body).__name__, "must be a JSON object")
    fields: dict[str, Any] = {}
    for key, value in body.items():
        # an exact lower-case key wins over a capitalised duplicate
        if isinstance(key, str) and (key.lower() not in fields or key == key.lower()):
            fields[key.lower()] = value

    raw_id = fields.get("smsid")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (int, str)):
        raise _bad("smsid", raw_id, "is required: the MessageId FPT returned for the send")
    smsid = str(raw_id).strip()
    if not _SMSID.fullmatch(smsid):
        raise _bad("smsid", raw_id, "must be a MessageId (digits, at most 64 characters)")

    if "status" not in fields or fields["status"] is None:
        raise _bad("status", None, "is required (1 delivered, 0 failed, 2 or -11 waiting)")
    status = _as_int("status", fields["status"])
    if status not in STATUS_NAMES:
        raise _bad("status", fields["status"], "must be 1 (delivered), 0 (failed), 2 or -11 (waiting)")

    telco = fields.get("telco")
    if telco is not None and not isinstance(telco, str):
        raise _bad("telco", telco, "must be a string")
    telco = (telco or "").strip().lower()[:MAX_TELCO] or None

    error = fields.get("error")
    if error is not None and (isinstance(error, bool) or not isinstance(error, (str, int))):
        raise _bad("error", error, "must be a string or a code")
    error_text = None if error is None else (str(error).strip()[:MAX_ERROR] or None)

    raw_count = fields.get("mt_count")
    mt_count = None if raw_count in (None, "") else _as_int("mt_count", raw_count)
    if mt_count is not None and not 0 <= mt_count <= 255:
        raise _bad("mt_count", raw_count, "must be between 0 and 255")
    return DeliveryReport(smsid, status, telco, error_text, mt_count)
