"""Airflow hooks: connections, sessions, token cache, retries, failover and masking."""
