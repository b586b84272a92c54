"""A real Airflow deployment on one machine (``make e2e``); not collected by pytest (no test_ files)."""
