"""Cost by telco: messages (SMS parts) x the contract's price per telco, unpriced telcos named, never guessed."""

from __future__ import annotations

import pytest

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sms.cost import CostCounter, check_prices, price_list, telco_of


def test_telco_of_a_number() -> None:
    assert telco_of("84912345678") == "vina" and telco_of("84961234567") == "viettel"
    assert telco_of("84901234567") == "mobi" and telco_of("14155550100") == "international"


def test_messages_by_telco_times_their_price() -> None:
    counter = CostCounter(check_prices({"viettel": 850, "vina": 800}))
    counter.add("84961234567", 2)
    counter.add("84961234568", 2)
    counter.add("84912345678", 1)
    cost = counter.cost()
    assert cost.messages == {"viettel": 4, "vina": 1}
    assert cost.total_vnd == 4 * 850 + 800 and cost.unpriced == {}
    by_telco = cost.as_dict()["by_telco"]
    assert isinstance(by_telco, dict) and by_telco["viettel"] == {"messages": 4, "vnd": 3400}
    assert cost.describe() == "5 SMS parts, about 4,200 VND"


def test_a_chunk_at_once_counts_as_one_phone_at_a_time() -> None:
    chunk = ["84961234567", "84912345678", "84961234568", "14155550100", "84901234567"]
    one_by_one, at_once = CostCounter({"default": 900.0}), CostCounter({"default": 900.0})
    for phone in chunk:
        one_by_one.add(phone, 2)
    at_once.add_many(chunk, 2)
    at_once.add_many([], 2)
    assert at_once.messages == one_by_one.messages == {"viettel": 4, "vina": 2, "international": 2, "mobi": 2}


def test_default_prices_the_rest_and_an_unpriced_telco_is_named() -> None:
    assert CostCounter({"default": 900.0}).cost().total_vnd == 0
    counter = CostCounter(check_prices({"viettel": 850}))
    counter.add("84961234567")
    counter.add("84901234567", 3)
    cost = counter.cost()
    assert cost.total_vnd == 850 and cost.unpriced == {"mobi": 3}
    assert "no price for mobi (3): set them in prices" in cost.describe()
    with_default = CostCounter(check_prices({"viettel": 850, "default": 900}))
    with_default.add("84901234567", 3)
    assert with_default.cost().total_vnd == 2700


@pytest.mark.parametrize(
    ("prices", "field"),
    [({"vinaphone": 800}, "prices.vinaphone"), ({"vina": -1}, "prices.vina"), ({"vina": "800"}, "prices.vina")],
)
def test_a_bad_price_list_is_refused_naming_the_key(prices: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_prices(prices)
    assert caught.value.field == field


def test_the_connection_extra_is_read_as_a_mapping_or_json_text() -> None:
    assert price_list(None, {"prices": '{"default": 900}'}) == {"default": 900.0}
    assert price_list(None, {"prices": {"Viettel": 850}}) == {"viettel": 850.0}
    assert price_list({"vina": 1}, {"prices": {"vina": 2}}) == {"vina": 1.0}  # the operator's wins
    assert price_list(None, {}) == {}
    with pytest.raises(InvalidInputError, match=r"extra\.prices"):
        price_list(None, {"prices": "{not json"})
