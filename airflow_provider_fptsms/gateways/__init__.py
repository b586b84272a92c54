"""Sans-IO protocol layer for the FPT SMS Brandname and Fibo SMS gateways (no Airflow, no network)."""
