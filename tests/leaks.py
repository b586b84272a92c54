"""What counts as a leak, for every scan in the suite: a configured secret, or a phone number not masked."""

from __future__ import annotations

import re
from collections.abc import Iterable

from airflow_provider_fptsms.sandbox.config import DEFAULT_FIBO_CLIENT_PASS, DEFAULT_FPT_CLIENT_SECRET

#: A Vietnamese mobile number in any of its written forms, not already masked (0912***678 passes).
#: Not inside a longer word: ``object at 0x7f0801051690`` (a memory address in an Airflow DEBUG line)
#: holds ``0801051690`` and is no phone; it made the scan fail now and then. Nor followed by a letter:
#: a W3C ``traceparent`` (``00-0540284996a4853155...``, in Airflow's DEBUG lines) is hex, not a phone.
RAW_PHONE = re.compile(r"(?<![\w*])(?:\+?84|0)(?:3|5|7|8|9)\d{8}(?![\w*])")
#: The secrets of the sandbox connections every test, DAG run and soak uses.
SANDBOX_SECRETS = (DEFAULT_FPT_CLIENT_SECRET, DEFAULT_FIBO_CLIENT_PASS)
#: Airflow's own supervisor logs, at DEBUG, the request by which a task registers a secret with the
#: masker, value included (upstream, supervisor.py; cf. apache/airflow#63921). Not ours to fix: lines
#: carrying it are left out of log scans, everything else must be clean.
UPSTREAM_MASK_REQUEST = "msg=MaskSecret("
#: Airflow 3.0's task runner sends the rendered template fields to its supervisor unmasked (3.1+ mask them
#: first; the stored copy is masked on every line and scanned as such) and logs that request at DEBUG.
#: Upstream too: on 3.0 only, lines carrying it are left out as well.
UPSTREAM_RENDERED_REQUEST = "msg=SetRenderedFields("
#: How a DEBUG record starts in Airflow's console log format: a scan must see some, or it proves nothing.
DEBUG_MARK = "[debug"


def find_leaks(texts: Iterable[str], secrets: Iterable[str] = SANDBOX_SECRETS) -> list[str]:
    """The texts that contain a secret or a phone number that is not masked: their first 120
    characters and the 160 around the first hit, so a failure shows where the leak is."""
    secrets = [s for s in secrets if s]
    found = []
    for text in texts:
        hits = [text.find(s) for s in secrets if s in text]
        phone = RAW_PHONE.search(text)
        if phone:
            hits.append(phone.start())
        if hits:
            at = min(hits)
            found.append(text[:120] + (f" ... {text[max(0, at - 80) : at + 80]}" if at > 100 else ""))
    return found


def log_lines(output: str) -> list[str]:
    """The lines of a process's output that a log scan must check (Airflow's own requests above left out)."""
    from airflow_provider_fptsms._compat import airflow_at_least

    upstream = [UPSTREAM_MASK_REQUEST, *([] if airflow_at_least("3.1") else [UPSTREAM_RENDERED_REQUEST])]
    return [line for line in output.splitlines() if not any(request in line for request in upstream)]
