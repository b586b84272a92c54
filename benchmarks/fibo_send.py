"""Fibo: one SendMaskedSMS per message vs SendSMSToListMobilePhone lists, through ``FiboSendSmsOperator``.

Both sides send the same 2,000 messages of one text, at the same concurrency, against the same
sandbox process with 20 ms of latency per call, in the same run. The per-message side is the operator
with a personalised text (``{ten}`` makes every message differ, so it cannot be listed); the list side
the same text for all. Each side keeps its best of ``ROUNDS`` interleaved rounds.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from types import SimpleNamespace

from airflow_provider_fptsms.sandbox.server import SandboxProcess, fibo_connection

N = 2000
CONCURRENCY = 16
ROUNDS = 2


def _send(url: str, personalised: bool, round_: int) -> float:
    from airflow_provider_fptsms.operators.send import FiboSendSmsOperator

    os.environ["AIRFLOW_CONN_FIBOSMS_DEFAULT"] = json.dumps(fibo_connection(url))
    with tempfile.TemporaryDirectory(prefix="fptsms-bench-") as folder:
        os.environ["FPTSMS_STATE_PATH"] = folder
        start = 100_000 * (2 * round_ + personalised)  # new phones each time: no repeated-content refusals
        people = [{"phone": f"0912{start + i:06d}", "ten": f"K{i}"} for i in range(N)]
        operator = FiboSendSmsOperator(
            task_id="bench",
            phones=people,
            message="Lich hen {ten}" if personalised else "Lich hen ngay mai",
            max_concurrency=CONCURRENCY,
            output_path=f"{folder}/out.csv",
        )
        ti = SimpleNamespace(dag_id="bench", run_id=uuid.uuid4().hex, task_id="send", map_index=-1, try_number=1)
        started = time.perf_counter()
        summary = operator.execute({"ti": ti})  # type: ignore[typeddict-item]
        elapsed = time.perf_counter() - started
    assert summary["sent"] == N, summary
    return N / elapsed


def measure() -> dict[str, float]:
    single = listed = 0.0
    with SandboxProcess("--latency-ms", "20") as sandbox:
        from airflow_provider_fptsms.sandbox.client import SandboxClient

        SandboxClient(sandbox.url).set_fibo_balance("CL0000000001", 100_000_000)
        for round_ in range(ROUNDS):
            single = max(single, _send(sandbox.url, True, round_))
            listed = max(listed, _send(sandbox.url, False, round_))
    return {
        "fibo_per_message_sends_per_s": round(single, 1),
        "fibo_list_sends_per_s": round(listed, 1),
        "fibo_list_speedup_vs_per_message": round(listed / single, 1),
    }


def main() -> None:
    for key, value in measure().items():
        print(f"| {key} | {value:,} |")


if __name__ == "__main__":
    main()
