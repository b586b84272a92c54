"""The delivery-report webhook under FPT's load: one DLR per message, 50 posters at once, the receiver restarted
mid-load.

``fptsms-dlr-receiver`` runs as its own process on a SQLite store (the default; durable: a report is committed
before ``{"status": 1}``), then on PostgreSQL as ``make e2e`` deploys it (the ``pgserver`` wheel, a Unix
socket). 50 concurrent aiohttp posters send ``N`` reports: every message first "waiting"
(status 2), then final (delivered, or failed for one in ten), and one in twenty final reports twice, as FPT does
when it did not hear our answer. A poster retries a report until the receiver answers ``{"status": 1}`` (what
FPT does), so the receiver killed (SIGKILL) half-way and started again on the same port loses nothing. Judged
from the store's table afterwards: every message's row is there once with its final status.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

from airflow_provider_fptsms.webhook.cli import READY

N = 20_000
POSTERS = 50
KEY = "bench-dlr-key-0123456789"
PREFIX = "dlr_webhook"


def _start(db: str, logs: Path, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    """The receiver as users run it, on the store at URL ``db``; its output goes to a file in ``logs``."""
    log = logs / f"receiver-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow_provider_fptsms.webhook.cli",
                "--port",
                str(port),
                "--db",
                db,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "FPTSMS_DLR_KEY": KEY},
        )
    ready = re.compile(re.escape(READY).replace(re.escape("{url}"), r"(\S+)"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if found := ready.search(log.read_text()):
            return process, found.group(1)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the receiver did not start: {log.read_text()[-2000:]}")


def _reports(n: int, seed: int = 7) -> list[dict[str, object]]:
    """Each message waiting first, then final; some finals repeated; shuffled within a small window, as posts
    of one message stay in order but many messages interleave."""
    rng = random.Random(seed)
    posts: list[dict[str, object]] = []
    for i in range(n):
        smsid = str(300_000_000 + i)
        telco = ("viettel", "mobifone", "vinaphone")[i % 3]
        final = 0 if i % 10 == 0 else 1
        posts.append({"smsid": smsid, "status": 2, "telco": telco, "error": None, "mt_count": 1})
        error = "DELIVERY_FAILED" if final == 0 else None
        posts.append({"smsid": smsid, "status": final, "telco": telco, "error": error, "mt_count": 1})
        if rng.random() < 0.05:
            posts.append(dict(posts[-1]))
    return posts


async def _post_all(url: str, posts: list[dict[str, object]], restart: asyncio.Event | None) -> tuple[float, int]:
    """Post every report, retrying each until the receiver says ``{"status": 1}``; returns (seconds, retries)."""
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for post in posts:
        queue.put_nowait(post)
    retries = 0
    half = len(posts) // 2
    done = 0
    headers = {"Authorization": f"Basic {KEY}"}
    timeout = aiohttp.ClientTimeout(total=10)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POSTERS), timeout=timeout) as session:

        async def poster() -> None:
            nonlocal retries, done
            while not queue.empty():
                post = queue.get_nowait()
                while True:
                    try:
                        async with session.post(url, json=post, headers=headers) as reply:
                            if reply.status == 200 and (await reply.json()) == {"status": 1}:
                                break
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        pass
                    retries += 1
                    await asyncio.sleep(0.05)
                done += 1
                if restart is not None and done == half:
                    restart.set()

        started = time.perf_counter()
        await asyncio.gather(*(poster() for _ in range(POSTERS)))
        return time.perf_counter() - started, retries


def _stored(db: str) -> dict[str, int]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, count(*) FROM fptsms_dlr GROUP BY status")).all()
            total = conn.execute(text("SELECT count(*), count(DISTINCT smsid) FROM fptsms_dlr")).one()
    finally:
        engine.dispose()
    return {"rows": total[0], "distinct": total[1], **{f"status_{s}": c for s, c in rows}}


def _steady(db: str, logs: Path, posts: list[dict[str, object]]) -> float:
    process, url = _start(db, logs)
    try:
        asyncio.run(_post_all(url, posts[:2000], None))  # warm-up (also on the same table)
        seconds, _ = asyncio.run(_post_all(url, posts[2000:], None))
    finally:
        process.terminate()
        process.wait(timeout=20)
    return (len(posts) - 2000) / seconds


def _with_restart(db: str, logs: Path, posts: list[dict[str, object]], prefix: str) -> dict[str, float]:
    first, url = _start(db, logs)
    receivers = [first]
    port = int(url.split(":")[2].split("/")[0])
    restart = asyncio.Event()

    async def restarter() -> None:
        await restart.wait()
        receivers[-1].send_signal(signal.SIGKILL)  # mid-load, no goodbye
        await asyncio.to_thread(receivers[-1].wait)
        receivers.append((await asyncio.to_thread(_start, db, logs, port))[0])

    async def run() -> tuple[float, int]:
        background = asyncio.create_task(restarter())
        result = await _post_all(url, posts, restart)
        await background
        return result

    try:
        seconds, retries = asyncio.run(run())
    finally:
        for receiver in receivers:
            receiver.terminate()
            receiver.wait(timeout=20)
    stored = _stored(db)
    messages = len({post["smsid"] for post in posts})
    failed = len({post["smsid"] for post in posts if post["status"] == 0})
    return {
        f"{prefix}_restart_reports_per_s": round(len(posts) / seconds, 1),
        f"{prefix}_restart_retries": float(retries),
        f"{prefix}_lost": float(messages - stored["distinct"]),
        f"{prefix}_double_counted": float(stored["rows"] - stored["distinct"]),
        f"{prefix}_not_final": float(stored["distinct"] - stored.get("status_1", 0) - stored.get("status_0", 0)),
        f"{prefix}_failed_matches": float(stored.get("status_0", 0) == failed),
    }


@contextmanager
def _postgres(folder: Path) -> Iterator[str]:
    """PostgreSQL from the ``pgserver`` wheel as ``make e2e`` runs it (tests/e2e/deployment.py), with the two
    databases of the two runs; the URL has ``{db}`` where the database name goes."""
    import pgserver

    pgdata = folder / "pgdata"
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE dlr_steady;")
        server.psql("CREATE DATABASE dlr_restart;")
        socket_dir = server.get_postmaster_info().socket_dir
        yield f"postgresql+psycopg2://postgres@/{{db}}?host={socket_dir}"
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


def _both_runs(steady: str, restart: str, logs: Path, posts: list[dict[str, object]], prefix: str) -> dict[str, float]:
    rate = _steady(steady, logs, posts)
    return {f"{prefix}_reports_per_s": round(rate, 1), **_with_restart(restart, logs, posts, prefix)}


def measure() -> dict[str, float]:
    posts = _reports(N // 2)  # N posts: a waiting and a final report per message (and some repeats)
    with tempfile.TemporaryDirectory(prefix="fptsms-dlr-bench-") as name:
        folder = Path(name)
        figures = _both_runs(f"sqlite:///{folder}/steady.db", f"sqlite:///{folder}/restart.db", folder, posts, PREFIX)
        with _postgres(folder) as url:
            steady, restart = url.format(db="dlr_steady"), url.format(db="dlr_restart")
            figures |= _both_runs(steady, restart, folder, posts, f"{PREFIX}_postgres")
    return figures


def main() -> None:
    for key, value in measure().items():
        print(f"| {key} | {value:,.1f} |")
    print(f"({POSTERS} concurrent posters, about {N:,} reports per run, on SQLite then PostgreSQL; the receiver killed")
    print("half-way in each second run)")


if __name__ == "__main__":
    main()
