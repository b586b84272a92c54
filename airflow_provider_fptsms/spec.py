"""A QC campaign as configuration: a YAML spec becomes the lifecycle DAG with one call.

    # dags/tet_promo.py
    from airflow_provider_fptsms.spec import campaign_dag
    dag = campaign_dag("campaigns/tet_promo.yaml")

The spec is checked when the DAG file is parsed, so a typo fails in the DAG processor with the
field, the value and what to write instead — not days later in the middle of a campaign. Its keys are
declared once, in :mod:`airflow_provider_fptsms.spec_schema` (a JSON Schema, also the README's table).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.spec_schema import SCHEMA, SCHEMA_VERSION, markdown_table, schema_errors

if TYPE_CHECKING:
    from airflow.sdk import DAG

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "CampaignSpec",
    "CampaignSpecDeprecationWarning",
    "CampaignSpecError",
    "campaign_dag",
    "load_spec",
    "markdown_table",
]

log = logging.getLogger(__name__)

_SEND_TIME = "send_at: next_valid (or 'YYYY-MM-DD HH:mm', Vietnam time)"
_CRON_FIELD = re.compile(r"^[0-9*?/,#LW-]+$|^[A-Za-z]{3}([,-][A-Za-z]{3})*$")
_SEND_AT_VALUE = re.compile(str(SCHEMA["properties"]["send_at"]["pattern"]))


class CampaignSpecError(InvalidInputError):
    """The campaign spec is not valid; the message names the file and the field."""


class CampaignSpecDeprecationWarning(FutureWarning):
    """A spec uses a key's old name (``schedule:`` for ``send_at:``): it still works, rename it.

    A ``FutureWarning`` rather than a ``DeprecationWarning``: the reader is the DAG's author, and Python
    hides ``DeprecationWarning`` raised outside ``__main__`` by default. A log line says the same.
    """


@dataclass(frozen=True)
class SignOff:
    """``sign_off:``: who approves the campaign before it is created, and how long they have."""

    respondents: tuple[str, ...]
    timeout: timedelta = timedelta(hours=24)
    #: SMS the alerts phones when a sign-off waits
    notify: bool = False


@dataclass(frozen=True)
class CampaignSpec:
    source: Path
    dag_id: str
    message: str
    #: FPT's ScheduleTime: ``next_valid`` or ``YYYY-MM-DD HH:mm`` Vietnam time (key ``send_at:``)
    send_at: str
    audience_path: str
    audience_column: str | int | None = None
    name: str | None = None
    brandname: str | None = None
    quota_margin: int = 0
    chunk_size: int = 1000
    report_path: str | None = None
    report_wait: timedelta = timedelta(days=7)
    alert_phones: tuple[str, ...] = ()
    alert_via: str = "fpt"
    poll_interval: float = 300.0
    fpt_conn_id: str = "fptsms_default"
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: the DAG's own Airflow schedule (key ``dag_schedule:``); None: only when triggered
    dag_schedule: str | None = None
    pool: str | None = None
    pool_slots: int | None = None
    retries: int | None = None
    retry_delay: timedelta | None = None
    #: add the advertising label when the message lacks it (``True``: ``[QC]``)
    auto_label: bool | str = False
    #: do-not-contact lists, by name (a file's name when the spec lists paths)
    suppress: dict[str, str] = field(default_factory=dict)
    #: the frequency cap across campaigns (None: off)
    max_per_24h: int | None = 3
    #: VND per message part by telco (empty: the connection's ``prices`` extra)
    prices: dict[str, float] = field(default_factory=dict)
    #: a human approval before the campaign is created (None: none)
    sign_off: SignOff | None = None

    @property
    def schedule(self) -> str:
        """The old name of :attr:`send_at`."""
        return self.send_at

    def task_defaults(self) -> dict[str, Any]:
        """The spec's task settings as ``default_args`` (only those the spec sets)."""
        settings = {
            "pool": self.pool,
            "pool_slots": self.pool_slots,
            "retries": self.retries,
            "retry_delay": self.retry_delay,
        }
        return {key: value for key, value in settings.items() if value is not None}


def load_spec(path: str | os.PathLike[str]) -> CampaignSpec:
    """Read and check a campaign spec (YAML) against :data:`SCHEMA`, then the rules a schema cannot say."""
    import yaml

    source = Path(path)
    if not source.is_file():
        raise CampaignSpecError("spec_path", str(path), "file not found", "pass the path of the campaign YAML")
    # libyaml's parser when PyYAML has it: the same SafeLoader constructors and resolvers (the same values,
    # the same error classes), ~10x faster than the pure-Python one, and this runs on every DAG file parse.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(source.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506  # a safe loader
    except yaml.YAMLError as exc:
        raise CampaignSpecError(
            "spec", source.name, f"is not valid YAML ({exc.__class__.__name__})", "check indentation and quotes"
        ) from None
    if not isinstance(data, dict):
        raise CampaignSpecError(
            "spec",
            source.name,
            "must be a mapping of settings",
            f"see the campaign spec table in the README (schema version {SCHEMA_VERSION})",
        )
    checker = _Checker(source, data)
    return checker.spec()


def _looks_like_airflow_schedule(value: object) -> bool:
    """``@daily``, a cron expression, ``None``: what a user writes for Airflow's ``schedule=``."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    if text.casefold() in ("none", "null", "") or text.startswith("@"):
        return True
    fields = text.split()
    return len(fields) in (5, 6) and all(_CRON_FIELD.match(f) for f in fields)


def _whole(value: Any) -> int | None:
    """A whole number from YAML (``2`` or ``2.0``, as JSON Schema's integer allows), None when unset."""
    return None if value is None else int(value)


def _first_caller_outside() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this module (the DAG file)."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


def _as_text(value: object) -> object:
    """A YAML timestamp or date (``2027-01-20 09:00:00`` unquoted) back as the text the user meant."""
    from airflow_provider_fptsms.sms.schedule import SCHEDULE_FORMAT

    if isinstance(value, datetime):
        return value.strftime(SCHEDULE_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Checker:
    def __init__(self, source: Path, data: dict[str, Any]) -> None:
        self.source = source
        self.data = data

    def fail(self, name: str, value: object, problem: str, hint: str) -> CampaignSpecError:
        return CampaignSpecError(f"{self.source.name}: {name}", value, problem, hint)

    def spec(self) -> CampaignSpec:
        from airflow_provider_fptsms.sms.compliance import qc_message
        from airflow_provider_fptsms.sms.cost import check_prices
        from airflow_provider_fptsms.sms.phones import normalise
        from airflow_provider_fptsms.sms.text import check_message

        data = self._renamed(dict(self.data))
        self._not_an_airflow_schedule(data)
        problems = schema_errors(data)
        if problems:
            first = problems[0]
            raise self.fail(first.key, first.value, first.problem, first.hint)
        message = data["message"].strip()
        auto_label = data.get("auto_label", False)
        try:
            check_message(qc_message(message, auto_label), field="message")
        except InvalidInputError as error:
            raise self.fail("message", "<text>", error.description.split(": ", 1)[-1], error.next_step) from None
        try:
            prices = check_prices(data.get("prices"))
        except InvalidInputError as error:
            raise self.fail(error.field, error.value, error.description.split(": ", 1)[-1], error.next_step) from None
        send_at = self._send_at(data["send_at"].strip())
        audience = data["audience"]
        if isinstance(audience, str):
            audience = {"path": audience}
        audience_path = self._path("audience.path", audience["path"], must_exist=True)
        column = audience.get("column")
        if column is not None and "://" not in audience_path:
            self._column_in_header(audience_path, column)
        report = data.get("report") or {}
        alerts = data.get("alerts") or {}
        phones = alerts.get("phones") or []
        if isinstance(phones, str):
            phones = phones.split(",")
        for phone in phones:
            try:
                normalise(str(phone))
            except InvalidInputError as error:
                raise self.fail(
                    "alerts.phones", error.value, error.description.split(": ", 1)[-1], error.next_step
                ) from None
        delay = data.get("retry_delay_minutes")
        return CampaignSpec(
            source=self.source,
            dag_id=data.get("dag_id") or f"qc_{self.source.stem.replace('-', '_')}",
            message=message,
            send_at=send_at,
            audience_path=audience_path,
            audience_column=column,
            name=(data.get("name") or "").strip() or None,
            brandname=(data.get("brandname") or "").strip() or None,
            quota_margin=int(data.get("quota_margin", 0)),
            chunk_size=int(data.get("chunk_size", 1000)),
            report_path=self._path("report.path", report["path"], must_exist=False) if report.get("path") else None,
            report_wait=timedelta(days=report.get("wait_days", 7)),
            alert_phones=tuple(str(p).strip() for p in phones),
            alert_via=alerts.get("via", "fpt"),
            poll_interval=60.0 * data.get("poll_minutes", 5),
            fpt_conn_id=data.get("fpt_conn_id") or "fptsms_default",
            tags=tuple(data.get("tags") or ()),
            dag_schedule=data.get("dag_schedule"),
            pool=data.get("pool"),
            pool_slots=_whole(data.get("pool_slots")),
            retries=_whole(data.get("retries")),
            retry_delay=None if delay is None else timedelta(minutes=delay),
            auto_label=auto_label,
            suppress=self._suppress(data.get("suppress")),
            max_per_24h=_whole(data.get("max_per_24h", 3)),
            prices=prices,
            sign_off=self._sign_off(data.get("sign_off"), bool(phones)),
        )

    def _sign_off(self, value: dict[str, Any] | None, has_alert_phones: bool) -> SignOff | None:
        """``sign_off:``, refused when the DAG is parsed on an Airflow without Human-in-the-loop (< 3.1)."""
        if not value:
            return None
        from airflow_provider_fptsms._compat import AirflowOptionalProviderFeatureException
        from airflow_provider_fptsms.operators.sign_off import require_sign_off

        try:
            require_sign_off()
        except AirflowOptionalProviderFeatureException as error:
            raise self.fail("sign_off", "{...}", str(error), "remove sign_off: or upgrade Airflow") from None
        if value.get("notify") and not has_alert_phones:
            raise self.fail("sign_off.notify", True, "needs alerts.phones to send to", "add alerts: {phones: [...]}")
        respondents = value["respondents"]
        names = (respondents,) if isinstance(respondents, str) else tuple(respondents)
        return SignOff(
            respondents=tuple(name.strip() for name in names),
            timeout=timedelta(hours=value.get("timeout_hours", 24)),
            notify=bool(value.get("notify", False)),
        )

    def _suppress(self, value: object) -> dict[str, str]:
        """The do-not-contact lists by name; local files are resolved against the spec and must exist."""
        if not value:
            return {}
        named: list[tuple[str, str | None, Any]]
        if isinstance(value, dict):
            named = [(f"suppress.{name}", str(name), path) for name, path in value.items()]
        else:
            paths = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
            named = [(f"suppress[{index}]", None, path) for index, path in enumerate(paths)]
        lists: dict[str, str] = {}
        for key, name, path in named:
            resolved = self._path(key, path, must_exist=True)
            lists[name or Path(resolved).name] = resolved
        return lists

    def _renamed(self, data: dict[str, Any]) -> dict[str, Any]:
        """``schedule:`` (spec version 1) read as ``send_at:``, with a warning; an Airflow schedule there fails."""
        for key in ("send_at", "schedule", "dag_schedule"):
            if key in data:
                data[key] = _as_text(data[key])
        if "schedule" not in data:
            return data
        value = data["schedule"]
        if "send_at" in data:
            raise self.fail("schedule", value, "is the old name of send_at, and send_at is set too", "delete it")
        if _looks_like_airflow_schedule(value):
            raise self._airflow_schedule("schedule", value, "FPT's send time (the old name of send_at)")
        text = (
            f"{self.source.name}: 'schedule:' is the old name of 'send_at:' (FPT's ScheduleTime, not the DAG's "
            "schedule): rename it to 'send_at:'; 'schedule:' will stop working in a future version. "
            "The DAG's own schedule is 'dag_schedule:'."
        )
        warnings.warn(text, CampaignSpecDeprecationWarning, stacklevel=_first_caller_outside())
        log.warning("%s", text)
        return {("send_at" if key == "schedule" else key): item for key, item in data.items()}

    def _not_an_airflow_schedule(self, data: dict[str, Any]) -> None:
        value = data.get("send_at")
        if "send_at" in data and (value is None or isinstance(value, str)) and _looks_like_airflow_schedule(value):
            raise self._airflow_schedule("send_at", value, "FPT's send time")
        dag_schedule = data.get("dag_schedule")
        if isinstance(dag_schedule, str) and _SEND_AT_VALUE.match(dag_schedule.strip()):
            raise self.fail(
                "dag_schedule",
                dag_schedule,
                "is a send time, not an Airflow schedule",
                "move it to 'send_at:'; dag_schedule takes a cron expression or a preset such as @daily, "
                "or leave it out (the DAG then runs only when triggered)",
            )

    def _airflow_schedule(self, key: str, value: object, meaning: str) -> CampaignSpecError:
        shown = "None" if value is None or str(value).strip().casefold() in ("none", "null", "") else repr(value)
        problem = f"is {meaning}, not the DAG's schedule: {shown} is an Airflow schedule"
        if shown == "None":
            hint = f"leave out dag_schedule: (the DAG then runs only when triggered) and write {_SEND_TIME}"
        else:
            hint = f"write the DAG's schedule as dag_schedule: {shown} and the send time as {_SEND_TIME}"
        return self.fail(key, value, problem, hint)

    def _send_at(self, text: str) -> str:
        """``next_valid`` or a minute inside a send window; outside, the run-time rule says the next valid slot.

        Only the window is checked here (it does not depend on the clock): a DAG whose fixed send time has
        passed must still parse; its next run fails at create_campaign with the same next-slot message.
        """
        from airflow_provider_fptsms.sms.schedule import (
            SCHEDULE_FORMAT,
            ScheduleError,
            in_send_window,
            validate_schedule,
        )

        if text == "next_valid":
            return text
        try:
            moment = datetime.strptime(text, SCHEDULE_FORMAT)
        except ValueError:  # right shape, impossible date ('2027-02-30 09:00', '2027-01-20 25:00')
            raise self.fail(
                "send_at", text, "is not a real date and time", "e.g. '2027-01-20 09:00' or next_valid"
            ) from None
        if not in_send_window(moment):
            try:
                validate_schedule(moment)  # the run-time rule, with its next valid slot
            except ScheduleError as error:
                problem = error.description.split(": ", 1)[-1].removeprefix(f"{text} ")
                raise self.fail("send_at", text, problem, error.next_step) from None
        return text

    def _column_in_header(self, path: str, column: str | int) -> None:
        """The named column is in the local file's header (only its first lines are read)."""
        from airflow_provider_fptsms.sms.audience import layout

        try:
            layout(path, column)
        except InvalidInputError as error:
            problem = error.description.split(": ", 1)[-1]
            if error.field == "encoding":
                hint = "save the file as UTF-8 (Excel: 'CSV UTF-8')"
            elif "header" in problem:
                problem = f"is not in the header of {Path(path).name}: {problem.removeprefix('not in header ')}"
                hint = "write one of those names (case does not matter) or a 0-based index"
            else:
                hint = "drop 'column:' or use a .csv / .tsv file"
            raise self.fail("audience.column", column, problem, hint) from None

    def _path(self, name: str, value: str, *, must_exist: bool) -> str:
        text = value.strip()
        if "://" in text:
            return text
        resolved = (self.source.parent / text).resolve()
        if must_exist and not resolved.is_file():
            raise self.fail(name, text, f"file not found (looked at {resolved})", "fix the path (relative to the spec)")
        return str(resolved)


def _recurs(schedule: object) -> bool:
    """Whether a DAG with this ``schedule=`` runs more than once on its own (``None``/``@once`` do not)."""
    return schedule is not None and not (isinstance(schedule, str) and schedule.strip() in ("@once", ""))


def _single_use_on_a_recurring_schedule(spec: CampaignSpec, schedule: object) -> None:
    """A fixed ``name:`` or ``send_at:`` works for one run only: FPT names are single-use and a send time
    passes. A recurring schedule would fail every run after the first, so say so when the DAG is parsed."""
    if not _recurs(schedule):
        return
    shown = schedule if isinstance(schedule, str) else type(schedule).__name__
    if spec.name is not None and "{{" not in spec.name:
        raise CampaignSpecError(
            f"{spec.source.name}: name",
            spec.name,
            f"is fixed, but the DAG runs again ({shown}): FPT campaign names are single-use, so every run "
            "after the first would fail",
            "leave out name: (each run then derives its own from its date), or template it with the run's date "
            f"(name: '{spec.name[:18]}-{{{{ ds_nodash }}}}'), or run the DAG once (dag_schedule: '@once')",
        )
    if spec.send_at != "next_valid":
        raise CampaignSpecError(
            f"{spec.source.name}: send_at",
            spec.send_at,
            f"is one fixed moment, but the DAG runs again ({shown}): every run after that moment would fail",
            "write send_at: next_valid (each run sends at the next valid slot), or run the DAG once "
            "(dag_schedule: '@once')",
        )


def campaign_dag(
    spec_path: str | os.PathLike[str],
    *,
    poll_interval: float | None = None,
    default_args: dict[str, Any] | None = None,
    **dag_kwargs: Any,
) -> DAG:
    """Build the QC lifecycle DAG (create -> push -> approval -> sent -> report) from a YAML spec.

    Keyword arguments win over the spec, key by key: ``poll_interval`` (seconds) over ``poll_minutes``;
    ``default_args`` is merged over the spec's task settings (``pool``, ``pool_slots``, ``retries``,
    ``retry_delay_minutes``, and the alerts' ``on_failure_callback``); ``schedule=`` over ``dag_schedule``;
    other keywords go to ``DAG``.
    """
    from airflow.sdk import DAG

    from airflow_provider_fptsms.assets import report_outlets
    from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator
    from airflow_provider_fptsms.operators.campaign_push import FptPushCampaignOperator
    from airflow_provider_fptsms.operators.campaign_report import FptCampaignReportOperator
    from airflow_provider_fptsms.sensors.campaign import FptCampaignApprovalSensor, FptCampaignSentSensor

    spec = load_spec(spec_path)
    poll = poll_interval if poll_interval is not None else spec.poll_interval
    on_failure: Any = None
    on_report: Any = None
    notifier: Any = None
    if spec.alert_phones:  # the notifiers' module only for a spec with alerts (it is parsed in every fork)
        from airflow_provider_fptsms.notifications.sms import (
            REPORT_READY_ALERT,
            TASK_FAILED_ALERT,
            FiboSmsNotifier,
            FptSmsNotifier,
        )

        notifier = FptSmsNotifier if spec.alert_via == "fpt" else FiboSmsNotifier
        on_failure = notifier(message=TASK_FAILED_ALERT, phones=list(spec.alert_phones))
        on_report = notifier(message=REPORT_READY_ALERT, phones=list(spec.alert_phones))
    dag_kwargs.setdefault("schedule", spec.dag_schedule)
    _single_use_on_a_recurring_schedule(spec, dag_kwargs["schedule"])
    dag_kwargs.setdefault("start_date", datetime(2026, 1, 1))
    dag_kwargs.setdefault("catchup", False)
    dag_kwargs.setdefault("tags", ["fptsms", "qc", *spec.tags])
    dag_kwargs.setdefault("doc_md", f"QC campaign from `{spec.source.name}`.")
    spec_defaults = spec.task_defaults()
    if on_failure:
        spec_defaults["on_failure_callback"] = on_failure
    task_defaults = {**spec_defaults, **(default_args or {})}
    conn = spec.fpt_conn_id
    with DAG(spec.dag_id, default_args=task_defaults, **dag_kwargs) as dag:
        create = FptCreateCampaignOperator(task_id="create_campaign", **_campaign_arguments(spec))
        create.name_hint = (
            f"change 'name:' in {spec.source.name}" if spec.name else f"add a 'name:' to {spec.source.name}"
        )
        if spec.sign_off is not None:
            _sign_off_before(create, spec, notifier if spec.sign_off.notify else None)
        code: Any = create.output  # the CampaignCode, resolved at run time
        push = FptPushCampaignOperator(
            task_id="push_phones",
            campaign_code=code,
            phones=spec.audience_path,
            phone_column=spec.audience_column,
            suppress=dict(spec.suppress) or None,
            max_per_24h=spec.max_per_24h,
            advertiser=spec.brandname,
            prices=dict(spec.prices) or None,
            chunk_size=spec.chunk_size,
            retries=task_defaults.get("retries", 3),  # idempotent: safe to retry more than Airflow's default
            fpt_conn_id=conn,
        )
        approval = FptCampaignApprovalSensor(
            task_id="wait_for_approval", campaign_code=code, poll_interval=poll, fpt_conn_id=conn
        )
        sent = FptCampaignSentSensor(
            task_id="wait_until_sent", campaign_code=code, poll_interval=poll, fpt_conn_id=conn
        )
        report = FptCampaignReportOperator(
            task_id="delivery_report",
            campaign_code=code,
            output_path=spec.report_path,
            wait_for_complete=True,
            poll_interval=poll,
            deadline=spec.report_wait,
            on_success_callback=on_report,
            outlets=report_outlets(spec.dag_id),  # an analytics DAG can be scheduled on it
            fpt_conn_id=conn,
        )
        push >> approval >> sent >> report
    return dag


def _campaign_arguments(spec: CampaignSpec) -> dict[str, Any]:
    """What the create task and the preview of a sign-off are both given: one campaign, checked twice."""
    return {
        "message": spec.message,
        "auto_label": spec.auto_label,
        "schedule_time": spec.send_at,
        "campaign_name": spec.name,
        "phones": spec.audience_path,
        "phone_column": spec.audience_column,
        "quota_margin": spec.quota_margin,
        "brandname": spec.brandname,
        "prices": dict(spec.prices) or None,
        "suppress": dict(spec.suppress) or None,
        "fpt_conn_id": spec.fpt_conn_id,
    }


def _sign_off_before(create: Any, spec: CampaignSpec, notifier: Any) -> None:
    """preview_campaign >> sign_off >> create: the preview counts what the push would (nothing recorded), and
    the respondents approve or reject it; a rejection skips every task after it."""
    from airflow_provider_fptsms.notifications.sms import SIGN_OFF_ALERT
    from airflow_provider_fptsms.operators.campaign_preview import FptCampaignPreviewOperator
    from airflow_provider_fptsms.operators.sign_off import preview_body, sign_off_task

    assert spec.sign_off is not None
    preview = FptCampaignPreviewOperator(
        task_id="preview_campaign", max_per_24h=spec.max_per_24h, **_campaign_arguments(spec)
    )
    sign_off = sign_off_task(
        subject=f"Send QC campaign {{{{ ti.xcom_pull(task_ids='preview_campaign')['campaign_name'] }}}} "
        f"({spec.source.name})?",
        body=preview_body("preview_campaign", "markdown"),
        respondents=list(spec.sign_off.respondents),
        timeout=spec.sign_off.timeout,
        notifiers=[notifier(message=SIGN_OFF_ALERT, phones=list(spec.alert_phones))] if notifier else None,
    )
    # the ScheduleTime the respondents approved, not a new next_valid computed after their answer
    create.schedule_time = "{{ ti.xcom_pull(task_ids='preview_campaign')['schedule_time'] }}"
    preview >> sign_off >> create
