"""The same QC lifecycle, built from ``campaigns/weekend_promo.yaml`` with one call."""

from __future__ import annotations

import os
from pathlib import Path

from airflow_provider_fptsms.spec import campaign_dag

SPEC = Path(__file__).parent / "campaigns" / "weekend_promo.yaml"
# The demo and tests poll the sandbox every second instead of every few minutes.
POLL = os.environ.get("FPTSMS_EXAMPLE_POLL_SECONDS")

dag = campaign_dag(SPEC, poll_interval=float(POLL) if POLL else None)
