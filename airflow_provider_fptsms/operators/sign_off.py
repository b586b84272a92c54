"""A marketing sign-off before a QC campaign is created: an Airflow Human-in-the-loop approval.

The task shows a Markdown preview of the campaign to the named respondents (the Airflow UI's
*Required actions* page, or ``PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails``)
and waits for *Approve* or *Reject*:

- **Approve**: the task succeeds and the lifecycle after it runs as usual.
- **Reject**: the task succeeds (a human answered; the decision is recorded with who gave it) and
  **every** task after it is skipped, whatever its trigger rule: nothing is created, nothing is spent.
  The DAG run ends ``success`` with those tasks ``skipped``. ``fail_on_reject=True`` fails the task
  (and the run) instead, on a timeout too.
- **No answer within** ``timeout``: the same as *Reject*, recorded without a respondent. A sign-off
  never approves by default.

Needs Airflow 3.1+ (Human-in-the-loop) and apache-airflow-providers-standard 1.12.2+ (``response_timeout``,
apache/airflow#63475; the package requires 1.20); on older Airflow lines :func:`sign_off_task` fails when
the DAG file is parsed, naming the version it needs.
``airflow dags test`` runs a sign-off from Airflow 3.3 on only: on 3.1/3.2 it runs the wait's trigger inline,
under a supervisor that does not serve the trigger's Human-in-the-loop requests, and the task fails.

The body is stored and shown as rendered, unmasked (Airflow's masker covers the Rendered tab, not the
Human-in-the-loop detail): a preview must mask phone numbers itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms._compat import require_airflow
from airflow_provider_fptsms.gateways.errors import InvalidInputError

if TYPE_CHECKING:
    from airflow.providers.standard.operators.hitl import ApprovalOperator
    from airflow.sdk import BaseNotifier

__all__ = [
    "MIN_AIRFLOW",
    "SIGN_OFF_FEATURE",
    "preview_body",
    "require_sign_off",
    "sign_off_task",
]

#: Human-in-the-loop operators first ship with Airflow 3.1.
MIN_AIRFLOW = "3.1"
SIGN_OFF_FEATURE = "A campaign sign-off (Human-in-the-loop approval)"

#: Arguments of ApprovalOperator a sign-off sets itself, because each one could let a campaign go out unapproved
#: or change what the timeout means; the message says what to use instead.
_FIXED = {
    "defaults": "a sign-off without an answer is always rejected",
    "ignore_downstream_trigger_rules": "a rejected sign-off skips every task after it",
    "response_timeout": "use timeout=",
    "execution_timeout": "use timeout= for the response deadline",
}


def require_sign_off() -> None:
    """Raise ``AirflowOptionalProviderFeatureException`` naming the version needed on Airflow < 3.1."""
    require_airflow(MIN_AIRFLOW, SIGN_OFF_FEATURE)


def preview_body(task_id: str, field: str | None = None) -> str:
    """The ``body`` template that shows the Markdown a preview task returned (its ``return_value`` XCom).

    :param task_id: the preview task's id.
    :param field: the key of the Markdown in the returned mapping (``"markdown"`` for
        ``FptCampaignPreviewOperator``); ``None`` when the task returns the Markdown itself.
    """
    pulled = f"ti.xcom_pull(task_ids={task_id!r})" + (f"[{field!r}]" if field else "")
    return "{{ " + pulled + " }}"


def _users(respondents: str | Sequence[str | Mapping[str, str]] | None) -> list[dict[str, str]] | None:
    if respondents is None:
        return None
    items = [respondents] if isinstance(respondents, (str, Mapping)) else list(respondents)
    users = []
    for item in items:
        if isinstance(item, str) and item.strip():
            users.append({"id": item.strip(), "name": item.strip()})
        elif isinstance(item, Mapping) and str(item.get("id", "")).strip():
            user_id = str(item["id"]).strip()
            users.append({"id": user_id, "name": str(item.get("name") or user_id)})
        else:
            raise InvalidInputError(
                "respondents", item, "is not a user id", "a non-empty string or a mapping with 'id'"
            )
    if not users:
        raise InvalidInputError(
            "respondents", [], "is empty", "name who signs off, or leave it out to let anyone allowed to respond answer"
        )
    return users


def sign_off_task(
    *,
    body: str,
    subject: str,
    respondents: str | Sequence[str | Mapping[str, str]] | None = None,
    timeout: timedelta | None = None,
    notifiers: Sequence[BaseNotifier] | None = None,
    task_id: str = "sign_off",
    fail_on_reject: bool = False,
    **kwargs: Any,
) -> ApprovalOperator:
    """An Airflow ``ApprovalOperator`` that signs a campaign off before it is created.

    Put it upstream of the task that creates (or spends on) the campaign. *Approve* lets the tasks after it
    run; *Reject*, or no answer within ``timeout``, skips every one of them (``ignore_downstream_trigger_rules``)
    and the run ends ``success`` with them ``skipped`` — or the task fails, with ``fail_on_reject=True``.
    The decision, who gave it and when are in the task's Human-in-the-loop detail (the UI's *Required actions*,
    ``GET .../hitlDetails``); a timeout is recorded as *Reject* with no respondent.

    ``retries`` defaults to 0: a retry would ask the respondents again (and give a rejected campaign a second
    chance). The DAG's ``execution_timeout`` default is not applied: it would become the response deadline.

    :param body: the Markdown shown to the respondents (templated), e.g. :func:`preview_body` of the preview task.
    :param subject: the headline of the request (templated).
    :param respondents: who may answer: user ids as the auth manager knows them (``user.get_id()``: the
        username for the simple auth manager, the numeric id for FAB), or mappings with ``id`` and ``name``.
        ``None``: anyone the auth manager lets answer Human-in-the-loop tasks of this DAG.
    :param timeout: how long to wait for an answer; then the sign-off counts as rejected. ``None``: wait until
        someone answers. Enforced by the triggerer on Airflow 3.1/3.2 and by the scheduler on 3.3+, every
        ``[scheduler] trigger_timeout_check_interval`` (15 s); ``airflow dags test`` has no scheduler, so
        there it waits past the deadline until someone answers.
    :param notifiers: Airflow notifiers called when the request is written (e.g. to tell the respondents),
        with the task's context.
    :param task_id: the task's id.
    :param fail_on_reject: fail the task (and so the run) on *Reject*, and on a timeout, instead of skipping
        what follows. Airflow discourages it: a rejection is an answer, not an error; a failure also fires
        ``on_failure_callback`` alerts.
    :param kwargs: other ``BaseOperator`` arguments (``doc_md``, ``owner``, ``pool``, ``on_failure_callback``,
        ``retries``...). ``defaults``, ``response_timeout``, ``execution_timeout`` and
        ``ignore_downstream_trigger_rules`` are refused: the sign-off sets them.
    :raises AirflowOptionalProviderFeatureException: on Airflow < 3.1, naming the version needed.
    """
    require_sign_off()
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    for name, reason in _FIXED.items():
        if name in kwargs:
            raise InvalidInputError(name, kwargs[name], "is set by the sign-off itself", reason)
    if timeout is not None and (not isinstance(timeout, timedelta) or timeout <= timedelta(0)):
        raise InvalidInputError(
            "timeout",
            timeout,
            "is not a positive timedelta",
            "e.g. timedelta(hours=4); None waits until someone answers",
        )
    kwargs.setdefault("retries", 0)
    return ApprovalOperator(
        task_id=task_id,
        subject=subject,
        body=body,
        assigned_users=_users(respondents),
        response_timeout=timeout,
        defaults=ApprovalOperator.REJECT,
        notifiers=list(notifiers) if notifiers else None,
        fail_on_reject=fail_on_reject,
        ignore_downstream_trigger_rules=True,
        execution_timeout=None,
        **kwargs,
    )
