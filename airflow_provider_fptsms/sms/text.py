"""Message text: GSM-7 / UCS-2 detection, SMS part counting, FPT QC billing, Vietnamese accent stripping.

Pure and cheap to import (standard library only): DAG files import it to check a message at parse time.
The alphabet tables are owned here (3GPP TS 23.038) rather than taken from a codec package, so counting
never depends on how a third-party codec treats edge characters.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from airflow_provider_fptsms.gateways.errors import InvalidInputError

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "GSM7_MULTI",
    "GSM7_SINGLE",
    "UCS2_MULTI",
    "UCS2_SINGLE",
    "Encoding",
    "SegmentInfo",
    "check_message",
    "describe",
    "encoding",
    "is_gsm7",
    "qc_messages",
    "qc_quota_per_phone",
    "segments",
    "strip_accents",
    "text_warnings",
    "units",
]

Encoding = Literal["GSM-7", "UCS-2"]

#: GSM 03.38 default alphabet, in code order 0x00..0x7F; 0x1B (escape to the extension table) is left out.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: The extension table: each character is sent as ESC + code, so it costs 2 septets.
GSM7_EXTENSION: frozenset[str] = frozenset("\x0c^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153  # septets in one SMS / in each part of a concatenated SMS (7-octet UDH)
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 code units, likewise

#: Control characters a handset can show; every other C0/C1 control (NUL, TAB, form feed...) is refused.
_ALLOWED_CONTROLS = frozenset("\n\r")
_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION
_VIETNAMESE_D = str.maketrans({"đ": "d", "Đ": "D"})


@dataclass(frozen=True)
class SegmentInfo:
    """How the network will carry one message.

    ``per_segment`` is the capacity of each part (160/70 for a single SMS, 153/67 once concatenated);
    ``remaining`` is how many units still fit in the last part before another part is needed.
    """

    encoding: Encoding
    units: int
    segments: int
    per_segment: int
    remaining: int


def is_gsm7(char: str) -> bool:
    """True when ``char`` is in the GSM 03.38 default alphabet or its extension table."""
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character is in the GSM alphabet (one accent outside it forces UCS-2)."""
    return "GSM-7" if _GSM7_ALL.issuperset(text) else "UCS-2"


def _costs(text: str, coding: Encoding) -> Iterator[int]:
    """Per character, the units it takes; a character is never split across two parts."""
    if coding == "GSM-7":
        return (2 if char in GSM7_EXTENSION else 1 for char in text)
    return (2 if ord(char) > 0xFFFF else 1 for char in text)  # astral chars are a UTF-16 surrogate pair


def units(text: str) -> int:
    """Septets (GSM-7, extension characters count 2) or UTF-16 code units (UCS-2, emoji count 2)."""
    return _units(text, encoding(text))


def _units(text: str, coding: Encoding) -> int:
    """``sum(_costs(text, coding))`` at C speed: bulk sends count every personalised message."""
    if coding == "GSM-7":
        return len(text) + sum(text.count(char) for char in GSM7_EXTENSION)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _limits(coding: Encoding) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_MULTI) if coding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)


def _pack(costs: Iterator[int], capacity: int) -> tuple[int, int]:
    """(parts, units used in the last part), filling parts in order without splitting a character."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            parts, used = parts + 1, 0
        used += cost
    return parts, used


def describe(text: str) -> SegmentInfo:
    """Encoding, units and part count of ``text``; empty text is 0 parts (``check_message`` refuses it)."""
    coding = encoding(text)
    total = _units(text, coding)
    single, multi = _limits(coding)
    if total <= single:
        return SegmentInfo(coding, total, 1 if text else 0, single, single - total)
    parts, used = _pack(_costs(text, coding), multi)
    return SegmentInfo(coding, total, parts, multi, multi - used)


def segments(text: str) -> int:
    """Parts the network sends (what the handset receives); 0 for empty text."""
    return describe(text).segments


def qc_messages(text: str) -> int:
    """Messages FPT's manual bills per phone for a QC (advertising) campaign, in blocks.

    The manual counts QC content in blocks ("a message of 200 characters is equivalent to 2
    messages"; quota = phones x messages): ``ceil(septets / 160)`` for GSM-7 text and
    ``ceil(units / 70)`` for UCS-2. This can be less than :func:`segments`, the network's
    concatenation count (153/67 per part), so size a quota with :func:`qc_quota_per_phone`.
    """
    coding = encoding(text)
    return math.ceil(_units(text, coding) / (GSM7_SINGLE if coding == "GSM-7" else UCS2_SINGLE))


def qc_quota_per_phone(text: str) -> int:
    """Quota to reserve per phone: the larger of the manual's block count and the network parts.

    A quota is a cap, not a charge: one that is too small stops the push half-way with 1016, so
    reserve whichever count the gateway might apply.
    """
    return max(qc_messages(text), segments(text))


def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN ")


def strip_accents(text: str) -> str:
    """Vietnamese without diacritics ("Đừng" -> "Dung"), which usually makes a message GSM-7 and cheaper.

    Marks are dropped only from Latin letters (plus ``đ/Đ -> d/D``), so Thai, Devanagari or Arabic
    text keeps its own combining marks; the result is NFC.
    """
    kept: list[str] = []
    base_is_latin = False
    for char in unicodedata.normalize("NFD", text.translate(_VIETNAMESE_D)):
        if unicodedata.combining(char):
            if not base_is_latin:
                kept.append(char)
            continue
        base_is_latin = _is_latin(char)
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _unsendable(text: str) -> tuple[int, str] | None:
    """(position, char) of the first control character or lone surrogate, which no gateway can carry."""
    if text.isprintable():  # no Cc/Cs at all: skip the per-character walk
        return None
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs":
            return position, char
    return None


def _summary(text: str) -> str:
    """What an error shows instead of the text itself: messages often carry OTP codes."""
    return f"<{len(text)} characters>"


def _too_long(text: str, info: SegmentInfo, max_segments: int | None, max_chars: int | None) -> str | None:
    if max_chars is not None and len(text) > max_chars:
        return f"is {len(text)} characters; the limit is {max_chars}"
    if max_segments is not None and info.segments > max_segments:
        unit = "septets" if info.encoding == "GSM-7" else "UTF-16 units"
        return f"is {info.segments} SMS parts ({info.units} {unit}, {info.encoding}); the limit is {max_segments}"
    return None


def _fits(text: str, max_segments: int | None, max_chars: int | None) -> bool:
    return _too_long(text, describe(text), max_segments, max_chars) is None


def _shorten_hint(text: str, info: SegmentInfo, max_segments: int | None, max_chars: int | None) -> str:
    if info.encoding == "UCS-2":
        stripped = strip_accents(text)
        if stripped != text and _fits(stripped, max_segments, max_chars):
            after = describe(stripped)
            return (
                f"strip_accents(text) brings it to {after.segments} part(s) ({after.encoding}); "
                "use it, or shorten the text"
            )
        return "shorten the text (accents and emoji force UCS-2: 70 units per SMS, 67 per part)"
    return "shorten the text"


def _label(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'character').lower()}"


def _is_emoji(char: str) -> bool:
    return ord(char) > 0xFFFF or unicodedata.category(char) == "So"


def text_warnings(text: str) -> list[tuple[str, str]]:
    """``(kind, words)`` for what makes ``text`` cost more SMS parts than its length suggests: an emoji,
    a character that forces UCS-2 (70 units per SMS instead of 160), one that takes two units.

    The words name the character by code point and say what it costs; they never quote the text (it
    may carry an OTP). Kinds: ``emoji``, ``ucs2``, ``two_units``.
    """
    coding = encoding(text)
    info = describe(text)
    found: list[tuple[str, str]] = []
    if coding == "UCS-2":
        forcing = [char for char in text if char not in _GSM7_ALL]
        emoji = [char for char in forcing if _is_emoji(char)]
        rest = "".join(char for char in text if not _is_emoji(char))
        stripped = strip_accents(rest)
        changes = ([f"without {'it' if len(emoji) == 1 else 'them'}"] if emoji else []) + (
            ["with strip_accents=True"] if stripped != rest else []
        )
        after = describe(stripped)
        cheaper = (
            f"; {' and '.join(changes)}: {after.segments} SMS part(s), {after.encoding}"
            if changes and (after.segments < info.segments or after.encoding != coding)
            else ""
        )
        cost = f"{info.segments} SMS part(s), {info.units} units{cheaper}"
        if emoji:
            verb, each = ("forces", "it counts") if len(emoji) == 1 else ("force", "each counts")
            found.append(("emoji", f"{len(emoji)} emoji ({_label(emoji[0])}) {verb} UCS-2, {each} 2 units: {cost}"))
        else:
            found.append(
                ("ucs2", f"{_label(forcing[0])} forces UCS-2 (70 units per SMS, 67 per part, not 160/153): {cost}")
            )
    else:
        doubled = [char for char in text if char in GSM7_EXTENSION]
        if doubled:
            found.append(
                (
                    "two_units",
                    f"{len(doubled)} character(s) of the GSM-7 extension table ({_label(doubled[0])}) count 2 "
                    f"septets each: {info.segments} SMS part(s), {info.units} septets",
                )
            )
    return found


def check_message(
    text: str, *, field: str = "message", max_segments: int | None = None, max_chars: int | None = None
) -> SegmentInfo:
    """Refuse, before any gateway call, text that is empty, unsendable or over a limit; else describe it.

    ``max_chars`` counts characters; ``max_segments`` counts network parts (:func:`segments`).
    Errors name ``field`` but never echo the text, which may carry an OTP.
    """
    if not isinstance(text, str):
        raise InvalidInputError(field, type(text).__name__, "is not a string", "pass the message text as str")
    if not text.strip():
        raise InvalidInputError(field, _summary(text), "is empty or only whitespace", "write a message")
    for name, limit in (("max_segments", max_segments), ("max_chars", max_chars)):
        if limit is not None and limit < 1:
            raise InvalidInputError(name, limit, "must be at least 1", "pass a positive limit or None")
    bad = _unsendable(text)
    if bad is not None:
        position, char = bad
        raise InvalidInputError(
            field,
            _summary(text),
            f"contains U+{ord(char):04X} ({unicodedata.name(char, 'control character')}) at position {position}, "
            "which cannot be sent",
            "remove control characters; only line breaks (\\n, \\r) are allowed",
        )
    info = describe(text)
    problem = _too_long(text, info, max_segments, max_chars)
    if problem is not None:
        raise InvalidInputError(field, _summary(text), problem, _shorten_hint(text, info, max_segments, max_chars))
    return info
