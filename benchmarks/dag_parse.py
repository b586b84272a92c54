"""DAG parse time of a spec DAG (``campaign_dag`` from a YAML campaign spec) over a plain one-task DAG,
parsed the way Airflow 3.3's dag processor parses a file; ``python -m benchmarks.dag_parse [RUNS]``.

How 3.3 parses (the installed ``airflow/dag_processing/{manager,processor}.py`` and
``airflow/sdk/execution_time/supervisor.py``): ``airflow dag-processor`` loads the providers'
configuration (``@providers_configuration_loaded``: every provider's ``get_provider_info``), builds one
long-lived ``DagFileProcessorManager``, whose ``client`` talks to an in-process execution API app (FastAPI),
and calls ``gc.freeze()`` before its parsing loop. For each file, ``DagFileProcessorProcess.start`` first
imports, in that parent, every ``airflow.*`` module the file's top level imports
(``_pre_import_airflow_modules``: ``airflow.sdk``, ``airflow.providers.standard...``; never
``airflow_provider_fptsms...``), then ``WatchedSubprocess.start`` calls plain ``os.fork()`` (``execv``
only on macOS, and only for tasks): the child starts with everything the parent has imported and nothing
else, and runs ``_parse_file``: the version-inflation AST check, ``BundleDagBag(dag_folder=file, ...)``
(which imports the DAG file), ``DagSerialization.to_dict`` of each DAG; it sends the result up and exits.
The manager takes ``time.monotonic() - proc.start_time`` as the file's parse duration when it collects
the result (``last_duration``, the ``dag_processing`` metrics).

This benchmark runs that code, not a copy of it: a fresh interpreter (not ``make bench``'s, which other
benchmarks have filled) imports what ``airflow dag-processor`` imports, loads the providers'
configuration, builds a real ``DagFileProcessorManager`` and its client, runs its ``before_run`` steps
that need no database and freezes the GC; then, per parse, a real ``DagFileProcessorProcess.start`` (its
pre-imports, its fork, its ``_parse_file_entrypoint``) serviced by the manager's own
``_service_processor_sockets`` until the result is in. The files are parsed alternately (each first half
of the time) after two warm-up parses of each; figures are medians of ``runs`` parses of each.
Left out: the metadata database (the manager's writes of the results) and the loop's pace: the real
loop polls about once a second, which adds up to a second to every file's recorded duration, so the
sockets are serviced here every millisecond and the figure is the parse, not the wait. Bytecode is
compiled first, as a wheel install has it (``PYTHONDONTWRITEBYTECODE`` may be set here, and a module
edited since the last compile would otherwise be compiled from source in every child).

Figures: ``*_parse_s``, the manager's parse duration (fork to result collected), the goal's key
``spec_dag_parse_ratio`` is spec over plain; ``*_parse_call_s``, the child's ``_parse_file`` alone, sent
up a pipe; ``*_parse_cpu_s``, the child's CPU time (user + system, ``RUSAGE_CHILDREN``), the least moved
by other load on the machine. The spec DAG is ``dags_examples/qc_campaign_from_spec.py``
(``campaigns/weekend_promo.yaml``: alerts, a local audience CSV, five tasks); the plain one is a ``DAG``
with one ``EmptyOperator``.
"""

from __future__ import annotations

import compileall
import gc
import json
import os
import py_compile
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC_BUNDLE = ROOT / "dags_examples"
SPEC_DAG = SPEC_BUNDLE / "qc_campaign_from_spec.py"
SPEC_DAG_ID = "qc_weekend_promo"
PLAIN_DAG_ID = "plain_one_task"
PLAIN_DAG = f'''"""One task, nothing else: the baseline."""

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("{PLAIN_DAG_ID}", schedule=None):
    EmptyOperator(task_id="noop")
'''

_TIMES_FD = -1  # write end of the pipe each child reports its _parse_file time through


def _timed_entrypoint() -> None:
    """The child's target: the processor's own ``_parse_file_entrypoint``, its ``_parse_file`` timed."""
    from airflow.dag_processing import processor

    parse_file = processor._parse_file

    def timed(msg: Any, log: Any) -> Any:
        started = time.perf_counter()
        result = parse_file(msg, log)
        os.write(_TIMES_FD, struct.pack("d", time.perf_counter() - started))
        return result

    processor._parse_file = timed  # in the forked child only
    processor._parse_file_entrypoint()


def _processor(runs: int) -> dict[str, float]:
    """Runs in a fresh interpreter: the dag processor's parent, then ``runs`` parses of each file."""
    global _TIMES_FD

    import airflow.cli.commands.dag_processor_command  # noqa: F401  # what `airflow dag-processor` imports
    import structlog
    from airflow.dag_processing.manager import DagFileProcessorManager
    from airflow.dag_processing.processor import DagFileProcessorProcess
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk import SecretCache
    from airflow.sdk.log import logging_processors
    from uuid6 import uuid7

    ProvidersManager().initialize_providers_configuration()  # @providers_configuration_loaded
    manager = DagFileProcessorManager(max_runs=1)  # as _create_dag_processor_job_runner
    client = manager.client  # built by the first _create_process: the in-process execution API app
    manager.prepare_server_process_context()  # before_run: _AIRFLOW_PROCESS_CONTEXT=server
    manager.prepare_process_context()  # before_run: the selector, the stats
    SecretCache.init()  # _run_parsing_loop, "before this process is forked"
    log_path = Path(os.environ["AIRFLOW_HOME"]) / "dag_parse.log"
    times_read, _TIMES_FD = os.pipe()

    plain_bundle = Path(tempfile.mkdtemp(prefix="fptsms-plain-bundle-"))
    plain_dag = plain_bundle / "plain_one_task.py"
    plain_dag.write_text(PLAIN_DAG)
    # Bytecode as a deployment has it: a wheel install compiles the package (`make venv` runs compileall), and
    # the DAG files' own is cached after their first parse. Here PYTHONDONTWRITEBYTECODE may be set, and a
    # module edited since the last compile would be compiled from source in every child.
    compileall.compile_dir(ROOT / "airflow_provider_fptsms", quiet=1)
    for path in (SPEC_DAG, plain_dag):
        py_compile.compile(str(path), doraise=True)
    files = {
        "spec": (SPEC_DAG, SPEC_BUNDLE, SPEC_DAG_ID),
        "plain": (plain_dag, plain_bundle, PLAIN_DAG_ID),
    }
    gc.freeze()  # before_run: "To prevent COW in forked process parsing dag file"

    def parse(kind: str) -> tuple[float, float, float]:
        path, bundle, dag_id = files[kind]
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = usage.ru_utime + usage.ru_stime
        log_file = log_path.open("ab")  # as _get_logger_for_dag_file, once per parse
        logger = structlog.wrap_logger(
            structlog.BytesLogger(log_file), processors=logging_processors(json_output=True), logger_name="processor"
        ).bind()
        proc = DagFileProcessorProcess.start(  # as DagFileProcessorManager._create_process
            id=uuid7(),
            path=str(path),
            bundle_path=bundle,
            bundle_name=f"{kind}_bundle",
            dag_file_rel_path=path.name,
            callbacks=[],
            selector=manager.selector,
            logger=logger,
            logger_filehandle=log_file,
            subprocess_logs_to_stdout=False,
            client=client,
            target=_timed_entrypoint,
        )
        while not proc.is_ready:
            manager._service_processor_sockets(timeout=0.001)
        run_duration = time.monotonic() - proc.start_time  # handle_parsing_result
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # is_ready reaped the child: its CPU is counted
        cpu = usage.ru_utime + usage.ru_stime - cpu_before
        result = proc.parsing_result
        if proc._exit_code != 0 or result is None or result.import_errors:
            raise RuntimeError(f"{path} did not parse: exit {proc._exit_code}, {result and result.import_errors}")
        if [dag.dag_id for dag in result.serialized_dags] != [dag_id]:
            raise RuntimeError(f"{path}: expected DAG {dag_id}, got {result.serialized_dags}")
        (parse_call,) = struct.unpack("d", os.read(times_read, 8))
        proc.close()
        return run_duration, parse_call, cpu

    for _ in range(2):  # warm up: file cache, the bundles on sys.path, the parent's pre-imports
        parse("spec"), parse("plain")
    figures: dict[str, dict[str, list[float]]] = {
        kind: {"parse": [], "parse_call": [], "parse_cpu": []} for kind in ("spec", "plain")
    }
    for i in range(runs):  # interleaved, each side first half of the time
        for kind in ("spec", "plain") if i % 2 == 0 else ("plain", "spec"):
            for name, value in zip(("parse", "parse_call", "parse_cpu"), parse(kind), strict=True):
                figures[kind][name].append(value)

    def quartiles(values: list[float]) -> tuple[float, float]:
        q = statistics.quantiles(values, n=4)
        return q[0], q[2]

    out: dict[str, float] = {}
    for kind, by_name in figures.items():
        for name, values in by_name.items():
            out[f"{kind}_dag_{name}_s"] = statistics.median(values)
            out[f"{kind}_dag_{name}_q1_s"], out[f"{kind}_dag_{name}_q3_s"] = quartiles(values)
    for name in ("parse", "parse_call", "parse_cpu"):
        out[f"spec_dag_{name}_ratio"] = out[f"spec_dag_{name}_s"] / out[f"plain_dag_{name}_s"]
    return out


def measure(runs: int = 41, *, spread: bool = False) -> dict[str, float]:
    """Medians of ``runs`` parses of each file (in a fresh interpreter); ``spread=True`` adds quartiles."""
    with tempfile.TemporaryDirectory(prefix="fptsms-dag-parse-home-") as home:
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
        }
        env.pop("FPTSMS_EXAMPLE_POLL_SECONDS", None)  # the example's own default poll interval
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.dag_parse", "--processor", str(runs)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    raw: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    keys = []
    for name in ("parse", "parse_call", "parse_cpu"):
        keys += [f"spec_dag_{name}_s", f"plain_dag_{name}_s", f"spec_dag_{name}_ratio"]
    if spread:
        keys += sorted(key for key in raw if "_q1_" in key or "_q3_" in key)
    return {key: round(raw[key], 4 if key.endswith("_s") else 3) for key in keys}


def main() -> None:
    if sys.argv[1:2] == ["--processor"]:
        print(json.dumps(_processor(int(sys.argv[2]))))
        return
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 41
    for key, value in measure(runs, spread=True).items():
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
