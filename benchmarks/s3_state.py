"""State on object storage: the CSKH send and the campaign push with ``state_path`` on S3 vs a local folder.

Teams with several workers put ``state_path`` on S3 or GCS. What this costs is measured against a real
S3-compatible server on this machine: moto's S3 behind its own Flask/werkzeug server (``python -m
benchmarks.s3_state --serve``, a child process, so its CPU is not our interpreter's GIL), wrapped in a WSGI
middleware that

- sleeps ``LATENCY_MS`` (30 ms) before every request: a round trip to a nearby bucket, paid in the server's own
  request thread, so concurrent requests overlap as they would on S3;
- counts every request by S3 operation (PUT, GET, HEAD, LIST, DELETE, POST), server side: what the store was
  asked to do, whatever the client library caches or retries.

The client side is what a deployment runs: ``ObjectStoragePath("s3://...")`` through the Amazon provider's
filesystem (s3fs, aiobotocore), pointed at the server by ``AWS_ENDPOINT_URL`` with fake credentials.

Workloads, the same on both sides, in interleaved rounds (best round of each side kept: two shared cores):

- CSKH: :func:`benchmarks.cskh_send.operator_run`'s 2,000 personalised sends at concurrency 64 against the
  sandbox at 20 ms, ``FPTSMS_STATE_PATH`` on a temporary folder, then on ``s3://<bucket>/<round>``;
- push: a campaign create and a ``PUSH_PHONES`` push through the operators in a task process
  (:mod:`airflow_provider_fptsms.sandbox.worker`, as :mod:`benchmarks.campaign_push`), state local vs S3 (the
  frequency cap's contact history is a local SQLite database either way: it is not ``state_path``).

PUTs per 1,000 messages (or phones) are the server's PUT count during the operator's run, divided out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LATENCY_MS = 30.0
ROUNDS = 3
PUSH_PHONES = 100_000
PUSH_CHUNK = 5000  # benchmarks/campaign_push.py's
GATEWAY_LATENCY_MS = "20"  # the sandbox's, per request, as benchmarks/cskh_send.py's and campaign_push.py's
BUCKET = "fptsms-bench"
#: fake credentials: moto accepts any, and nothing here may reach a real account
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
#: the S3 requests of the last measured run of each workload, by operation (``main`` prints them)
REQUESTS: dict[str, Counter[str]] = {}
#: every round's rate, by workload and side (``main`` prints them: the spread says how busy the machine was)
RATES: dict[str, list[float]] = {}
_CONTROL = "/_bench/"  # not a bucket name (buckets never start with "_"): the middleware's own paths


def operation(method: str, path: str, query: str) -> str:
    """The S3 operation a request is: PUT, GET, HEAD, LIST (a GET of a bucket), DELETE or POST."""
    key = path.lstrip("/").partition("/")[2]
    if method == "GET" and (not key or "list-type" in query or "prefix=" in query):
        return "LIST"
    return method


class LatencyAndCount:
    """WSGI middleware: sleep ``latency`` seconds before each request, count requests by S3 operation."""

    def __init__(self, app: Callable[..., Iterable[bytes]], latency: float) -> None:
        self.app = app
        self.latency = latency
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(_CONTROL):
            with self._lock:
                body = json.dumps(self.counts).encode()
                if path == _CONTROL + "reset":
                    self.counts.clear()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with self._lock:
            self.counts[operation(environ["REQUEST_METHOD"], path, environ.get("QUERY_STRING", ""))] += 1
        time.sleep(self.latency)
        return self.app(environ, start_response)


def serve(host: str, port: int, latency_ms: float) -> None:
    """moto's S3 on a threaded werkzeug server behind :class:`LatencyAndCount`; prints ``S3 READY <url>``."""
    from moto.moto_server.werkzeug_app import create_backend_app
    from werkzeug.serving import make_server

    app = create_backend_app("s3")  # S3 only: no dispatch on the Host header
    server = make_server(host, port, LatencyAndCount(app, latency_ms / 1000), threaded=True)
    print(f"S3 READY http://{host}:{server.server_port}", flush=True)
    server.serve_forever()


def counts(url: str, *, reset: bool = False) -> Counter[str]:
    """The server's request counts by operation (and, with ``reset``, start counting from zero)."""
    with urllib.request.urlopen(url + _CONTROL + ("reset" if reset else "counts"), timeout=10) as reply:  # noqa: S310 - our localhost server
        return Counter(json.loads(reply.read()))


class S3Server:
    """:func:`serve` in a child process (``with S3Server() as s3: s3.url``), with one bucket, :data:`BUCKET`."""

    def __init__(self, latency_ms: float = LATENCY_MS) -> None:
        self.args = [sys.executable, "-m", "benchmarks.s3_state", "--serve", "--latency-ms", str(latency_ms)]
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> S3Server:
        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(
            self.args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        output = self.process.stdout
        assert output is not None
        seen = []
        for line in output:
            seen.append(line)
            if line.startswith("S3 READY "):
                self.url = line.split()[-1]
                threading.Thread(target=output.read, daemon=True).start()  # the server's log, drained
                break
        else:
            raise RuntimeError("the S3 server did not start:\n" + "".join(seen[-20:]))
        request = urllib.request.Request(f"{self.url}/{BUCKET}", method="PUT")  # noqa: S310 - CreateBucket, localhost
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - our localhost server
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def env(self) -> dict[str, str]:
        """What points boto (the Amazon provider's filesystem, s3fs) at this server."""
        return {**FAKE_AWS, "AWS_ENDPOINT_URL": self.url}


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ---------------------------------------------------------------------------------------------- CSKH


def _cskh(sandbox_url: str, state_path: str, text: int) -> float:
    """:func:`benchmarks.cskh_send.operator_run` (2,000 personalised sends, concurrency 64), the state path
    being the one thing that differs; ``text`` makes each run's message its own (FPT's 5-minute rule)."""
    from benchmarks.cskh_send import N, operator_run

    with environment({"FPTSMS_STATE_PATH": state_path}):
        return operator_run(sandbox_url, N, f"77{text}", state_path)


def measure_cskh(s3: S3Server) -> dict[str, float]:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_fptsms.sandbox.server import SandboxProcess
    from benchmarks.cskh_send import N

    local = on_s3 = 0.0
    puts: list[int] = []
    requests: list[int] = []
    with (
        SandboxProcess("--latency-ms", GATEWAY_LATENCY_MS) as sandbox,
        tempfile.TemporaryDirectory(prefix="fptsms-state-") as home,
    ):
        # the filesystem's one-off set-up in a process (botocore, credentials), paid before the rounds as the
        # local side's imports are: the rounds compare the journals, not the set-up
        ObjectStoragePath(f"s3://{BUCKET}/warm-up").write_text("")
        for round_ in range(ROUNDS):
            for side in ("local", "s3") if round_ % 2 == 0 else ("s3", "local"):
                text = 2 * round_ + (side == "s3")
                if side == "local":
                    rate = _cskh(sandbox.url, f"{home}/{round_}", text)
                    RATES.setdefault("cskh local", []).append(round(rate))
                    local = max(local, rate)
                    continue
                counts(s3.url, reset=True)
                rate = _cskh(sandbox.url, f"s3://{BUCKET}/cskh-{round_}", text)
                RATES.setdefault("cskh s3", []).append(round(rate))
                on_s3 = max(on_s3, rate)
                seen = REQUESTS["cskh"] = counts(s3.url)
                puts.append(seen["PUT"])
                requests.append(sum(seen.values()))
    return {
        "cskh_local_state_sends_per_s": round(local, 1),
        "cskh_s3_state_sends_per_s": round(on_s3, 1),
        "cskh_s3_state_fraction_of_local": round(on_s3 / local, 3),
        "cskh_s3_puts_per_1000_messages": round(1000 * min(puts) / N, 1),
        "cskh_s3_requests_per_1000_messages": round(1000 * min(requests) / N, 1),
    }


# ---------------------------------------------------------------------------------------------- push


def measure_push(s3: S3Server, n: int = PUSH_PHONES) -> dict[str, float]:
    """:mod:`benchmarks.campaign_push`'s create + push, in task processes, ``n`` phones, state local vs S3."""
    from airflow_provider_fptsms.sandbox.server import SandboxProcess
    from airflow_provider_fptsms.sandbox.worker import TaskSpec, create_campaign_task, run_task, task_env
    from benchmarks.campaign_push import write_phones

    local = on_s3 = 0.0
    puts: list[int] = []
    requests: list[int] = []
    with (
        tempfile.TemporaryDirectory(prefix="fptsms-bench-") as folder,
        SandboxProcess("--latency-ms", GATEWAY_LATENCY_MS) as sandbox,
    ):
        phones = Path(folder) / "phones.txt"
        write_phones(phones, n)
        for round_ in range(ROUNDS):
            for side in ("local", "s3") if round_ % 2 == 0 else ("s3", "local"):
                work = Path(folder) / f"{side}-{round_}"
                extra = {**s3.env(), "FPTSMS_STATE_PATH": f"s3://{BUCKET}/push-{round_}"} if side == "s3" else {}
                env = task_env(sandbox.url, work, **extra)
                code = run_task(create_campaign_task(f"bench-{side}-{round_}", n), env).check()
                push = TaskSpec(
                    "airflow_provider_fptsms.operators.campaign:FptPushCampaignOperator",
                    {"campaign_code": code, "phones": str(phones), "chunk_size": PUSH_CHUNK, "progress_every": 30},
                    dag_id="bench",
                    task_id="push",
                )
                counts(s3.url, reset=True)
                result = run_task(push, env)
                seen = counts(s3.url)
                pushed = result.check()["pushed"]
                assert pushed == n, result.value
                rate = pushed / result.elapsed
                RATES.setdefault(f"push {side}", []).append(round(rate))
                if side == "local":
                    assert not seen, seen  # a local state path asks the S3 server nothing
                    local = max(local, rate)
                else:
                    on_s3 = max(on_s3, rate)
                    REQUESTS["push"] = seen
                    puts.append(seen["PUT"])
                    requests.append(sum(seen.values()))
    return {
        "campaign_push_local_state_phones_per_s": round(local),
        "campaign_push_s3_state_phones_per_s": round(on_s3),
        "campaign_push_s3_state_fraction_of_local": round(on_s3 / local, 3),
        "campaign_push_s3_puts_per_1000_phones": round(1000 * min(puts) / n, 2),
        "campaign_push_s3_requests_per_1000_phones": round(1000 * min(requests) / n, 2),
    }


# ---------------------------------------------------------------------------------------------- set-up

_FIRST_WRITE = (
    "import time; started = time.perf_counter(); from airflow.sdk import ObjectStoragePath; "
    "ObjectStoragePath({path!r}).write_text(''); print(time.perf_counter() - started)"
)


def measure_setup(s3: S3Server) -> dict[str, float]:
    """What a task process pays once before its first S3 write, over a local one: the Amazon provider's
    filesystem, s3fs and botocore imported, a session and its credentials (best of interleaved rounds)."""
    best = {"local": float("inf"), "s3": float("inf")}
    with tempfile.TemporaryDirectory(prefix="fptsms-state-") as folder:
        for round_ in range(ROUNDS):
            for side, path in (("local", f"{folder}/first-{round_}"), ("s3", f"s3://{BUCKET}/first-{round_}")):
                code = _FIRST_WRITE.format(path=path)
                env = {**os.environ, **s3.env()}
                out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
                best[side] = min(best[side], float(out.stdout.split()[-1]))
    return {"s3_state_first_write_setup_s": round(best["s3"] - best["local"], 2)}


def measure() -> dict[str, float]:
    with S3Server() as s3, environment(s3.env()):
        return {**measure_cskh(s3), **measure_push(s3), **measure_setup(s3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="run the S3 server (what measure() starts)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--only", choices=("cskh", "push", "setup"), help="one of the workloads")
    args = parser.parse_args()
    if args.serve:
        serve(args.host, args.port, args.latency_ms)
        return
    started = time.perf_counter()
    with S3Server(args.latency_ms) as s3, environment(s3.env()):
        results = {}
        if args.only in (None, "cskh"):
            results.update(measure_cskh(s3))
        if args.only in (None, "push"):
            results.update(measure_push(s3))
        if args.only in (None, "setup"):
            results.update(measure_setup(s3))
    for key, value in results.items():
        print(f"| {key} | {value:,.3f} |")
    for run, rates in RATES.items():
        print(f"{run}: {rates} per s, round by round")
    for workload, seen in REQUESTS.items():
        print(f"S3 requests of the last {workload} run: {dict(sorted(seen.items()))}")
    print(
        f"(S3: moto, {args.latency_ms:.0f} ms per request; best of {ROUNDS} interleaved rounds per side; "
        f"benchmark took {time.perf_counter() - started:.0f}s)"
    )


if __name__ == "__main__":
    main()
