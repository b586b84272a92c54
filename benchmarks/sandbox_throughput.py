"""How many CSKH sends per second the sandbox accepts (no injected latency).

Runs the sandbox as its own process (so the load generator does not share its GIL) and
drives it with aiohttp over keep-alive connections.  Prints one table row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

import aiohttp

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.sandbox.config import DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET
from airflow_provider_fptsms.sandbox.server import SandboxProcess


async def _drive(url: str, total: int, concurrency: int) -> float:
    session_id = uuid.uuid4().hex
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        token_request = fpt.token_request(
            DEFAULT_FPT_CLIENT_ID, DEFAULT_FPT_CLIENT_SECRET, fpt.DEFAULT_SCOPES, session_id
        )
        async with session.post(url + token_request.path, json=token_request.body) as reply:
            token = fpt.parse_token(reply.status, await reply.read()).access_token
        counter = iter(range(total))

        async def worker() -> None:
            for n in counter:
                request = fpt.cskh_request(
                    token, session_id, "SANDBOX", f"8491{n:07d}", f"OTP {n} {session_id[:6]}", f"bench-{session_id}-{n}"
                )
                async with session.post(
                    url + request.path, data=json.dumps(request.body), headers={"Content-Type": "application/json"}
                ) as reply:
                    fpt.parse_cskh(reply.status, await reply.read())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def measure(total: int = 20_000, concurrency: int = 64) -> float:
    with SandboxProcess() as sandbox:
        asyncio.run(_drive(sandbox.url, 500, concurrency))  # warm-up
        elapsed = asyncio.run(_drive(sandbox.url, total, concurrency))
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    rate = measure(args.total, args.concurrency)
    print(f"| sandbox_cskh_sends_per_s | {rate:,.0f} | goal >= 2,000 |")


if __name__ == "__main__":
    main()
