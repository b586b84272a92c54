"""The fault plan: what goes wrong, how often, and on which paths/ports — switchable per run."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

#: Fault kinds, in the order a request meets them.
ERROR_5XX = "error_5xx"  # a proxy-style 503 before the gateway saw the request
DROP = "drop"  # the connection is closed before the gateway saw the request
LOST_REPLY = "lost_reply"  # the gateway committed the request, then the connection dropped
TOKEN_INVALIDATED = "token_invalidated"  # noqa: S105 - the presented token is replaced (FPT 1012)
#: FPT's own refusal: HTTP 503 + 1007 "Server temporarily unable to process requests from client"
#: (manual, error table); the gateway processed nothing
BUSY = "busy"
KINDS = (ERROR_5XX, DROP, LOST_REPLY, TOKEN_INVALIDATED, BUSY)


@dataclass
class FaultPlan:
    latency_ms: float = 0.0
    error_5xx_rate: float = 0.0
    drop_rate: float = 0.0
    lost_reply_rate: float = 0.0
    #: every Nth authenticated FPT call finds its token replaced (1012); 0 = never
    token_invalidate_every: int = 0
    #: only these path prefixes are faulted (default: every gateway path)
    paths: list[str] = field(default_factory=list)
    #: only requests arriving on these ports are faulted (e.g. one "host" of two); default: all
    ports: list[int] = field(default_factory=list)
    #: faults to apply, in order, to the next matching requests before any random one
    script: list[str] = field(default_factory=list)
    seed: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultPlan:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault settings {unknown}; known: {sorted(known)}")
        plan = cls(**data)
        for name in ("error_5xx_rate", "drop_rate", "lost_reply_rate"):
            rate = getattr(plan, name)
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError(f"{name}={rate!r} must be between 0 and 1")
        bad = [kind for kind in plan.script if kind not in KINDS]
        if bad:
            raise ValueError(f"unknown fault kinds in script {bad}; known: {list(KINDS)}")
        if plan.latency_ms < 0 or plan.token_invalidate_every < 0:
            raise ValueError("latency_ms and token_invalidate_every must be >= 0")
        return plan


class FaultInjector:
    """Decides, per request, which fault (if any) to apply. Seeded: the same plan, the same run."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self.set(plan or FaultPlan())

    def set(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._script: deque[str] = deque(plan.script)
        self._random = random.Random(plan.seed)
        self._auth_calls = 0
        self.injected: dict[str, int] = dict.fromkeys(KINDS, 0)

    @property
    def active(self) -> bool:
        p = self.plan
        return bool(
            p.latency_ms
            or p.error_5xx_rate
            or p.drop_rate
            or p.lost_reply_rate
            or p.token_invalidate_every
            or self._script
        )

    def applies(self, path: str, port: int | None) -> bool:
        if self.plan.paths and not any(path.startswith(prefix) for prefix in self.plan.paths):
            return False
        return not (self.plan.ports and port not in self.plan.ports)

    def transport_fault(self) -> str | None:
        """5xx, drop or lost reply for this request (scripted ones first)."""
        if self._script and self._script[0] != TOKEN_INVALIDATED:
            return self._count(self._script.popleft())
        p = self.plan
        roll = self._random.random() if (p.error_5xx_rate or p.drop_rate or p.lost_reply_rate) else 1.0
        for kind, rate in ((ERROR_5XX, p.error_5xx_rate), (DROP, p.drop_rate), (LOST_REPLY, p.lost_reply_rate)):
            if roll < rate:
                return self._count(kind)
            roll -= rate
        return None

    def invalidate_token_now(self) -> bool:
        """Called once per authenticated FPT call: should its token be found replaced?"""
        if self._script and self._script[0] == TOKEN_INVALIDATED:
            self._script.popleft()
            self._count(TOKEN_INVALIDATED)
            return True
        every = self.plan.token_invalidate_every
        if not every:
            return False
        self._auth_calls += 1
        if self._auth_calls % every == 0:
            self._count(TOKEN_INVALIDATED)
            return True
        return False

    def _count(self, kind: str) -> str:
        self.injected[kind] += 1
        return kind
