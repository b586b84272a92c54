"""2,000 personalised CSKH sends through ``FptSendSmsOperator`` vs what a team writes instead, sandbox latency 20 ms.

Two baselines do the same work (one token, then 2,000 personalised sends, each reply parsed): a plain
sequential ``requests`` loop, and the competent one a good engineer puts in a ``PythonOperator``, a
``ThreadPoolExecutor`` with the operator's concurrency and one ``requests.Session`` per thread.

Also measures the sandbox's own ceiling at that latency (the aiohttp load generator of
``sandbox_throughput`` with the same concurrency) to report what fraction of it the operator reaches.
All three run against the same sandbox process in the same run. The operator and the ceiling are
measured in ``ROUNDS`` interleaved rounds and each side keeps its best round: both share this
machine's two cores with the sandbox, and one slow round of either side says more about the machine
than about the client.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import requests

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.sandbox.config import DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET
from airflow_provider_fptsms.sandbox.server import SandboxProcess, fpt_connection
from benchmarks.sandbox_throughput import _drive

N = 2000
CONCURRENCY = 64
ROUNDS = 3


def _token(session: requests.Session, url: str, session_id: str) -> str:
    token_request = fpt.token_request(DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET, fpt.DEFAULT_SCOPES, session_id)
    return str(session.post(url + token_request.path, json=token_request.body, timeout=10).json()["access_token"])


def _send_one(session: requests.Session, url: str, token: str, session_id: str, i: int, round_: int) -> None:
    text = f"Chao Khach {i}, ma OTP 456{round_}"  # personalised, as the operator's
    request = fpt.cskh_request(token, session_id, "SANDBOX", f"8498{i:07d}", text, f"base-{session_id}-{i}")
    fpt.parse_cskh(200, session.post(url + request.path, json=request.body, timeout=10).content)


def _requests_loop(url: str, n: int, round_: int) -> float:
    """What a hand-written client does: one request after the other on one keep-alive session."""
    session = requests.Session()
    session_id = uuid.uuid4().hex
    token = _token(session, url, session_id)
    started = time.perf_counter()
    for i in range(n):
        _send_one(session, url, token, session_id, i, round_)
    return n / (time.perf_counter() - started)


def _threadpool(url: str, n: int, round_: int = 0) -> float:
    """The competent baseline: ``CONCURRENCY`` threads, one keep-alive ``requests.Session`` each."""
    local = threading.local()
    session_id = uuid.uuid4().hex
    token = _token(requests.Session(), url, session_id)

    def send(i: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        _send_one(local.session, url, token, session_id, i, round_)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        list(pool.map(send, range(n)))
    return n / (time.perf_counter() - started)


def operator_run(url: str, n: int, code: str, state_path: str | None = None) -> float:
    """Sends/s of ``n`` personalised sends through the operator, its journal under ``state_path`` (a fresh
    local folder by default); ``code`` makes the text this run's own (FPT refuses a repeat within 5 minutes)."""
    from airflow_provider_fptsms.operators.send import FptSendSmsOperator

    os.environ["AIRFLOW_CONN_FPTSMS_DEFAULT"] = json.dumps(fpt_connection(url))
    with tempfile.TemporaryDirectory(prefix="fptsms-bench-") as folder:
        os.environ["FPTSMS_STATE_PATH"] = state_path or folder
        people = [{"phone": f"0912{i:06d}", "name": f"Khach {i}"} for i in range(n)]
        operator = FptSendSmsOperator(
            task_id="bench",
            phones=people,
            message=f"Chao {{name}}, ma OTP {code}",
            max_concurrency=CONCURRENCY,
            output_path=f"{folder}/out.csv",
        )
        ti = SimpleNamespace(dag_id="bench", run_id=uuid.uuid4().hex, task_id="send", map_index=-1, try_number=1)
        started = time.perf_counter()
        summary = operator.execute({"ti": ti})  # type: ignore[typeddict-item]
        elapsed = time.perf_counter() - started
    assert summary["sent"] == n, summary
    return n / elapsed


def measure() -> dict[str, float]:
    sandbox_max = ours = pool = 0.0
    with SandboxProcess("--latency-ms", "20") as sandbox:
        for round_ in range(ROUNDS):
            sandbox_max = max(sandbox_max, N / asyncio.run(_drive(sandbox.url, N, CONCURRENCY)))
            ours = max(ours, operator_run(sandbox.url, N, f"123{round_}"))
            pool = max(pool, _threadpool(sandbox.url, N, round_))
        loop = _requests_loop(sandbox.url, N, ROUNDS)  # its own text; ~45 s: each send waits out the 20 ms
    return {
        "cskh_operator_sends_per_s": round(ours, 1),
        "cskh_requests_loop_sends_per_s": round(loop, 1),
        "cskh_threadpool_sends_per_s": round(pool, 1),
        "cskh_sandbox_max_sends_per_s_at_20ms": round(sandbox_max, 1),
        "cskh_speedup_vs_requests_loop": round(ours / loop, 1),
        "cskh_speedup_vs_threadpool": round(ours / pool, 2),
        "cskh_fraction_of_sandbox_max": round(ours / sandbox_max, 3),
    }


def main() -> None:
    for key, value in measure().items():
        print(f"| {key} | {value:,.2f} |")
    print(f"({N} sends on each side; operator, thread pool and sandbox max: best of {ROUNDS} interleaved rounds each)")


if __name__ == "__main__":
    main()
