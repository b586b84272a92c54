"""How the simulated gateways read a phone number: the manual's formats, nothing more lenient."""

from __future__ import annotations

# Vietnamese mobile prefixes (after 84) -> the telco names FPT reports.
_VN_TELCOS = {
    **dict.fromkeys(("86", "96", "97", "98", "32", "33", "34", "35", "36", "37", "38", "39"), "viettel"),
    **dict.fromkeys(("88", "91", "94", "81", "82", "83", "84", "85"), "vina"),
    **dict.fromkeys(("89", "90", "93", "70", "76", "77", "78", "79"), "mobi"),
    **dict.fromkeys(("92", "56", "58"), "htc"),
    **dict.fromkeys(("99", "59"), "beeline"),
    **dict.fromkeys(("87",), "itel"),
}
_COUNTRIES = {"1": "US", "65": "SG", "86": "CN", "81": "JP", "82": "KR", "44": "GB", "61": "AU", "66": "TH"}


def domestic(phone: str) -> str | None:
    """``0912345678`` / ``84912345678`` -> ``84912345678``; anything else -> None."""
    digits = phone.strip()
    if digits.startswith("0") and len(digits) == 10 and digits.isdigit():
        digits = "84" + digits[1:]
    if len(digits) == 11 and digits.startswith("84") and digits.isdigit() and digits[2:4] in _VN_TELCOS:
        return digits
    return None


def fibo(phone: str) -> str | None:
    """Fibo's numbers: ``+84...`` as well as ``84...`` and ``0...`` -> ``84...``; anything else -> None.

    FIBO_API_V2.md: "the vendor's own examples send ``+84…`` numbers as well as ``0…`` and ``84…``; public
    clients send all three". FPT's manual gives only "84xx or 0xxx" (lines 276-278): ``domestic`` stays that.
    """
    digits = phone.strip()
    return domestic(digits[1:] if digits.startswith("+84") else digits)


def telco(phone84: str) -> str:
    return _VN_TELCOS.get(phone84[2:4], "unknown")


def international(phone: str) -> tuple[str, str] | None:
    """Digits with country code (no +) -> (phone, country code shown as Telco)."""
    digits = phone.strip().lstrip("+")
    if not digits.isdigit() or not 8 <= len(digits) <= 15 or digits.startswith("0"):
        return None
    for size in (1, 2):
        country = _COUNTRIES.get(digits[:size])
        if country:
            return digits, country
    return digits, "INTL"
