"""Shared base of the QC campaign operators: hook and state store, the portal extra link, and
masking literal phone lists when templates are rendered."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_fptsms.links import FptCampaignLink
from airflow_provider_fptsms.operators._sources import mask_literal_lists, mask_literal_phones
from airflow_provider_fptsms.state import StateStore

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fptsms.hooks.fpt import FptSmsHook


def _owner(context: Context) -> str:
    ti = context["ti"]
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}/try{ti.try_number}"


def note_step(
    store: StateStore, context: Context, campaign_code: str | None, step: str, facts: dict[str, Any], log: Any
) -> None:
    """Tell the campaign view (:mod:`airflow_provider_fptsms.ui`) what this task learned, with its DAG run.

    Visibility only: a campaign whose work succeeded is not failed (and retried) because its note could not be
    written, so any error is logged and swallowed.
    """
    if not campaign_code:
        return
    ti = context.get("ti")
    run = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id} if ti is not None else {}
    try:
        store.note_step(campaign_code, step, {**facts, **run})
    except Exception as error:  # see the docstring
        log.warning("The campaign view will not show step %r of %s: %s", step, campaign_code, error)


class _FptOperator(BaseOperator):
    ui_color = "#ffe9d6"
    operator_extra_links = (FptCampaignLink(),)
    #: the campaign the extra link opens (set once known)
    link_campaign_code: str | None = None

    def __init__(self, *, fpt_conn_id: str = "fptsms_default", state_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fpt_conn_id = fpt_conn_id
        self.state_path = state_path

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        mask_literal_phones(getattr(self, "phones", None), getattr(self, "phone_column", None))
        mask_literal_lists(getattr(self, "suppress", None))

    @cached_property
    def hook(self) -> FptSmsHook:
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        return FptSmsHook(self.fpt_conn_id)

    @cached_property
    def store(self) -> StateStore:
        return StateStore(self.state_path)

    def _note(self, context: Context, campaign_code: str | None, step: str, facts: dict[str, Any]) -> None:
        note_step(self.store, context, campaign_code, step, facts, self.log)
