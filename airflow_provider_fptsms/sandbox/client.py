"""A small client for the sandbox's ``/_sandbox`` admin API (tests, demo, benchmarks)."""

from __future__ import annotations

from typing import Any

import requests


class SandboxClient:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.url}/_sandbox{path}", timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox admin {method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def ledger(self, **filters: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        while True:
            page = self._call("GET", "/ledger", params={**filters, "offset": len(entries), "limit": 50_000})
            entries.extend(page["entries"])
            if len(entries) >= page["total"] or not page["entries"]:
                return entries

    def summary(self, **filters: Any) -> dict[str, Any]:
        return self._call("GET", "/ledger/summary", params=filters)

    def set_faults(self, **plan: Any) -> dict[str, Any]:
        return self._call("PUT", "/faults", json=plan)

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self._call("PATCH", "/config", json=changes)

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/clock", json={"advance_seconds": seconds})

    def set_clock(self, iso_time: str) -> dict[str, Any]:
        return self._call("POST", "/clock", json={"now": iso_time})

    def expire_tokens(self) -> int:
        return int(self._call("POST", "/tokens/expire")["expired"])

    def set_fibo_balance(self, client_no: str, balance: float | str) -> dict[str, Any]:
        return self._call("POST", "/fibo/balance", json={"client_no": client_no, "balance": str(balance)})

    def campaigns(self) -> list[dict[str, Any]]:
        return self._call("GET", "/campaigns")

    def requests(self) -> dict[str, int]:
        return self._call("GET", "/requests")

    def dlr_posts(self) -> dict[str, Any]:
        """The CSKH DLR callbacks: how many were scheduled, posted, failed, retried, and still pending."""
        return self._call("GET", "/dlr")
