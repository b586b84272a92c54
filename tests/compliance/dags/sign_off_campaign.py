"""Two QC campaigns with a marketing sign-off, built from their specs as a deployment would build them.

``tests/compliance/test_sign_off.py`` runs them with ``airflow dags test`` against the sandbox:
``qc_sign_off_promo`` (``specs/sign_off_promo.yaml``, 4 hours to answer) is approved or rejected,
``qc_sign_off_unanswered`` (``specs/sign_off_unanswered.yaml``, 3.6 seconds) is left unanswered.
"""

from __future__ import annotations

from pathlib import Path

from airflow_provider_fptsms.spec import campaign_dag

SPECS = Path(__file__).resolve().parents[1] / "specs"
#: seconds between the sensors' and the report's checks (the specs' poll_minutes: 5 would take minutes here)
POLL = 0.5

promo = campaign_dag(SPECS / "sign_off_promo.yaml", poll_interval=POLL)
unanswered = campaign_dag(SPECS / "sign_off_unanswered.yaml", poll_interval=POLL)
