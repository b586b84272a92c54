"""Asset events: a delivery report or a send tells downstream DAGs that it landed, its figures in the event.

The URIs (a DAG scheduled on one runs after each report or send; ``triggering_asset_events`` carries the
figures):

* ``fptsms://fpt/campaigns/<dag_id>/<task_id>``: a QC campaign DAG's delivery report
  (:func:`campaign_report_asset`; ``campaign_dag()`` declares it on its ``delivery_report`` task from Airflow 3.1
  on, see :func:`report_outlets`). Extra:
  ``campaign_code``, ``rows``, ``delivered``, ``failed``, ``pending``, ``status_by_telco`` (each telco's
  delivered / failed / pending, as in the report's XCom) and ``path`` (the report file).
* ``fptsms://<fpt|fibo>/sends/<dag_id>/<task_id>``: a CSKH send (:func:`send_asset`). Extra: ``gateway``,
  ``recipients``, ``sent``, ``already_sent``, ``failed``, ``in_doubt``, ``output_path`` (the per-row report),
  and ``dry_run`` / ``empty`` (True when the task sent nothing on purpose: same keys, zero counts).

An operator fills the extra of every :class:`~airflow.sdk.Asset` among its ``outlets``; figures only, never a
phone number or a message text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import Asset

SCHEME = "fptsms"


def campaign_report_asset(dag_id: str, task_id: str = "delivery_report") -> Asset:
    """The asset a QC campaign DAG's delivery report updates (schedule an analytics DAG on it)."""
    from airflow.sdk import Asset

    return Asset(uri=f"{SCHEME}://fpt/campaigns/{dag_id}/{task_id}", name=f"fptsms_report__{dag_id}__{task_id}")


def report_outlets(dag_id: str, task_id: str = "delivery_report") -> list[Asset]:
    """``outlets=`` for a campaign DAG's report task: its :func:`campaign_report_asset`, from Airflow 3.1 on.

    On Airflow 3.0, ``airflow dags test`` fails every task with an outlet the dag-processor has not registered
    (``AirflowInactiveAssetInInletOrOutletException``), which would fail the whole lifecycle there; on 3.0 declare
    ``outlets=[campaign_report_asset(...)]`` yourself in a deployment whose dag-processor parses the DAG.
    """
    from airflow_provider_fptsms._compat import airflow_at_least

    return [campaign_report_asset(dag_id, task_id)] if airflow_at_least("3.1") else []


def send_asset(gateway: str, dag_id: str, task_id: str) -> Asset:
    """The asset a CSKH send task updates; ``gateway`` is ``fpt`` or ``fibo``."""
    from airflow.sdk import Asset

    kind = gateway.lower()
    return Asset(uri=f"{SCHEME}://{kind}/sends/{dag_id}/{task_id}", name=f"fptsms_send__{kind}__{dag_id}__{task_id}")


def attach_figures(context: Mapping[str, Any], outlets: Iterable[Any], extra: Mapping[str, Any]) -> int:
    """Put ``extra`` on the event of each Asset outlet (Airflow emits them when the task succeeds); returns
    how many. Outlets that are not assets (an ``AssetAlias``, a ``Dataset`` of another kind) are left alone."""
    from airflow.sdk import Asset

    events = context.get("outlet_events")
    if events is None:  # a task run outside Airflow's runner (a notebook, a unit test without outlets)
        return 0
    attached = 0
    for outlet in outlets or ():
        if isinstance(outlet, Asset):
            events[outlet].extra.update(extra)
            attached += 1
    return attached


__all__ = ["SCHEME", "attach_figures", "campaign_report_asset", "report_outlets", "send_asset"]
