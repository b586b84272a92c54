"""Phone toolkit: shapes, every prefix, carriers, international numbers, masking, clean(), read_phones(), laziness."""

from __future__ import annotations

import gzip
import itertools
import subprocess
import sys
import tempfile
import textwrap
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_fptsms.gateways import errors
from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sms import phones
from airflow_provider_fptsms.sms.phones import (
    REASON_EMPTY,
    REASON_FOREIGN,
    REASON_INVALID_INTERNATIONAL,
    REASON_LANDLINE,
    REASON_NOT_A_NUMBER,
    REASON_NOT_MOBILE,
    REASON_OLD_11_DIGIT,
    REASON_TOO_LONG,
    REASON_TOO_SHORT,
    PhoneResult,
    PhoneStats,
    carrier,
    clean,
    is_valid,
    mask_phone,
    normalise,
    read_phones,
)

DETERMINISTIC = settings(derandomize=True, deadline=None, max_examples=300)


def _expand(*prefixes: str) -> list[str]:
    return [p + str(d) for p in prefixes for d in range(10)] if all(len(p) == 2 for p in prefixes) else list(prefixes)


# Written out independently of the module's table: the current allocations, block by block.
EXPECTED_BLOCKS: dict[str, str] = {
    **dict.fromkeys(_expand("32", "33", "34", "35", "36", "37", "38", "39", "86", "96", "97", "98"), "viettel"),
    **dict.fromkeys(_expand("81", "82", "83", "84", "85", "88", "91", "94"), "vina"),
    **dict.fromkeys([*_expand("70", "76", "77", "78", "79", "90", "93"), "896", "897", "898", "899"], "mobi"),
    **dict.fromkeys([*_expand("56", "58", "92"), "522", "523", "528"], "vietnamobile"),
    **dict.fromkeys([*_expand("59"), "990", "991", "993", "994", "995", "996", "997"], "gmobile"),
    **dict.fromkeys([*_expand("87"), "998", "999"], "itel"),
    "559": "reddi",
}
# The brief's two-digit mobile prefixes (after 84); 95 (S-Fone, closed 2012) is deliberately absent.
MOBILE_2DIGIT = {f"{p}" for p in [*range(32, 40), 52, 55, 56, 58, 59, 70, *range(76, 80), *range(81, 90)]}
MOBILE_2DIGIT |= {str(p) for p in [90, 91, 92, 93, 94, 96, 97, 98, 99]}
# Blocks phonenumbers 9.x calls mobile that we refuse on purpose (see MOBILE_BLOCKS' docstring):
# 030/031/051 are outside FPT's prefix list, 095 is the closed S-Fone range, 121x/140/160 are 9-digit M2M.
REFUSED_ON_PURPOSE = {f"{p}{d}" for p in ("30", "31", "51", "95") for d in range(10)} | {"121", "140", "160"}


# --------------------------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "84912345678",
        "+84912345678",
        "0084912345678",
        "0912 345 678",
        "091 234 5678",
        "0912.345.678",
        "0912-345-678",
        "(091) 234-5678",
        "(+84) 912.345.678",
        "+84 912 345 678",
        "+84-91-234-5678",
        "00 84 912 345 678",
        "  0912345678 \n",
        "0912\t345\t678",
        "0912\u00a0345\u00a0678",
        "+84 (0) 912 345 678",
        "840912345678",
        "+840912345678",
        "912345678",  # a spreadsheet dropped the leading zero
        "０９１２３４５６７８",  # full-width digits: phonenumbers fallback
        "٠٩١٢٣٤٥٦٧٨",  # Arabic-Indic digits: phonenumbers fallback
        "0912–345–678",  # en dashes: phonenumbers fallback
    ],
)
@pytest.mark.parametrize("international", [False, True])
def test_every_shape_normalises_to_84(raw: str, international: bool) -> None:
    assert normalise(raw, international=international) == "84912345678"
    assert is_valid(raw, international=international)


def test_a_spreadsheet_integer_is_accepted() -> None:
    assert normalise(912345678) == "84912345678"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", REASON_EMPTY),
        ("   ", REASON_EMPTY),
        ("0", REASON_TOO_SHORT),
        ("00", REASON_TOO_SHORT),
        ("+84", REASON_TOO_SHORT),
        ("091234567", REASON_TOO_SHORT),
        ("+8491234567", REASON_TOO_SHORT),
        ("09123456789", REASON_TOO_LONG),
        ("849123456789", REASON_TOO_LONG),
        ("0912345678 0987654321", REASON_TOO_LONG),
        ("02438123456", REASON_LANDLINE),  # Hà Nội (VNPT)
        ("024 3812 3456", REASON_LANDLINE),
        ("028 3822 1234", REASON_LANDLINE),  # Hồ Chí Minh City
        ("+84 28 3822 1234", REASON_LANDLINE),
        ("0236 3822 123", REASON_LANDLINE),  # Đà Nẵng
        ("01621234567", REASON_OLD_11_DIGIT),  # Viettel 0162 -> 032 since 2018
        ("01231234567", REASON_OLD_11_DIGIT),  # Vinaphone 0123 -> 083
        ("01991234567", REASON_OLD_11_DIGIT),  # Gmobile 0199 -> 059
        ("0951234567", REASON_NOT_MOBILE),  # S-Fone, closed
        ("0992123456", REASON_NOT_MOBILE),  # VSAT, moved to 0672
        ("0501234567", REASON_NOT_MOBILE),
        ("0891234567", REASON_NOT_MOBILE),  # only 0896-0899 are allocated
        ("0521234567", REASON_NOT_MOBILE),  # only 0522, 0523, 0528
        ("0551234567", REASON_NOT_MOBILE),  # only 0559 (Reddi)
        ("0301234567", REASON_NOT_MOBILE),
        ("1800123456", REASON_TOO_LONG),
        ("0912abc678", REASON_NOT_A_NUMBER),  # never read as a vanity number
        ("tel:0912345678", REASON_NOT_A_NUMBER),
        ("n/a", REASON_NOT_A_NUMBER),
        ("#$%", REASON_NOT_A_NUMBER),
        ("+14155552671", REASON_FOREIGN),
        ("0014155552671", REASON_FOREIGN),
        ("+65 9123 4567", REASON_FOREIGN),
    ],
)
def test_invalid_numbers_say_why(raw: str, reason: str) -> None:
    assert not is_valid(raw)
    with pytest.raises(InvalidInputError) as caught:
        normalise(raw)
    assert caught.value.field == "phone"
    assert reason in str(caught.value)
    assert phones.NEXT_STEPS[reason] in str(caught.value)
    assert [r.reason for r in clean([raw])] == [reason]


def test_none_is_empty() -> None:
    assert [r.reason for r in clean([None])] == [REASON_EMPTY]  # type: ignore[list-item]
    assert not is_valid(None)  # type: ignore[arg-type]


def test_invalid_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="landline"):
        normalise("02438123456")


# --------------------------------------------------------------------------------------------- prefixes, carriers


def test_module_table_matches_the_written_out_allocations() -> None:
    assert phones.MOBILE_BLOCKS == EXPECTED_BLOCKS
    assert {"viettel", "vina", "mobi", "vietnamobile", "gmobile", "itel", "reddi"} == phones.CARRIERS


@pytest.mark.parametrize(("block", "telco"), sorted(EXPECTED_BLOCKS.items()))
def test_every_mobile_block_is_valid_and_named(block: str, telco: str) -> None:
    for subscriber in ("000000", "123456", "999999"):
        phone = normalise(f"0{block}{subscriber}")
        assert phone == f"84{block}{subscriber}"
        assert carrier(phone) == telco
        assert normalise(f"+84 {block} {subscriber}") == phone


@pytest.mark.parametrize("prefix", [f"{p:02d}" for p in range(100)])
def test_two_digit_prefixes_follow_the_brief(prefix: str) -> None:
    accepted = [block for block in (f"{prefix}{d}" for d in range(10)) if is_valid(f"0{block}123456")]
    if prefix in MOBILE_2DIGIT:
        assert accepted, f"0{prefix} should have at least one mobile block"
    else:
        assert accepted == [], f"0{prefix} is not a mobile prefix"


def test_every_block_agrees_with_phonenumbers_except_the_documented_ones() -> None:
    mobile = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    disagree = set()
    for block in (f"{n:03d}" for n in range(1000)):
        number = phonenumbers.parse(f"+84{block}123456")
        theirs = phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in mobile
        if theirs != is_valid(f"84{block}123456"):
            disagree.add(block)
    assert disagree == REFUSED_ON_PURPOSE


@pytest.mark.parametrize(
    ("phone", "telco"),
    [
        ("84961234567", "viettel"),
        ("84321234567", "viettel"),
        ("84861234567", "viettel"),
        ("84911234567", "vina"),
        ("84881234567", "vina"),
        ("84901234567", "mobi"),
        ("84701234567", "mobi"),
        ("84898123456", "mobi"),
        ("84921234567", "vietnamobile"),
        ("84522123456", "vietnamobile"),
        ("84591234567", "gmobile"),
        ("84993123456", "gmobile"),
        ("84871234567", "itel"),
        ("84998123456", "itel"),
        ("84559123456", "reddi"),
    ],
)
def test_carrier_names_are_fpts(phone: str, telco: str) -> None:
    assert carrier(phone) == telco


@pytest.mark.parametrize(
    "phone",
    ["0912345678", "+84912345678", "8491234567", "849123456789", "84951234567", "14155552671", "", "84９12345678"],
)
def test_carrier_is_none_for_anything_not_normalised_vn_mobile(phone: str) -> None:
    assert carrier(phone) is None


# --------------------------------------------------------------------------------------------- properties

VALID_BLOCKS = sorted(EXPECTED_BLOCKS)
ALL_BLOCKS = [f"{n:03d}" for n in range(1000)]
subscribers = st.integers(0, 999_999).map(lambda n: f"{n:06d}")


def _variants(national: str) -> list[str]:
    a, b, c = national[:2], national[2:5], national[5:]
    return [
        "0" + national,
        "84" + national,
        "+84" + national,
        "0084" + national,
        f"0{a} {b} {c}",
        f"0{a}{b[0]}.{b[1:]}{c[0]}.{c[1:]}",
        f"(+84) {a}-{b}-{c}",
        f"+84 (0) {a} {b} {c}",
        f"84-{a}-{b}-{c}",
        national,
    ]


@DETERMINISTIC
@given(st.sampled_from(VALID_BLOCKS), subscribers)
def test_formatting_variants_all_normalise_to_the_same_number(block: str, subscriber: str) -> None:
    national = block + subscriber
    assert {normalise(v) for v in _variants(national)} == {"84" + national}
    assert {normalise(v, international=True) for v in _variants(national)} == {"84" + national}


@DETERMINISTIC
@given(st.sampled_from(ALL_BLOCKS), subscribers, st.integers(0, 9))
def test_fast_path_valid_implies_phonenumbers_valid(block: str, subscriber: str, variant: int) -> None:
    raw = _variants(block + subscriber)[variant]
    fast = phones._fast_vn(raw)
    if fast is not None:
        number = phonenumbers.parse(raw, "VN")
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == "+" + fast


@DETERMINISTIC
@given(st.text(alphabet="0123456789+ .-()84", max_size=18))
def test_fast_and_slow_paths_agree(raw: str) -> None:
    fast = phones._fast_vn(raw)
    if fast is not None:
        assert phones._slow(raw, False) == (fast, None)
        assert phones._slow(raw, True) == (fast, None)


# What may stand before the national number: the fast path's heads, and near misses it must leave alone.
HEADS = [*phones._FAST_HEADS, "00", "8", "+8", "+", "+0", "084", "0840", "8400", "+8400", "00084", "1", "+1"]
# The fast path's five separators, and others it must leave to the slow path (a lone surrogate cannot even
# be encoded).
SEPARATORS = [" ", "-", ".", "(", ")", "\t", "\u00a0", "\u2013", "/", "x", "+", "\ud800"]


@st.composite
def spellings(draw: st.DrawFn, nationals: st.SearchStrategy[str] | None = None) -> str:
    """A head, a national number (9 digits, or one too few / too many) and separators anywhere."""
    if nationals is None:
        size = draw(st.sampled_from([9, 9, 9, 8, 10]))
        rest = st.text("0123456789", min_size=size - 3, max_size=size - 3)
        nationals = st.tuples(st.sampled_from(ALL_BLOCKS), rest).map("".join)
    text = draw(st.sampled_from(HEADS)) + draw(nationals)
    if draw(st.integers(0, 4)) == 0:  # now and then a full-width digit (isdigit() is True, isascii() is not)
        at = draw(st.integers(0, len(text) - 1))
        if text[at].isdigit():
            text = text[:at] + chr(ord(text[at]) + 0xFEE0) + text[at + 1 :]
    cuts = draw(st.lists(st.tuples(st.integers(0, len(text)), st.sampled_from(SEPARATORS)), max_size=4))
    for at, separator in sorted(cuts, reverse=True):
        text = text[:at] + separator + text[at:]
    return text


@DETERMINISTIC
@given(spellings())
def test_fast_path_heads_agree_with_the_slow_path(raw: str) -> None:
    fast = phones._fast_vn(raw)
    if fast is not None:
        assert phones._slow(raw, False) == (fast, None)
        assert phones._slow(raw, True) == (fast, None)


def test_fast_keys_are_one_per_head_and_block() -> None:
    assert len(phones._FAST_KEYS) == len(phones._FAST_HEADS) * len(phones.MOBILE_BLOCKS)  # no key read two ways
    assert {prefix for prefix, _ in phones._FAST_KEYS.values()} == {"84" + block for block in phones.MOBILE_BLOCKS}


@DETERMINISTIC
@given(st.sampled_from(phones._FAST_HEADS), st.sampled_from(VALID_BLOCKS), subscribers, st.integers(0, 4))
def test_fast_path_takes_every_head_it_lists(head: str, block: str, subscriber: str, cut: int) -> None:
    text = head + block + subscriber
    assert phones._fast_vn(text) == "84" + block + subscriber
    assert phones._fast_vn(f"{text[:cut]} {text[cut:-4]}-{text[-4:]}") == "84" + block + subscriber


def _clean_on_the_slow_path(values: list[object], international: bool) -> list[PhoneResult]:
    """clean() spelled out on the general path only: _slow for every row, a set of str for dedupe."""
    seen: set[str] = set()
    results = []
    for row, raw in enumerate(values, 1):
        phone, reason = phones._slow(raw, international)
        if phone is None:
            results.append(PhoneResult(row, None, reason or REASON_NOT_A_NUMBER, False, raw))
        else:
            results.append(PhoneResult(row, phone, None, phone in seen, raw))
            seen.add(phone)
    return results


# A small pool of numbers, so that lists repeat them in different spellings.  912345664..671 share one
# bitmap byte (1 and 4 apart here); 672 and 680 take the same bit in the next two bytes; 952 is refused.
_POOL = st.sampled_from(
    [
        "912345664",
        "912345668",
        "912345670",
        "912345671",
        "912345672",
        "912345680",
        "987000000",
        "559999999",
        "952345678",
    ]
)
cells = st.one_of(
    spellings(),
    spellings(_POOL),
    st.text(alphabet="0123456789+ .-()84", max_size=18),
    st.none(),
    st.integers(-1, 10**12),
    st.sampled_from(["+1 415 555 2671", "0014155552671", "+65 1234 5678", b"0912345678", 3.5, ["0912345678"]]),
)


@DETERMINISTIC
@given(st.lists(cells, max_size=25), st.booleans(), st.booleans())
def test_clean_equals_the_slow_path_row_by_row(values: list[object], international: bool, dedupe: bool) -> None:
    stats = PhoneStats()
    results = list(clean(values, international=international, dedupe=dedupe, stats=stats))  # type: ignore[arg-type]
    expected = _clean_on_the_slow_path(values, international)
    if not dedupe:
        expected = [item._replace(duplicate=False) for item in expected]
    assert results == expected
    assert [type(item.phone) for item in results] == [type(item.phone) for item in expected]
    assert stats.total == len(values)
    assert stats.valid == sum(item.phone is not None for item in expected)
    assert stats.duplicates == sum(item.duplicate for item in expected)
    assert sum(stats.by_reason.values()) == stats.invalid == len(values) - stats.valid


@DETERMINISTIC
@given(st.lists(spellings(_POOL), min_size=2, max_size=40))
def test_clean_dedupes_as_the_slow_path_across_spellings(values: list[str]) -> None:
    assert list(clean(values)) == _clean_on_the_slow_path(list(values), False)


def test_clean_dedupes_neighbours_in_one_bitmap_byte() -> None:
    nationals = ["912345664", "912345668", "912345670", "912345671", "912345672", "912345680", "559999999"]
    values = [head + national for head in phones._FAST_HEADS for national in nationals]
    results = list(clean(values))
    assert [r.duplicate for r in results] == [False] * len(nationals) + [True] * (len(values) - len(nationals))
    assert results == _clean_on_the_slow_path(list(values), False)


def test_clean_dedupes_across_the_fast_and_slow_paths() -> None:
    values = ["0912\t345\t678", "0912345678", "84 912 345 678", "0912\u00a0345\u00a0678"]  # tab, NBSP: slow path
    assert [(r.phone, r.duplicate) for r in clean(values)] == [("84912345678", False)] + [("84912345678", True)] * 3


def test_clean_leaves_non_ascii_digits_to_the_slow_path() -> None:
    values = ["091234567\uff18", "+84 912 345 67\uff18", "0912345678", "91234567\u0668"]  # full-width 8, Arabic-Indic 8
    assert [(r.phone, r.duplicate) for r in clean(values)] == [
        ("84912345678", False),
        ("84912345678", True),
        ("84912345678", True),
        ("84912345678", True),
    ]


LINES = ["0912345678", "", "  ", " +84 987 654 321\t", "x", "\u00a0", "Số điện thoại", "\x0c0912\x0b345678"]


@settings(derandomize=True, deadline=None, max_examples=100)
@given(
    st.lists(st.sampled_from(LINES), max_size=12),
    st.integers(1, 2_000),  # repeats: a few lines, or past read_phones' 8192-character blocks
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
    st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_read_phones_of_a_text_file_are_the_numbered_reader_s_values(
    lines: list[str], repeats: int, newline: str, last_newline: bool, encoding: str
) -> None:
    from airflow_provider_fptsms.sms.audience import read_numbered_phones

    text = newline.join(lines * repeats) + (newline if last_newline else "")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.txt"
        path.write_bytes(text.encode(encoding))
        assert list(read_phones(path)) == [value for _, value in read_numbered_phones(path)]


@DETERMINISTIC
@given(st.text(max_size=30))
def test_any_text_is_either_normalised_or_refused_with_invalid_input_error(raw: str) -> None:
    for international in (False, True):
        try:
            phone = normalise(raw, international=international)
        except InvalidInputError as error:
            assert error.field == "phone"
        else:
            assert phone.isascii()
            assert phone.isdigit()
            assert is_valid(raw, international=international)


@DETERMINISTIC
@given(st.sampled_from(ALL_BLOCKS), subscribers, st.integers(0, 9), st.sampled_from(["", "9", "99"]))
def test_refused_numbers_are_masked_in_the_error(block: str, subscriber: str, variant: int, extra: str) -> None:
    raw = _variants(block + subscriber)[variant] + extra
    try:
        normalise(raw)
    except InvalidInputError as error:
        text = str(error) + repr(error.value) + repr(error.args)
        digits = "".join(ch for ch in raw if ch.isdigit())
        assert raw.strip() not in text
        assert digits not in text
        assert error.value == mask_phone(raw.strip())
        assert error.__cause__ is None
        assert error.__context__ is None


# --------------------------------------------------------------------------------------------- international


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 415 555 2671", "14155552671"),  # US
        ("+1 (415) 555-2671", "14155552671"),
        ("001 415 555 2671", "14155552671"),
        ("14155552671", "14155552671"),
        ("+65 9123 4567", "6591234567"),  # SG
        ("+65 8123 4567", "6581234567"),
        ("0065 9123 4567", "6591234567"),
        ("6591234567", "6591234567"),
        ("+86 138 0013 8000", "8613800138000"),  # CN
        ("008613800138000", "8613800138000"),
        ("+44 20 7946 0000", "442079460000"),  # GB
        ("+84 912 345 678", "84912345678"),  # VN stays 84...
        ("0912345678", "84912345678"),
        ("+６５ ９１２３ ４５６７", "6591234567"),  # full-width: phonenumbers fallback
    ],
)
def test_international_numbers_become_e164_digits(raw: str, expected: str) -> None:
    assert normalise(raw, international=True) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("+1 555 0100", REASON_INVALID_INTERNATIONAL),
        ("+65 1234 5678", REASON_INVALID_INTERNATIONAL),  # SG numbers start with 3, 6, 8 or 9
        ("+86 123", REASON_INVALID_INTERNATIONAL),
        ("+999 123456789", REASON_INVALID_INTERNATIONAL),  # no such country code
        ("1234567890", REASON_INVALID_INTERNATIONAL),
        ("+84 95 123 4567", REASON_NOT_MOBILE),  # VN numbers still judged by the VN table
        ("+84 24 3812 3456", REASON_LANDLINE),
        ("0951234567", REASON_NOT_MOBILE),
        ("+1 415 ABC 2671", REASON_NOT_A_NUMBER),
    ],
)
def test_invalid_international_numbers(raw: str, reason: str) -> None:
    assert not is_valid(raw, international=True)
    with pytest.raises(InvalidInputError, match=reason):
        normalise(raw, international=True)


def test_international_error_is_masked() -> None:
    with pytest.raises(InvalidInputError) as caught:
        normalise("+65 1234 5678", international=True)
    assert "1234 5678" not in str(caught.value)
    assert "12345678" not in str(caught.value)


def test_mask_phone_is_re_exported() -> None:
    assert phones.mask_phone is errors.mask_phone
    assert mask_phone("84912345678") == "84912***678"


# --------------------------------------------------------------------------------------------- fast path, laziness


def test_common_shapes_never_call_phonenumbers(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("phonenumbers called on the fast path")

    monkeypatch.setattr(phonenumbers, "parse", forbidden)
    monkeypatch.setattr(phonenumbers, "is_valid_number", forbidden)
    values = ["0912345678", "84912345678", "+84912345678", "0084912345678", "0912 345 678", "(+84) 91-234-5678"]
    values += ["+84 (0) 912 345 678", "912345678", "0951234567", "02438123456", "091234567", "x", ""]
    assert [r.phone for r in clean(values)][:8] == ["84912345678"] * 8
    assert is_valid("0912.345.678")


def test_import_is_lazy_in_a_fresh_interpreter() -> None:
    code = textwrap.dedent(
        """
        import sys
        import airflow_provider_fptsms.sms.phones as phones
        assert "phonenumbers" not in sys.modules, "imported at module import"
        assert not any(name == "airflow" or name.startswith("airflow.") for name in sys.modules)
        phones.normalise("0912 345 678")
        list(phones.clean(["+84912345678", "0951234567", "abc", ""]))
        assert "phonenumbers" not in sys.modules, "imported on the fast path"
        assert phones.normalise("+1 415 555 2671", international=True) == "14155552671"
        assert "phonenumbers" in sys.modules, "the fallback should import it on demand"
        print("ok")
        """
    )
    reply = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert reply.returncode == 0, reply.stderr
    assert reply.stdout.strip() == "ok"


# --------------------------------------------------------------------------------------------- clean()


def test_clean_rows_dedupe_and_stats() -> None:
    values = ["0912345678", "+84 912 345 678", "02438123456", "0987654321", "", "84987654321", "0912.345.678"]
    stats = PhoneStats()
    results = list(clean(values, stats=stats))
    assert results == [
        PhoneResult(1, "84912345678", None, False, values[0]),
        PhoneResult(2, "84912345678", None, True, values[1]),
        PhoneResult(3, None, REASON_LANDLINE, False, values[2]),
        PhoneResult(4, "84987654321", None, False, values[3]),
        PhoneResult(5, None, REASON_EMPTY, False, values[4]),
        PhoneResult(6, "84987654321", None, True, values[5]),
        PhoneResult(7, "84912345678", None, True, values[6]),
    ]
    assert (stats.total, stats.valid, stats.invalid, stats.duplicates, stats.unique) == (7, 5, 2, 3, 2)
    assert stats.by_reason == {REASON_LANDLINE: 1, REASON_EMPTY: 1}
    assert stats.as_dict() == {
        "total": 7,
        "valid": 5,
        "invalid": 2,
        "duplicates": 3,
        "unique": 2,
        "by_reason": {REASON_LANDLINE: 1, REASON_EMPTY: 1},
    }


def test_clean_without_dedupe_keeps_every_copy() -> None:
    stats = PhoneStats()
    results = list(clean(["0912345678", "0912345678"], dedupe=False, stats=stats))
    assert [r.duplicate for r in results] == [False, False]
    assert (stats.valid, stats.duplicates) == (2, 0)


def test_clean_international_dedupes_across_spellings() -> None:
    stats = PhoneStats()
    values = ["+1 415 555 2671", "0014155552671", "0912345678", "+65 1234 5678", "+14155552671"]
    results = list(clean(values, international=True, stats=stats))
    assert [r.phone for r in results] == ["14155552671", "14155552671", "84912345678", None, "14155552671"]
    assert [r.duplicate for r in results] == [False, True, False, False, True]
    assert stats.by_reason == {REASON_INVALID_INTERNATIONAL: 1}


def test_stats_update_while_streaming_and_add_up_across_calls() -> None:
    stats = PhoneStats()
    stream = clean(["0912345678", "bad", "0987654321"], stats=stats)
    next(stream)
    assert (stats.total, stats.valid, stats.invalid) == (1, 1, 0)
    next(stream)
    assert (stats.total, stats.invalid) == (2, 1)
    list(stream)
    list(clean(["0912345678"], stats=stats))
    assert (stats.total, stats.valid, stats.duplicates) == (4, 3, 0)  # dedupe is per call


def test_clean_is_lazy_on_an_endless_source() -> None:
    endless = (f"09{n % 10}{n:07d}" for n in itertools.count())
    first = list(itertools.islice(clean(endless), 5))
    assert [r.row for r in first] == [1, 2, 3, 4, 5]
    assert first[0].phone == "84900000000"


def test_phone_result_is_frozen() -> None:
    result = next(clean(["0912345678"]))
    with pytest.raises(AttributeError):
        result.phone = "x"  # type: ignore[misc]
    assert result._asdict() == {
        "row": 1,
        "phone": "84912345678",
        "reason": None,
        "duplicate": False,
        "raw": "0912345678",
    }


def test_clean_accepts_non_string_cells() -> None:
    results = list(clean([912345678, None, 3.5, b"0912345678"]))  # type: ignore[list-item]
    assert [r.phone for r in results] == ["84912345678", None, None, None]
    assert [r.reason for r in results] == [None, REASON_EMPTY, REASON_NOT_A_NUMBER, REASON_NOT_A_NUMBER]


# --------------------------------------------------------------------------------------------- read_phones()


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding=encoding) as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding=encoding)
    return path


def test_read_text_skips_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.txt", "0912345678\n\n  +84 987 654 321  \n\n\n02438123456\n")
    assert list(read_phones(path)) == ["0912345678", "+84 987 654 321", "02438123456"]
    assert list(read_phones(str(path))) == ["0912345678", "+84 987 654 321", "02438123456"]


def test_read_text_gz_and_bom(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.txt.gz", "\ufeff0912345678\n0987654321\n")
    assert list(read_phones(path)) == ["0912345678", "0987654321"]


CSV = "Name,Phone Number,Note\nAn,0912345678,a\nBình,+84 987 654 321,b\n,,\nChi,,c\n"


@pytest.mark.parametrize("column", ["Phone Number", "phone number", " PHONE NUMBER ", 1, None])
def test_read_csv_column_by_name_index_or_autodetect(tmp_path: Path, column: str | int | None) -> None:
    path = _write(tmp_path / "list.csv", CSV)
    # the ",," row holds nothing and is skipped (sms.audience's blank-row rule); "Chi,," has a name, so its
    # empty phone is yielded and reported as "empty"
    assert list(read_phones(path, column=column)) == ["0912345678", "+84 987 654 321", ""]


def test_read_csv_other_column_by_name(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", CSV)
    assert list(read_phones(path, column="name")) == ["An", "Bình", "Chi"]


@pytest.mark.parametrize("header", ["SĐT", "Số điện thoại", "so_dien_thoai", "MSISDN", "mobile_no", "Sdt"])
def test_read_csv_autodetects_vietnamese_and_english_headers(tmp_path: Path, header: str) -> None:
    path = _write(tmp_path / "list.csv", f"ho_ten,{header}\nAn,0912345678\n")
    assert list(read_phones(path)) == ["0912345678"]


def test_read_csv_falls_back_to_the_first_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", "contact,name\n0912345678,An\n")
    assert list(read_phones(path)) == ["0912345678"]


def test_read_csv_without_header_keeps_the_first_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", "0912345678,An\n0987654321,Bình\n")
    assert list(read_phones(path)) == ["0912345678", "0987654321"]
    assert list(read_phones(path, column=0)) == ["0912345678", "0987654321"]


def test_read_csv_semicolons_gz_and_bom(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.CSV.gz", "\ufeffTên;SĐT\nAn;0912 345 678\n")
    assert list(read_phones(path)) == ["0912 345 678"]


def test_unknown_column_lists_the_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", CSV)
    with pytest.raises(InvalidInputError) as caught:
        read_phones(path, column="email")
    assert caught.value.field == "column"
    assert "not in header ['Name', 'Phone Number', 'Note']" in str(caught.value)
    with pytest.raises(InvalidInputError, match="not in header"):
        read_phones(path, column=7)


def test_unknown_column_of_a_headerless_file_masks_the_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", "0912345678,An\n")
    with pytest.raises(InvalidInputError) as caught:
        read_phones(path, column="phone")
    assert "0912345678" not in str(caught.value)
    assert "0912***678" in str(caught.value)


def test_column_on_a_text_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.txt", "0912345678\n")
    with pytest.raises(InvalidInputError, match="no columns"):
        read_phones(path, column=0)


def test_missing_file_is_reported_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_phones(tmp_path / "nope.csv")
    assert caught.value.field == "path"
    assert "file not found" in str(caught.value)


def test_wrong_encoding_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes("Số\n0912345678\n".encode("utf-16"))
    with pytest.raises(InvalidInputError, match="encoding"):
        list(read_phones(path))
    assert list(read_phones(path, encoding="utf-16")) == ["Số", "0912345678"]


def _lines(n: int) -> Iterator[str]:
    for i in range(n):
        yield f"09{i % 10}{i:07d}\n"


@pytest.mark.parametrize("name", ["big.txt", "big.csv", "big.txt.gz"])
def test_read_phones_streams_in_flat_memory(tmp_path: Path, name: str) -> None:
    rows = 60_000
    text = ("phone\n" if name.endswith(".csv") else "") + "".join(_lines(rows))
    path = _write(tmp_path / name, text)
    tracemalloc.start()
    try:
        stream = read_phones(path)
        count = sum(1 for _ in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert peak < 512 * 1024, f"peak {peak:,} bytes: the file ({len(text):,} chars) was materialised"


def test_clean_over_read_phones_streams_in_flat_memory(tmp_path: Path) -> None:
    rows = 20_000
    path = _write(tmp_path / "big.txt", "".join(_lines(rows)))
    stats = PhoneStats()
    tracemalloc.start()
    try:
        for _ in clean(read_phones(path), dedupe=False, stats=stats):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.total == rows
    assert peak < 512 * 1024, f"peak {peak:,} bytes"


def test_foreign_number_in_unusual_spelling_is_foreign_in_domestic_mode() -> None:
    with pytest.raises(InvalidInputError, match=REASON_FOREIGN):
        normalise("+６５ ９１２３ ４５６７")


def test_csv_encoding_errors_name_the_fix(tmp_path: Path) -> None:
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("SĐT\n0912345678\n".encode("utf-16"))
    with pytest.raises(InvalidInputError, match="encoding"):
        read_phones(utf16)  # the header is read at the call
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"phone\n" + b"0912345678\n" * 20_000 + b"\xff\xfe\xfd\n")  # past the first chunk
    rows = read_phones(broken)
    with pytest.raises(InvalidInputError, match="encoding"):
        list(rows)


@pytest.mark.parametrize("column", [1.5, True, b"phone"])
def test_column_of_another_type_is_refused(tmp_path: Path, column: object) -> None:
    path = _write(tmp_path / "list.csv", CSV)
    with pytest.raises(InvalidInputError, match="header name, an index or None"):
        read_phones(path, column=column)  # type: ignore[arg-type]


def test_empty_csv_yields_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.csv", "")
    assert list(read_phones(path)) == []
    assert list(read_phones(path, column=0)) == []


def test_phone_set_remembers_vn_and_international_numbers() -> None:
    from airflow_provider_fptsms.sms.phones import PhoneSet

    seen = PhoneSet()
    for key in (84_000_000_000, 84_912_345_678, 84_999_999_999, 14_155_552_671, 84_912_345_679):
        assert seen.add(key) is True
        assert seen.add(key) is False
    assert seen.add(84_912_345_677) is True  # neighbours in the same bitmap byte stay distinct


def test_dedupe_memory_stays_small() -> None:
    import tracemalloc

    from airflow_provider_fptsms.sms.phones import PhoneSet

    tracemalloc.start()
    seen = PhoneSet()
    for n in range(200_000):
        seen.add(84_912_000_000 + n * 15)  # spread over 3 blocks of 10^6
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000  # 3 x 125 KB bitmaps, not ~12 MB of set[int]
