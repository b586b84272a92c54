"""Run one operator the way an Airflow worker does: in its own interpreter, killable mid-task.

The kill-and-retry tests, the fault soak and the push benchmark need a task process that can be
SIGKILLed (no ``finally``, no flush, like a lost worker), retried with the next try number, and
whose peak RSS is the whole task's. ``python -m airflow_provider_fptsms.sandbox.worker SPEC`` runs
the operator's ``execute`` with a minimal context and prints one ``RESULT {json}`` line;
:class:`TaskProcess` starts and watches it from a test or benchmark.

Only the standard library is imported at module level, so the child's RSS is the operator's own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

RESULT = "RESULT "


@dataclass(frozen=True)
class TaskSpec:
    """Which operator to run with which arguments, and the task instance it pretends to be."""

    operator: str  # "package.module:ClassName"
    kwargs: dict[str, Any] = field(default_factory=dict)
    dag_id: str = "sandbox"
    run_id: str = "run-1"
    task_id: str = "task"
    try_number: int = 1

    def retried(self) -> TaskSpec:
        """The same task instance, next try (what Airflow runs after a failure or a lost worker)."""
        return replace(self, try_number=self.try_number + 1)


@dataclass(frozen=True)
class TaskResult:
    """How a task process ended; ``value`` is what ``execute`` returned (None if it did not return)."""

    returncode: int
    output: str  # stdout and stderr, interleaved
    value: Any = None
    elapsed: float = 0.0
    peak_rss_mb: float = 0.0
    returned: bool = False

    def check(self) -> Any:
        """``value``, or an error carrying the end of the task's output."""
        if not self.returned:
            raise RuntimeError(f"task exited {self.returncode} without a result:\n{self.output[-3000:]}")
        return self.value


def create_campaign_task(name: str, quota: int) -> TaskSpec:
    """Create a QC campaign at the next valid slot: the campaign a push test or benchmark then fills."""
    return TaskSpec(
        "airflow_provider_fptsms.operators.campaign:FptCreateCampaignOperator",
        {"campaign_name": name, "message": "[QC] Khuyen mai", "quota": quota},
        dag_id=name,
        task_id="create",
    )


def task_env(sandbox_url: str, folder: Path, **extra: str) -> dict[str, str]:
    """This environment plus sandbox connections, an Airflow home and a state store under ``folder``."""
    from airflow_provider_fptsms.sandbox.server import connection_env

    return {
        **os.environ,
        **connection_env(sandbox_url),
        "AIRFLOW_HOME": str(folder / "home"),
        "FPTSMS_STATE_PATH": str(folder / "state"),
        **extra,
    }


class TaskProcess:
    """One try of a task in a child interpreter; output goes to a file so a chatty (DEBUG) task never blocks."""

    def __init__(self, spec: TaskSpec, env: dict[str, str]) -> None:
        self.spec = spec
        self._output = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115 - closed in finish()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", __name__, json.dumps(asdict(spec))],
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )

    def wait_for(self, condition: Callable[[], bool], timeout: float = 120, poll: float = 0.02) -> bool:
        """Wait until ``condition()`` holds (True) or the task has ended or ``timeout`` passed (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if condition():
                return True
            time.sleep(poll)
        return False

    def kill(self) -> TaskResult:
        """SIGKILL: the worker dies where it stands."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        return self.finish()

    def finish(self, timeout: float = 1800) -> TaskResult:
        returncode = self.process.wait(timeout=timeout)
        self._output.seek(0)
        output = self._output.read()
        self._output.close()
        line = next((x for x in reversed(output.splitlines()) if x.startswith(RESULT)), None)
        if returncode != 0 or line is None:
            return TaskResult(returncode, output)
        reported = json.loads(line[len(RESULT) :])
        return TaskResult(returncode, output, returned=True, **reported)


def run_task(spec: TaskSpec, env: dict[str, str], timeout: float = 1800) -> TaskResult:
    return TaskProcess(spec, env).finish(timeout)


def peak_rss_mb() -> float:
    """This process image's peak RSS: VmHWM (``ru_maxrss`` would carry the spawning parent's peak across exec)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):  # not Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    from importlib import import_module
    from types import SimpleNamespace

    spec = TaskSpec(**json.loads((argv or sys.argv[1:])[0]))
    module, _, name = spec.operator.partition(":")
    operator = getattr(import_module(module), name)(task_id=spec.task_id, **spec.kwargs)
    ti = SimpleNamespace(
        dag_id=spec.dag_id, run_id=spec.run_id, task_id=spec.task_id, map_index=-1, try_number=spec.try_number
    )
    started = time.perf_counter()
    value = operator.execute({"ti": ti})
    elapsed = time.perf_counter() - started
    report = {"value": value, "elapsed": elapsed, "peak_rss_mb": peak_rss_mb()}
    print(RESULT + json.dumps(report, default=str), flush=True)


if __name__ == "__main__":
    main()
