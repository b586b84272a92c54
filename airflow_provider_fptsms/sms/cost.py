"""What a send or a campaign costs in VND, before and after: messages by telco times each telco's price.

Brandname SMS is billed per message part (MT), at a price per telco set by the contract, so the price list
is configuration: the ``prices`` extra of the connection, or ``prices=`` on an operator or in a campaign
spec, e.g. ``{"viettel": 850, "vina": 850, "mobi": 850, "default": 900}``. Keys are the telco names of
:data:`.phones.CARRIERS` (``international`` for foreign numbers) and ``default`` for any other. A telco
without a price is reported as such, never guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sms.phones import CARRIERS, carrier

__all__ = ["INTERNATIONAL", "Cost", "CostCounter", "check_prices", "price_list", "telco_of"]

#: the price key of numbers outside Vietnam
INTERNATIONAL = "international"
_KEYS = frozenset({*CARRIERS, INTERNATIONAL, "default"})


def check_prices(prices: Mapping[str, object] | None, *, field_name: str = "prices") -> dict[str, float]:
    """The price list as ``{telco: VND per message part}``; refuses unknown telcos and negative prices."""
    if not prices:
        return {}
    if not isinstance(prices, Mapping):
        raise InvalidInputError(field_name, prices, "must be a mapping of telco to VND per message", '{"default": 850}')
    checked: dict[str, float] = {}
    for name, price in prices.items():
        key = str(name).strip().lower()
        if key not in _KEYS:
            raise InvalidInputError(
                f"{field_name}.{name}", price, "is not a telco", f"use one of {sorted(_KEYS)} ('default' for the rest)"
            )
        if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
            raise InvalidInputError(f"{field_name}.{name}", price, "must be a number >= 0", "VND per message part")
        checked[key] = float(price)
    return checked


def telco_of(phone: str) -> str:
    """The price key of a normalised number: its Vietnamese telco, or ``international``."""
    return (carrier(phone) or "unknown") if phone.startswith("84") and len(phone) == 11 else INTERNATIONAL


@dataclass(frozen=True)
class Cost:
    """Messages and VND by telco; ``unpriced`` holds the messages of telcos the price list does not name."""

    messages: dict[str, int]
    vnd: dict[str, float]
    unpriced: dict[str, int]

    @property
    def total_vnd(self) -> float:
        return sum(self.vnd.values())

    @property
    def total_messages(self) -> int:
        return sum(self.messages.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "messages": self.total_messages,
            "vnd": round(self.total_vnd),
            "by_telco": {
                name: {"messages": n, "vnd": round(self.vnd.get(name, 0))} for name, n in self.messages.items()
            },
            "unpriced": dict(self.unpriced),
        }

    def describe(self) -> str:
        """``12,345 SMS parts, about 10,493,250 VND`` (and what could not be priced)."""
        text = f"{self.total_messages:,} SMS parts"
        if self.vnd:
            text += f", about {self.total_vnd:,.0f} VND"
        if self.unpriced:
            missing = ", ".join(f"{name} ({n:,})" for name, n in sorted(self.unpriced.items()))
            text += f"; no price for {missing}: set them in prices"
        return text


@dataclass
class CostCounter:
    """Counts messages by telco as phones go by, then prices them."""

    prices: Mapping[str, float]
    messages: dict[str, int] = field(default_factory=dict)

    def add(self, phone: str, parts: int = 1) -> None:
        telco = telco_of(phone)
        self.messages[telco] = self.messages.get(telco, 0) + parts

    def add_many(self, phones: Iterable[str], parts: int = 1) -> None:
        """:meth:`add` for a chunk of phones at once (a push's hot path: one dict update per telco, not per phone)."""
        for telco, n in Counter(map(telco_of, phones)).items():
            self.messages[telco] = self.messages.get(telco, 0) + n * parts

    def cost(self) -> Cost:
        vnd: dict[str, float] = {}
        unpriced: dict[str, int] = {}
        default = self.prices.get("default")
        for telco, count in sorted(self.messages.items()):
            price = self.prices.get(telco, default)
            if price is None:
                unpriced[telco] = count
            else:
                vnd[telco] = count * price
        return Cost(dict(sorted(self.messages.items())), vnd, unpriced)


def price_list(explicit: Mapping[str, object] | None, extra: Mapping[str, object]) -> dict[str, float]:
    """The operator's ``prices`` if given, else the connection's ``prices`` extra (a mapping or JSON text)."""
    if explicit:
        return check_prices(explicit)
    configured = extra.get("prices")
    if isinstance(configured, str) and configured.strip():
        import json

        try:
            configured = json.loads(configured)
        except ValueError:
            raise InvalidInputError(
                "extra.prices", "<not JSON>", "is not a JSON object", '{"viettel": 850, "default": 900}'
            ) from None
    return check_prices(configured if isinstance(configured, Mapping) else None, field_name="extra.prices")
