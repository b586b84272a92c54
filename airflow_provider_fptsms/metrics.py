"""Counters through Airflow's ``Stats``: StatsD or OpenTelemetry, whichever the deployment configured.

Every name starts with ``fptsms.``; tags are low-cardinality (the gateway, a status), never a phone, a
campaign code or a message id. With no metrics backend configured, ``Stats`` drops them at no cost.

======================================  =========================  =============================================
name                                    tags                       counted when
======================================  =========================  =============================================
``fptsms.messages.sent``                ``gateway``                a CSKH send's message is accepted
``fptsms.messages.failed``              ``gateway``                the gateway refused it
``fptsms.messages.in_doubt``            ``gateway``                its reply was lost (not sent again)
``fptsms.phones.pushed``                ``gateway``                a QC push's phones are acknowledged
``fptsms.phones.suppressed``            ``gateway``                a phone was on a do-not-contact list
``fptsms.phones.capped``                ``gateway``                the 3-per-24h cap stopped a phone
``fptsms.dlr.received``                 ``status``                 the webhook stored a delivery report
``fptsms.webhook.refused``              ``http_status``            the webhook refused a post
======================================  =========================  =============================================
"""

from __future__ import annotations

PREFIX = "fptsms"


def warm_up() -> None:
    """Import Airflow's ``Stats`` now (seconds of imports): a server calls this at start, not on its first request."""
    from airflow.providers.common.compat.sdk import Stats  # noqa: F401 - Stats moved between Airflow 3 lines


def count(name: str, value: int = 1, **tags: str) -> None:
    """Add ``value`` to the counter ``fptsms.<name>`` (nothing for 0: a quiet run sends no packets)."""
    if value <= 0:
        return
    from airflow.providers.common.compat.sdk import Stats  # Stats moved between Airflow 3 lines

    Stats.incr(f"{PREFIX}.{name}", count=value, tags=tags or None)


def count_send(gateway: str, summary: dict[str, object]) -> None:
    """A CSKH send's outcome, from its summary (what this try sent, failed or left in doubt)."""
    for status in ("sent", "failed", "in_doubt"):
        value = summary.get(status, 0)
        count(f"messages.{status}", value if isinstance(value, int) else 0, gateway=gateway)
    suppression = summary.get("suppression")
    if isinstance(suppression, dict):
        count("phones.suppressed", int(suppression.get("suppressed", 0)), gateway=gateway)
