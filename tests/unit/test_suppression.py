"""Suppression lists: numbers cleaned like the audience's, a few MB per million, which list stopped a phone."""

from __future__ import annotations

import tracemalloc

from airflow_provider_fptsms.operators._sources import read_suppression
from airflow_provider_fptsms.sms.phones import PhoneSet
from airflow_provider_fptsms.sms.suppression import Suppression, build_list


def test_phone_set_membership() -> None:
    phones = PhoneSet()
    for key in (84912345678, 84961234567, 14155550100):
        phones.add(key)
    assert 84912345678 in phones and 14155550100 in phones
    assert 84912345679 not in phones and 84301234567 not in phones and 14155550101 not in phones


def test_a_list_is_normalised_like_the_audience() -> None:
    dnc = build_list("dnc.csv", enumerate(["0912 345 678", "+84961234567", "not a phone", "0912345678"], 1))
    assert (dnc.numbers, dnc.unreadable) == (2, 1)
    assert "84912345678" in dnc and "84961234567" in dnc and "84961234568" not in dnc


def test_the_first_list_holding_a_phone_is_counted() -> None:
    suppression = Suppression(
        [
            build_list("dnc", enumerate(["0912345678"], 1)),
            build_list("opt_outs", enumerate(["0912345678", "0961234567"], 1)),
        ]
    )
    assert suppression.source_of("84912345678") == "dnc"
    assert suppression.source_of("84961234567") == "opt_outs"
    assert suppression.source_of("84901234567") is None
    assert suppression.as_dict()["by_list"] == {"dnc": 1, "opt_outs": 1} and suppression.total == 2


def test_sources_by_path_list_and_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dnc = tmp_path / "dnc-2026-11.csv"
    dnc.write_text("so_dien_thoai,ghi_chu\n0912345678,x\n")
    opt = tmp_path / "opt_outs.txt"
    opt.write_text("0961234567\n")
    assert [item.name for item in read_suppression(str(dnc)).lists] == ["dnc-2026-11.csv"]
    assert [item.name for item in read_suppression([str(dnc), str(opt)]).lists] == ["dnc-2026-11.csv", "opt_outs.txt"]
    assert [item.name for item in read_suppression(["0912345678", "0961234567"]).lists] == ["list 1"]
    both = read_suppression({"dnc": str(dnc), "mine": ["0901234567"]})
    assert [item.name for item in both.lists] == ["dnc", "mine"] and both.source_of("84901234567") == "mine"
    assert not read_suppression(None) and not read_suppression([])


def test_a_list_costs_a_bitmap_per_block_whatever_its_size() -> None:
    tracemalloc.start()
    try:
        big = build_list("dnc", ((row, f"09{row:08d}") for row in range(1, 30_001)))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert big.numbers == 30_000 and "84900030000" in big and "84900030001" not in big
    assert peak < 1_000_000, (
        f"a 30,000-number list peaked at {peak / 1e6:.1f} MB; one 125 KB bitmap per block (a set of ints: ~2 MB)"
    )


def test_a_list_with_no_number_is_refused_naming_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from airflow_provider_fptsms.gateways.errors import InvalidInputError

    export = tmp_path / "dnc.csv"
    export.write_text("ten,ghi_chu\nAn,x\n")  # a wrong export: no phone column
    with pytest.raises(InvalidInputError) as caught:
        read_suppression({"dnc": str(export)})
    assert caught.value.field == "suppress[dnc]" and "holds no phone number" in str(caught.value)
    with pytest.raises(InvalidInputError) as missing:
        read_suppression({"dnc": str(tmp_path / "nope.csv")})
    assert missing.value.field == "suppress[dnc]" and "file not found" in str(missing.value)


def test_a_list_on_object_storage_given_as_text() -> None:
    from airflow_provider_fptsms.operators._sources import _named_sources, as_source

    remote = as_source("s3://crm/exports/dnc-export.csv")  # read through Airflow's ObjectStoragePath, not open()
    assert remote.protocol == "s3" and str(remote) == "s3://crm/exports/dnc-export.csv"
    assert [name for name, _source in _named_sources({"dnc": "s3://crm/dnc.csv"})] == ["dnc"]
    assert [name for name, _source in _named_sources(["s3://crm/a.csv", "gs://crm/b.txt"])] == ["a.csv", "b.txt"]


def test_literal_lists_are_registered_with_the_masker(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from airflow_provider_fptsms.hooks import _http
    from airflow_provider_fptsms.operators._sources import mask_literal_lists

    masked: list[str] = []
    monkeypatch.setattr(_http, "mask", lambda secret, name=None: masked.append(secret))
    mask_literal_lists({"opt_outs": ["0912345678"], "dnc": "/data/dnc.csv"})
    mask_literal_lists([["0961234567"], "/data/other.csv"])
    assert masked == ["0912345678", "0961234567"]
