"""Wait for a QC campaign's telco approval, then for its sending — deferred by default.

Approval usually takes 2-3 hours of telco order time (Mon-Fri 08:30-16:30), sending happens at
ScheduleTime: holding a worker slot for that would be waste, so both sensors defer to
:class:`FptCampaignStatusTrigger` unless ``deferrable=False`` (then they poke or reschedule).
A rejection fails the task at once — no retry can make the telco change its mind.

Whichever path runs (poke, the check before deferring, the trigger, ``execute_complete``), the end of
the wait and the log lines come from the same functions in :mod:`..triggers.campaign`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_fptsms._compat import AirflowException, AirflowFailException
from airflow_provider_fptsms.links import FptCampaignLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fptsms.gateways.fpt import CampaignStatus
    from airflow_provider_fptsms.triggers.campaign import WaitFor

# The trigger module is imported where a sensor runs (poke, defer, execute_complete), not when a DAG file
# is parsed: the dag processor parses every file in a fresh fork, and a constructor needs none of it.


class _CampaignStatusSensor(BaseSensorOperator):
    template_fields: Sequence[str] = ("campaign_code",)
    operator_extra_links = (FptCampaignLink(),)
    ui_color = "#f0e4ff"
    wait_for: WaitFor = "approval"

    def __init__(
        self,
        *,
        campaign_code: str,
        fpt_conn_id: str = "fptsms_default",
        deferrable: bool = True,
        poll_interval: float = 300.0,
        state_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        self.campaign_code = campaign_code
        self.fpt_conn_id = fpt_conn_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.state_path = state_path

    def _status(self, context: Context) -> CampaignStatus:
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        status = FptSmsHook(self.fpt_conn_id).campaign_status(self.campaign_code)
        if status.rejected:
            self._reject(context, status.reason)
        return status

    def _reject(self, context: Context, reason: str | None) -> None:
        self._note(context, "rejected", {"campaign_code": self.campaign_code, "state": "rejected", "reason": reason})
        raise AirflowFailException(
            f"FPT campaign {self.campaign_code} was rejected by the telco: {reason or 'no reason given'}. "
            "Next step: fix the message (blocked words, unregistered content) and create a new campaign "
            "(campaign names are single-use)."
        )

    def _done(self, status: CampaignStatus, next_check: float | None) -> bool:
        """The shared rule (:func:`campaign_outcome`), and a log line that says what was found."""
        from airflow_provider_fptsms.triggers.campaign import campaign_outcome, status_found_message, waiting_message

        outcome = campaign_outcome(status, self.wait_for)
        if outcome is None:
            self.log.info("%s", waiting_message(status, self.wait_for, next_check))
            return False
        self.log.info("%s", status_found_message(status, outcome))
        return True

    @staticmethod
    def _summary(status: CampaignStatus) -> dict[str, Any]:
        return {
            "campaign_code": status.campaign_code,
            "state": status.state,
            "total": status.total,
            "quota": status.quota,
            "sending_time": status.sending_time,
        }

    def _found(self, context: Context, summary: dict[str, Any]) -> dict[str, Any]:
        """The wait is over: the XCom, and the step for the campaign view (``approved`` or ``sent``)."""
        self._note(context, "approved" if self.wait_for == "approval" else "sent", summary)
        return summary

    def _note(self, context: Context, step: str, facts: dict[str, Any]) -> None:
        from airflow_provider_fptsms.operators._fpt import note_step
        from airflow_provider_fptsms.state import StateStore

        note_step(StateStore(self.state_path), context, facts.get("campaign_code"), step, facts, self.log)

    def poke(self, context: Context) -> PokeReturnValue:
        status = self._status(context)
        done = self._done(status, self.poke_interval)
        summary = self._found(context, self._summary(status)) if done else self._summary(status)
        return PokeReturnValue(is_done=done, xcom_value=summary)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        status = self._status(context)  # maybe it is already there: no need to defer
        if self._done(status, next_check=None):
            return self._found(context, self._summary(status))
        from airflow_provider_fptsms.triggers.campaign import FptCampaignStatusTrigger

        self.defer(
            trigger=FptCampaignStatusTrigger(
                campaign_code=self.campaign_code,
                wait_for=self.wait_for,
                fpt_conn_id=self.fpt_conn_id,
                poll_interval=self.poll_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_fptsms.triggers.campaign import found_message

        if event.get("status") == "rejected":
            self._reject(context, event.get("reason"))
        if event.get("status") == "error":
            raise AirflowException(event.get("message", "campaign status check failed"))
        self.log.info(
            "%s",
            found_message(
                event.get("campaign_code") or self.campaign_code,
                event.get("status"),
                total=event.get("total"),
                quota=event.get("quota"),
                sending_time=event.get("sending_time"),
            ),
        )
        summary = {key: event.get(key) for key in ("campaign_code", "state", "total", "quota", "sending_time")}
        return self._found(context, {**summary, "campaign_code": summary["campaign_code"] or self.campaign_code})


class FptCampaignApprovalSensor(_CampaignStatusSensor):
    """Succeed when telcos approve the campaign (``detail-ads`` StatusDetail.Status = 1).

    Fails immediately, without retries, when the campaign is rejected (the Reason is in the error).
    Default timeout 12 h: approval takes 2-3 h of telco order time (Mon-Fri 08:30-16:30);
    raise it for campaigns ordered before a weekend.

    :param campaign_code: CampaignCode (templated; usually the create task's XCom).
    :param fpt_conn_id: a ``fptsms`` connection.
    :param deferrable: wait in the triggerer (default); ``False`` pokes on the worker.
    :param poll_interval: seconds between ``detail-ads`` calls (default 5 minutes).
    :param state_path: where the campaign view's records live (as the operators' ``state_path``; default
        ``$FPTSMS_STATE_PATH`` or ``$AIRFLOW_HOME/fptsms/state``).
    """

    wait_for: WaitFor = "approval"

    def __init__(
        self,
        *,
        campaign_code: str,
        fpt_conn_id: str = "fptsms_default",
        deferrable: bool = True,
        poll_interval: float = 300.0,
        state_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("timeout", 12 * 3600)
        super().__init__(
            campaign_code=campaign_code,
            fpt_conn_id=fpt_conn_id,
            deferrable=deferrable,
            poll_interval=poll_interval,
            state_path=state_path,
            **kwargs,
        )


class FptCampaignSentSensor(_CampaignStatusSensor):
    """Succeed when the campaign has been sent (``IsSent`` = 1, after its ScheduleTime).

    Fails immediately when the campaign is rejected. Default timeout 3 days.

    :param campaign_code: CampaignCode (templated; usually the create task's XCom).
    :param fpt_conn_id: a ``fptsms`` connection.
    :param deferrable: wait in the triggerer (default); ``False`` pokes on the worker.
    :param poll_interval: seconds between ``detail-ads`` calls (default 10 minutes).
    :param state_path: where the campaign view's records live (as the operators' ``state_path``; default
        ``$FPTSMS_STATE_PATH`` or ``$AIRFLOW_HOME/fptsms/state``).
    """

    wait_for: WaitFor = "sent"

    def __init__(
        self,
        *,
        campaign_code: str,
        fpt_conn_id: str = "fptsms_default",
        deferrable: bool = True,
        poll_interval: float = 600.0,
        state_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("timeout", 3 * 24 * 3600)
        super().__init__(
            campaign_code=campaign_code,
            fpt_conn_id=fpt_conn_id,
            deferrable=deferrable,
            poll_interval=poll_interval,
            state_path=state_path,
            **kwargs,
        )
