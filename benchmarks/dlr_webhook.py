"""The delivery-report webhook under FPT's load: one DLR per message, 50 posters at once, the receiver restarted
mid-load.

``fptsms-dlr-receiver`` runs as its own process on a SQLite store (the default; durable: a report is committed
before ``{"status": 1}``). 50 concurrent aiohttp posters send ``N`` reports: every message first "waiting"
(status 2), then final (delivered, or failed for one in ten), and one in twenty final reports twice, as FPT does
when it did not hear our answer. A poster retries a report until the receiver answers ``{"status": 1}`` (what
FPT does), so the receiver killed (SIGKILL) half-way and started again on the same port loses nothing. Judged
from the store's file afterwards: every message's row is there once with its final status.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from airflow_provider_fptsms.webhook.cli import READY

N = 20_000
POSTERS = 50
KEY = "bench-dlr-key-0123456789"


def _start(db: Path, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    """The receiver as users run it; its output (a line per report at INFO) goes to a file of its own."""
    log = db.parent / f"{db.stem}-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow_provider_fptsms.webhook.cli",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{db}",
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


def _stored(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, count(*) FROM fptsms_dlr GROUP BY status").fetchall()
        total = conn.execute("SELECT count(*), count(DISTINCT smsid) FROM fptsms_dlr").fetchone()
    return {"rows": total[0], "distinct": total[1], **{f"status_{s}": c for s, c in rows}}


def _steady(folder: Path, posts: list[dict[str, object]]) -> float:
    db = folder / "steady.db"
    process, url = _start(db)
    try:
        asyncio.run(_post_all(url, posts[:2000], None))  # warm-up (also on the same table)
        seconds, _ = asyncio.run(_post_all(url, posts[2000:], None))
    finally:
        process.terminate()
        process.wait(timeout=20)
    return (len(posts) - 2000) / seconds


def _with_restart(folder: Path, posts: list[dict[str, object]]) -> dict[str, float]:
    db = folder / "restart.db"
    first, url = _start(db)
    receivers = [first]
    port = int(url.split(":")[2].split("/")[0])
    restart = asyncio.Event()

    async def restarter() -> None:
        await restart.wait()
        receivers[-1].send_signal(signal.SIGKILL)  # mid-load, no goodbye
        await asyncio.to_thread(receivers[-1].wait)
        receivers.append((await asyncio.to_thread(_start, db, port))[0])

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
        "dlr_webhook_restart_reports_per_s": round(len(posts) / seconds, 1),
        "dlr_webhook_restart_retries": float(retries),
        "dlr_webhook_lost": float(messages - stored["distinct"]),
        "dlr_webhook_double_counted": float(stored["rows"] - stored["distinct"]),
        "dlr_webhook_not_final": float(stored["distinct"] - stored.get("status_1", 0) - stored.get("status_0", 0)),
        "dlr_webhook_failed_matches": float(stored.get("status_0", 0) == failed),
    }


def measure() -> dict[str, float]:
    posts = _reports(N // 2)  # N posts: a waiting and a final report per message (and some repeats)
    with tempfile.TemporaryDirectory(prefix="fptsms-dlr-bench-") as name:
        folder = Path(name)
        rate = _steady(folder, posts)
        figures = _with_restart(folder, posts)
    return {"dlr_webhook_reports_per_s": round(rate, 1), **figures}


def main() -> None:
    for key, value in measure().items():
        print(f"| {key} | {value:,.1f} |")
    print(f"({POSTERS} concurrent posters, SQLite store, about {N:,} reports; the receiver killed half-way in run 2)")


if __name__ == "__main__":
    main()
