"""Do-not-contact lists: which phones must never get advertising, and which list says so.

Decree 91/2020/ND-CP fines advertising a number on the national Do-Not-Call list, and a subscriber who
opted out must not get the advertiser's messages again. So a campaign is checked against every list the
team keeps (the DNC export, its own opt-outs) before anything is pushed. Numbers are read through the
same cleaner as the audience (:func:`.phones.clean_numbered`), so ``0912 345 678`` on a list suppresses
``+84912345678`` in the audience. Each list is a :class:`.phones.PhoneSet`: a million numbers cost a few
MB, whatever the list's size on disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from airflow_provider_fptsms.sms.phones import PhoneSet, PhoneStats, clean_numbered

__all__ = ["Suppression", "SuppressionList", "build_list"]


@dataclass
class SuppressionList:
    """One named list: its numbers, and what reading it found (``unreadable`` rows are not numbers)."""

    name: str
    phones: PhoneSet
    numbers: int
    unreadable: int

    def __contains__(self, phone: str) -> bool:
        return int(phone) in self.phones


def build_list(name: str, rows: Iterable[tuple[int, object]], *, international: bool = False) -> SuppressionList:
    """Read ``(row, value)`` pairs into a list; values that are not phone numbers are counted, not kept."""
    stats = PhoneStats()
    phones = PhoneSet()
    for result in clean_numbered(rows, international=international, stats=stats):  # type: ignore[arg-type]
        if result.phone is not None and not result.duplicate:
            phones.add(int(result.phone))
    return SuppressionList(name=name, phones=phones, numbers=stats.unique, unreadable=stats.invalid)


@dataclass
class Suppression:
    """The lists a send or push is checked against; counts how many audience phones each one stopped."""

    lists: Sequence[SuppressionList] = ()
    stopped: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.lists)

    def source_of(self, phone: str) -> str | None:
        """The first list holding ``phone`` (a normalised number), counted as stopped by it; None if none."""
        key = int(phone)
        for suppression_list in self.lists:
            if key in suppression_list.phones:
                self.stopped[suppression_list.name] = self.stopped.get(suppression_list.name, 0) + 1
                return suppression_list.name
        return None

    @property
    def total(self) -> int:
        """Audience phones stopped by any list."""
        return sum(self.stopped.values())

    def as_dict(self) -> dict[str, object]:
        """For the summary (XCom): phones stopped in all and by list, and each list's size."""
        return {
            "suppressed": self.total,
            "by_list": {item.name: self.stopped.get(item.name, 0) for item in self.lists},
            "lists": {item.name: {"numbers": item.numbers, "unreadable": item.unreadable} for item in self.lists},
        }
