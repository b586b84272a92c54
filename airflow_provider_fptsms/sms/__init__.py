"""Pure SMS domain toolkit: phone numbers, message text, QC schedule (no Airflow, no network)."""
