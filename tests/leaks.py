"""What counts as a leak, for every scan in the suite: a configured secret, or a phone number not masked."""

from __future__ import annotations

import re
from collections.abc import Iterable

from airflow_provider_fptsms.sandbox.config import DEFAULT_FIBO_CLIENT_PASS, DEFAULT_FPT_CLIENT_SECRET

#: A Vietnamese mobile number in any of its written forms, not already masked (0912***678 passes).
RAW_PHONE = re.compile(r"(?<![\d*])(?:\+?84|0)(?:3|5|7|8|9)\d{8}(?![\d*])")
#: The secrets of the sandbox connections every test, DAG run and soak uses.
SANDBOX_SECRETS = (DEFAULT_FPT_CLIENT_SECRET, DEFAULT_FIBO_CLIENT_PASS)
#: Airflow's own supervisor logs, at DEBUG, the request by which a task registers a secret with the
#: masker, value included (upstream, supervisor.py; cf. apache/airflow#63921). Not ours to fix: lines
#: carrying it are left out of log scans, everything else must be clean.
UPSTREAM_MASK_REQUEST = "msg=MaskSecret("
#: How a DEBUG record starts in Airflow's console log format: a scan must see some, or it proves nothing.
DEBUG_MARK = "[debug"


def find_leaks(texts: Iterable[str], secrets: Iterable[str] = SANDBOX_SECRETS) -> list[str]:
    """The texts (first 200 characters) that contain a secret or a phone number that is not masked."""
    secrets = [s for s in secrets if s]
    return [text[:200] for text in texts if any(s in text for s in secrets) or RAW_PHONE.search(text)]


def log_lines(output: str) -> list[str]:
    """The lines of a process's output that a log scan must check (Airflow's MaskSecret requests left out)."""
    return [line for line in output.splitlines() if UPSTREAM_MASK_REQUEST not in line]
