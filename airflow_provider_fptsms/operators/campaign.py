"""QC campaign operators: create (once), push phone chunks (resumably), fetch the delivery report.

The operators live in one module each: :mod:`~airflow_provider_fptsms.operators.campaign_create`
(``FptCreateCampaignOperator``, ``derive_campaign_name``), :mod:`~airflow_provider_fptsms.operators.campaign_push`
(``FptPushCampaignOperator``, ``chunk_ranges``, ``chunk_landed``) and
:mod:`~airflow_provider_fptsms.operators.campaign_report` (``FptCampaignReportOperator``); their shared
base is in :mod:`~airflow_provider_fptsms.operators._fpt`. This module re-exports them so existing
imports keep working.
"""

from __future__ import annotations

from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator, derive_campaign_name
from airflow_provider_fptsms.operators.campaign_push import FptPushCampaignOperator, chunk_ranges
from airflow_provider_fptsms.operators.campaign_push import chunk_landed as chunk_landed
from airflow_provider_fptsms.operators.campaign_report import FptCampaignReportOperator

__all__ = [
    "FptCampaignReportOperator",
    "FptCreateCampaignOperator",
    "FptPushCampaignOperator",
    "chunk_ranges",
    "derive_campaign_name",
]
