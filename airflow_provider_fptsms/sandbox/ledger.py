"""The record of every message the sandbox really accepted: the ground truth for exactly-once tests."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_fptsms.gateways.errors import mask_phone


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    gateway: str  # fpt | fibo
    kind: str  # cskh | cskh_international | qc | fibo
    phone: str
    message_id: str
    account: str
    brandname: str
    accepted_at: float
    request_id: str = ""
    campaign_code: str = ""
    batch_id: str = ""
    message: str = ""

    def dedupe_key(self) -> tuple[str, ...]:
        """Two entries with the same key are the same message delivered twice, as the subscriber sees it:
        the same text from the same account to the same phone, whatever RequestId, campaign or kind
        (CSKH and QC alike) carried it."""
        return (self.gateway, self.account, self.phone, self.message)


def _shown_key(key: tuple[str, ...]) -> list[str]:
    """A duplicate key fit for the admin API and test output: the phone masked, the text as a short hash."""
    gateway, account, phone, message = key
    return [gateway, account, mask_phone(phone), "sha256:" + hashlib.sha256(message.encode()).hexdigest()[:12]]


class Ledger:
    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def add(self, **fields: Any) -> LedgerEntry:
        entry = LedgerEntry(seq=len(self.entries) + 1, **fields)
        self.entries.append(entry)
        return entry

    def __len__(self) -> int:
        return len(self.entries)

    def select(
        self,
        *,
        gateway: str | None = None,
        kind: str | None = None,
        campaign_code: str | None = None,
        account: str | None = None,
    ) -> list[LedgerEntry]:
        return [
            e
            for e in self.entries
            if (gateway is None or e.gateway == gateway)
            and (kind is None or e.kind == kind)
            and (campaign_code is None or e.campaign_code == campaign_code)
            and (account is None or e.account == account)
        ]

    def summary(self, entries: list[LedgerEntry] | None = None) -> dict[str, Any]:
        """What subscribers got, over the ledger's whole lifetime (not only a duplicate window).

        ``duplicates``: extra accepted entries with the same (gateway, account, phone, text) as an earlier one;
        ``unique``: distinct such keys; ``request_id_reuse``: extra accepted entries sharing a non-empty
        (gateway, account, RequestId/smsGUID) with an earlier one (a label reused, not necessarily a duplicate);
        ``duplicate_keys``: up to 20 repeated keys, phone masked and text hashed.
        """
        chosen = self.entries if entries is None else entries
        keys = Counter(e.dedupe_key() for e in chosen)
        repeated = {key: n for key, n in keys.items() if n > 1}
        request_ids = Counter((e.gateway, e.account, e.request_id) for e in chosen if e.request_id)
        return {
            "total": len(chosen),
            "by_kind": dict(Counter(e.kind for e in chosen)),
            "unique": len(keys),
            "duplicates": sum(n - 1 for n in repeated.values()),
            "duplicate_keys": [_shown_key(key) for key in list(repeated)[:20]],
            "request_id_reuse": sum(n - 1 for n in request_ids.values() if n > 1),
        }

    @staticmethod
    def as_dict(entry: LedgerEntry) -> dict[str, Any]:
        return asdict(entry)


def delivery_fails(phone: str, rate: float) -> bool:
    """Whether this phone's delivery report ends "failed": a hash, so every run agrees."""
    digest = hashlib.blake2b(phone.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32 < rate
