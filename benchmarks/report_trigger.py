"""The report trigger on a triggerer's event loop: one poll of a 1,000,000-row ``dlr-ads`` report.

A triggerer runs every deferred task's trigger on one event loop, so a poll that holds the loop
delays them all, and one that holds the whole report grows the triggerer with every campaign.

* The report is served by a small aiohttp app in a child process (its CPU, memory and GIL are not
  ours), streamed in the sandbox's ``dlr-ads`` layout (``fpt_sim.DLR_HEADER``) with the manual's
  status codes: 1 delivered, 0 failed, 2 waiting (70 / 20 / 10 %).  The manual leaves the column
  set open; the trigger reads columns by header name.
* ``report_trigger_max_stall_ms``: an independent heartbeat coroutine sleeps 5 ms again and again
  during the poll; the worst lateness of its wake-ups is the longest time the loop was held.
* ``report_trigger_memory_growth_mb``: peak RSS during the poll (``VmHWM`` reset just before it,
  on Linux, and the heartbeat's samples) minus RSS before it.
* A first small poll (1,000 rows) warms imports and the token cache: a running triggerer has both.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

GOALS = {
    "report_trigger_max_stall_ms": "<= 50",
    "report_trigger_memory_growth_mb": "<= 50",
    "report_trigger_poll_s": "(info)",
}
CONN_ID = "fptsms_report_bench"
CODE_PREFIX = "DLR-"  # the campaign code says how many rows the server sends: DLR-1000000
_TELCOS = ("viettel", "vinaphone", "mobifone")
_SENT, _DONE = "2026-12-01 09:00:00", "2026-12-01 09:05:00"
_BLOCK_ROWS = 1000


# --------------------------------------------------------------------------- the served report


def status_of(index: int) -> str:
    """Row ``index``'s DLR status code: 7 in 10 delivered, 2 failed, 1 still waiting."""
    tenth = index % 10
    return "1" if tenth < 7 else ("0" if tenth < 9 else "2")


def expected_counts(rows: int) -> dict[str, int]:
    """What a correct count of a served report of ``rows`` rows says."""
    full, rest = divmod(rows, 10)
    delivered = 7 * full + min(rest, 7)
    failed = 2 * full + max(0, min(rest, 9) - 7)
    pending = rows - delivered - failed
    return {"rows": rows, "final": delivered + failed, "pending": pending, "delivered": delivered, "failed": failed}


def report_blocks(rows: int) -> Iterator[bytes]:
    """The CSV body, header first, ``_BLOCK_ROWS`` rows per block: never the whole report at once."""
    from airflow_provider_fptsms.sandbox.fpt_sim import DLR_HEADER

    yield (",".join(DLR_HEADER) + "\r\n").encode()
    for start in range(0, rows, _BLOCK_ROWS):
        lines = []
        for i in range(start, min(start + _BLOCK_ROWS, rows)):
            status = status_of(i)
            error = "DELIVERY_FAILED" if status == "0" else ""
            done = "" if status == "2" else _DONE
            lines.append(f"849{i:08d},{_TELCOS[i % 3]},{status},{error},{_SENT},{done},qc.{i // 5000}\r\n")
        yield "".join(lines).encode()


def _rows_of(code: str) -> int | None:
    digits = code.removeprefix(CODE_PREFIX)
    return int(digits) if code.startswith(CODE_PREFIX) and digits.isdigit() else None


async def _serve(sock: socket.socket) -> None:
    """Token and ``dlr-ads`` endpoints in FPT's shapes; an unknown campaign gets FPT's JSON error."""
    from aiohttp import web

    async def token(_request: web.Request) -> web.Response:
        return web.json_response(
            {"access_token": "bench-token", "expires_in": 86400, "token_type": "Bearer", "scope": "send_brandname"}
        )

    async def dlr(request: web.Request) -> web.StreamResponse:
        rows = _rows_of(str((await request.json()).get("campaign_code", "")))
        if rows is None:
            return web.json_response({"error": 1014, "error_description": "Campaign not found"}, status=400)
        reply = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8"})
        await reply.prepare(request)
        for block in report_blocks(rows):
            await reply.write(block)
        await reply.write_eof()
        return reply

    app = web.Application()
    app.router.add_post("/oauth2/token", token)
    app.router.add_post("/api/dlr-ads", dlr)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    host, port = sock.getsockname()[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    await asyncio.Event().wait()  # until the parent terminates us


@contextmanager
def report_server() -> Iterator[str]:
    """The report server in a child process; yields its base URL, stops it (this child only) on exit."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.report_trigger", "--serve"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env=env,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"report server did not start: {line!r}")
        yield line.split()[-1]
    finally:
        child.terminate()
        child.wait(timeout=10)


# --------------------------------------------------------------------------- measuring one poll


def _rss_mb() -> float:
    """Current RSS (Linux ``/proc/self/statm``); 0 elsewhere, where only ``VmHWM``-less figures exist."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0), so the peak after is this poll's."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


class Heartbeat:
    """Sleeps ``interval`` over and over; how late it wakes is how long something else held the loop."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.max_stall = 0.0
        self.peak_rss_mb = 0.0
        self.beats = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.max_stall = max(self.max_stall, time.perf_counter() - before - self.interval)
            self.peak_rss_mb = max(self.peak_rss_mb, _rss_mb())
            self.beats += 1

    def stop(self) -> None:
        self._stop.set()


async def first_event(trigger: Any) -> dict[str, Any]:
    """The trigger's first event, its generator closed as the triggerer closes a fired trigger."""
    run = trigger.run()
    try:
        event = await anext(run)
    finally:
        await run.aclose()
    return dict(event.payload)


async def measured_poll(rows: int, *, warm_up: bool = True) -> dict[str, Any]:
    """One report-trigger poll of ``rows`` rows under the heartbeat: its event, stall, memory and time."""
    from airflow_provider_fptsms.triggers.campaign import FptCampaignReportTrigger

    def trigger(n: int) -> FptCampaignReportTrigger:
        return FptCampaignReportTrigger(f"{CODE_PREFIX}{n}", expected_counts(n)["final"], CONN_ID, poll_interval=1)

    if warm_up:
        await first_event(trigger(1000))
    gc.collect()
    beat = Heartbeat()
    beating = asyncio.create_task(beat.run())
    await asyncio.sleep(0.05)  # the heartbeat is running before the poll starts
    before = _rss_mb()
    exact_peak = _reset_peak_rss()
    started = time.perf_counter()
    event = await first_event(trigger(rows))
    elapsed = time.perf_counter() - started
    peak = beat.peak_rss_mb
    if exact_peak:
        from airflow_provider_fptsms.sandbox.worker import peak_rss_mb

        peak = max(peak, peak_rss_mb())
    beat.stop()
    await beating
    return {
        "event": event,
        "max_stall_ms": beat.max_stall * 1000,
        "memory_growth_mb": max(peak - before, 0.0),
        "poll_s": elapsed,
        "beats": beat.beats,
    }


@contextmanager
def connection_to(url: str) -> Iterator[None]:
    """``AIRFLOW_CONN_FPTSMS_REPORT_BENCH`` pointing at the report server, for the duration only."""
    from airflow_provider_fptsms.sandbox.server import fpt_connection

    name = f"AIRFLOW_CONN_{CONN_ID.upper()}"
    old = os.environ.get(name)
    os.environ[name] = json.dumps(fpt_connection(url, timeout=30, max_attempts=1))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def run(rows: int = 1_000_000) -> dict[str, Any]:
    """Serve, poll once under measurement, and return the raw figures (and the event) for tests."""
    with report_server() as url, connection_to(url):
        return asyncio.run(measured_poll(rows))


def measure(rows: int = 1_000_000) -> dict[str, float]:
    """The figures of the module docstring, for ``make bench``; the counts are checked, not trusted."""
    result = run(rows)
    expected = expected_counts(rows)
    event = result["event"]
    if event.get("status") != "complete" or any(event.get(k) != expected[k] for k in ("rows", "final", "pending")):
        raise AssertionError(f"report trigger miscounted: {event} != {expected}")
    return {
        "report_trigger_max_stall_ms": round(result["max_stall_ms"], 1),
        "report_trigger_memory_growth_mb": round(result["memory_growth_mb"], 1),
        "report_trigger_poll_s": round(result["poll_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        asyncio.run(_serve(sock))
        return
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    for name, value in measure(args.rows).items():
        print(f"| {name} | {value:,} | goal {GOALS[name]} |")


if __name__ == "__main__":
    main()
