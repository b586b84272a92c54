"""Message text: GSM-7 / UCS-2 detection, part counting at exact boundaries, QC billing, accent stripping."""

from __future__ import annotations

import pickle
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sms.text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentInfo,
    check_message,
    describe,
    encoding,
    qc_messages,
    qc_quota_per_phone,
    segments,
    strip_accents,
    units,
)

FAST = settings(max_examples=150, derandomize=True, deadline=None)

EMOJI = "\U0001f600"  # 😀, one astral code point = a UTF-16 surrogate pair
VIETNAMESE_VOWELS = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
TONE_MARKS = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # ngang, huyền, sắc, hỏi, ngã, nặng


def _vietnamese_letters() -> dict[str, str]:
    """Every precomposed Vietnamese vowel with every tone, plus đ/Đ -> the expected ASCII base letter."""
    bases = {"ă": "a", "â": "a", "ê": "e", "ô": "o", "ơ": "o", "ư": "u"}
    letters = {"đ": "d", "Đ": "D"}
    for vowel in VIETNAMESE_VOWELS:
        base = bases.get(vowel.lower(), vowel.lower())
        for tone in TONE_MARKS:
            letters[unicodedata.normalize("NFC", vowel + tone)] = base.upper() if vowel.isupper() else base
    return letters


VIETNAMESE = _vietnamese_letters()


# --- alphabet and encoding -------------------------------------------------------------------------


def test_tables_have_the_standard_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points minus the escape
    assert sorted(GSM7_EXTENSION) == sorted("\f^{}\\[~]|€")
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "GSM-7"),
        ("Hello world 123", "GSM-7"),
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà", "GSM-7"),
        ("price {10€} [a|b] ~x^ \\", "GSM-7"),
        ("Mã OTP", "UCS-2"),
        ("Ma OTP `code`", "UCS-2"),  # the backtick is not in GSM 03.38
        ("Xin chào " + EMOJI, "UCS-2"),
        ("ç", "UCS-2"),  # only the capital Ç is in the table
    ],
)
def test_encoding(text: str, expected: str) -> None:
    assert encoding(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("abc", 3),
        ("€", 2),
        ("a{b}c", 7),
        ("\f", 2),
        ("ạ", 1),
        (EMOJI, 2),
        ("ạ" + EMOJI + "x", 4),
        ("€ạ", 2),  # UCS-2: the euro sign is one UTF-16 unit
    ],
)
def test_units(text: str, expected: int) -> None:
    assert units(text) == expected


# --- part counting at the exact boundaries ------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_boundaries(length: int, parts: int) -> None:
    assert segments("a" * length) == parts


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_boundaries(length: int, parts: int) -> None:
    assert segments("ạ" * length) == parts


def test_describe_reports_capacity_and_room_left() -> None:
    assert describe("a" * 160) == SegmentInfo("GSM-7", 160, 1, 160, 0)
    assert describe("a" * 161) == SegmentInfo("GSM-7", 161, 2, 153, 145)
    assert describe("ạ" * 70) == SegmentInfo("UCS-2", 70, 1, 70, 0)
    assert describe("ạ" * 71) == SegmentInfo("UCS-2", 71, 2, 67, 63)
    assert describe("") == SegmentInfo("GSM-7", 0, 0, 160, 160)


def test_extension_chars_fill_a_single_sms_exactly() -> None:
    assert describe("€" * 80) == SegmentInfo("GSM-7", 160, 1, 160, 0)
    assert segments("€" * 80 + "a") == 2


def test_extension_char_is_not_split_across_parts() -> None:
    # 152 septets, then a 2-septet '€' that would straddle the 153 boundary: it moves to part 2.
    text = "a" * 152 + "€" + "a" * 152
    assert units(text) == 306  # division alone would say 2 parts
    info = describe(text)
    assert info.segments == 3
    assert info.remaining == 153 - 1
    assert segments("a" * 151 + "€" + "a" * 153) == 2  # the escape fits exactly at the end of part 1


def test_surrogate_pair_is_not_split_across_parts() -> None:
    text = "ạ" * 66 + EMOJI + "ạ" * 66
    assert units(text) == 134  # division alone would say 2 parts
    assert segments(text) == 3
    assert segments("ạ" * 65 + EMOJI + "ạ" * 67) == 2


def test_emoji_only_single_sms_limit() -> None:
    assert segments(EMOJI * 35) == 1
    assert segments(EMOJI * 36) == 2


# --- QC billing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 200, 2),  # the manual's example: 200 characters = 2 messages
        ("a" * 320, 2),
        ("a" * 321, 3),
        ("ạ" * 70, 1),
        ("ạ" * 71, 2),
        ("ạ" * 140, 2),
        (EMOJI * 36, 2),
    ],
)
def test_qc_messages(text: str, expected: int) -> None:
    assert qc_messages(text) == expected


def test_qc_messages_differs_from_network_segments() -> None:
    assert qc_messages("a" * 310) == 2
    assert segments("a" * 310) == 3
    assert qc_quota_per_phone("a" * 310) == 3  # the quota covers either count
    assert qc_messages("{" * 100) == 2  # extension characters take two septets


# --- strip_accents -------------------------------------------------------------------------------


def test_strip_accents_manual_example() -> None:
    assert strip_accents("Mã OTP của bạn là 123456. Đừng chia sẻ!") == "Ma OTP cua ban la 123456. Dung chia se!"


def test_every_vietnamese_letter_maps_to_its_ascii_base() -> None:
    assert len(VIETNAMESE) == 24 * 6 + 2
    for letter, base in VIETNAMESE.items():
        assert strip_accents(letter) == base, letter
    stripped = strip_accents("".join(VIETNAMESE))
    assert stripped.isascii() and encoding(stripped) == "GSM-7"


def test_strip_accents_handles_decomposed_input() -> None:
    assert strip_accents(unicodedata.normalize("NFD", "Tiếng Việt")) == "Tieng Viet"


def test_strip_accents_leaves_non_latin_text_intact() -> None:
    for text in ("ภาษาไทย", "हिन्दी", "中文 日本語", "Привет", "한국어", EMOJI):
        assert strip_accents(text) == text


# --- check_message --------------------------------------------------------------------------------


def test_check_message_returns_segment_info() -> None:
    assert check_message("Hello", max_segments=1, max_chars=10) == describe("Hello")


@pytest.mark.parametrize("text", ["", "   ", "\n\r\n"])
def test_check_message_refuses_empty(text: str) -> None:
    with pytest.raises(InvalidInputError, match="empty") as caught:
        check_message(text, field="otp_text")
    assert caught.value.field == "otp_text"


def test_check_message_refuses_non_string() -> None:
    with pytest.raises(InvalidInputError, match="not a string"):
        check_message(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("char", ["\x00", "\t", "\x07", "\x0c", "\x85", "\ud800"])
def test_check_message_refuses_unsendable_characters(char: str) -> None:
    with pytest.raises(InvalidInputError, match=f"U\\+{ord(char):04X}.*position 3") as caught:
        check_message("abc" + char + "def")
    assert caught.value.field == "message"


def test_check_message_allows_line_breaks() -> None:
    assert check_message("line 1\r\nline 2\n").segments == 1


def test_too_long_names_count_limit_and_suggests_strip_accents() -> None:
    text = "Mã OTP của bạn là 123456. Đừng chia sẻ! " * 3  # 120 chars: UCS-2 2 parts, GSM-7 1 part
    with pytest.raises(InvalidInputError) as caught:
        check_message(text, field="body", max_segments=1)
    message = str(caught.value)
    assert "body=" in message and "2 SMS parts" in message and "limit is 1" in message
    assert "strip_accents" in message
    assert "OTP" not in message  # the text itself is never echoed


def test_too_long_without_strip_hint_when_stripping_cannot_help() -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_message("ạ" * 400, max_segments=2)
    assert "strip_accents" not in str(caught.value) and "limit is 2" in str(caught.value)
    with pytest.raises(InvalidInputError, match="161 characters; the limit is 160") as chars:
        check_message("a" * 161, max_chars=160)
    assert "strip_accents" not in str(chars.value)


def test_check_message_refuses_nonsense_limits() -> None:
    with pytest.raises(InvalidInputError, match="max_segments"):
        check_message("hi", max_segments=0)


def test_errors_survive_pickling() -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_message("a" * 161, max_segments=1)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and copy.field == "message"


def test_module_imports_nothing_heavy() -> None:
    """DAG files import this at parse time: no Airflow, pendulum or HTTP stack behind it."""
    code = (
        "import sys, airflow_provider_fptsms.sms.text; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'airflow', 'pendulum', 'requests', 'phonenumbers'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"


# --- properties -----------------------------------------------------------------------------------

gsm_chars = st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION))
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=400)


@FAST
@given(st.text(gsm_chars, max_size=500), gsm_chars)
def test_gsm_segments_monotonic_in_length(text: str, extra: str) -> None:
    assert segments(text + extra) >= segments(text)


@FAST
@given(any_text, st.characters(exclude_categories=["Cs"]))
def test_segments_monotonic_when_encoding_is_unchanged(text: str, extra: str) -> None:
    if encoding(text + extra) == encoding(text):
        assert segments(text + extra) >= segments(text)


@FAST
@given(any_text)
def test_describe_is_consistent(text: str) -> None:
    info = describe(text)
    assert info.units == units(text) and info.segments == segments(text) and info.encoding == encoding(text)
    assert 0 <= info.remaining <= info.per_segment
    if info.segments > 1:
        # packing never beats division, and loses at most one unit per part
        assert info.segments * info.per_segment >= info.units > (info.segments - 1) * (info.per_segment - 1)
    assert qc_messages(text) >= (1 if text else 0)


vietnamese_text = st.text(
    alphabet=st.sampled_from(sorted(set(VIETNAMESE) | set("abcdefghijklmnopqrstuvwxyz0123456789 .,!?:-\n"))),
    max_size=300,
)


@FAST
@given(vietnamese_text)
def test_strip_accents_makes_vietnamese_gsm7(text: str) -> None:
    stripped = strip_accents(text)
    assert encoding(stripped) == "GSM-7"
    assert len(stripped) == len(text)
    assert segments(stripped) <= segments(text)
    assert strip_accents(stripped) == stripped


@FAST
@given(st.text(st.one_of(gsm_chars, st.characters()), max_size=300))
def test_unit_count_matches_the_per_character_rule(text: str) -> None:
    """The C-speed count equals the plain per-character rule (extension = 2 septets, astral = 2 units),
    lone surrogates included, and the printable fast path finds the same unsendable character."""
    from airflow_provider_fptsms.sms import text as module

    coding = encoding(text)
    per_char = sum(
        (2 if c in GSM7_EXTENSION else 1) if coding == "GSM-7" else (2 if ord(c) > 0xFFFF else 1) for c in text
    )
    assert units(text) == per_char
    slow = next(
        (
            (i, c)
            for i, c in enumerate(text)
            if (unicodedata.category(c) == "Cc" and c not in "\n\r") or unicodedata.category(c) == "Cs"
        ),
        None,
    )
    assert module._unsendable(text) == slow
