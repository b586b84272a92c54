"""Fibo's XML documents: the lists clients send in a parameter, and the ``<SMS>`` / ``<DocumentElement>`` replies.

A web method's result is a string; over GET and POST ASP.NET wraps it in ``<string xmlns="http://tempuri.org/">``
and escapes it (the guides print it bare: FIBO_API_V2.md "Transport", seeds/fibo-sms-api.txt line 66).
Lists arrive as XML inside a parameter and are read with defusedxml (no entity expansion, no DTD).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml.ElementTree import fromstring

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
TEMPURI = "http://tempuri.org/"


def wrap(result: str, style: str) -> str:
    """A method's result as a GET/POST reply: ``escaped`` (ASP.NET) or ``bare`` (as the manuals print it)."""
    if style == "bare":
        return f"<string>{result}</string>"
    return f'{XML_DECLARATION}<string xmlns="{TEMPURI}">{escape(result)}</string>'


def _cells(fields: Mapping[str, object]) -> str:
    return "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in fields.items())


def element(tag: str, fields: Mapping[str, object], inner: str = "") -> str:
    """``<tag><field>value</field>…{inner}</tag>``, values escaped."""
    return f"<{tag}>{_cells(fields)}{inner}</{tag}>"


def sms(fields: Mapping[str, object], rows: str = "") -> str:
    """``<SMS><Code>…</Code>…</SMS>``, the seed's reply document (lines 66, 97, 104), with ``rows`` appended."""
    return element("SMS", fields, rows)


def table(row_tag: str, rows: Iterable[Mapping[str, object]], root: str = "DocumentElement") -> str:
    """A DataTable as ASP.NET writes it: ``<DocumentElement><ROW>…</ROW>…</DocumentElement>``;
    none: ``<DocumentElement />`` (FIBO_API_V2.md, GetSMSStatus row)."""
    body = "".join(element(row_tag, row) for row in rows)
    return f"<{root}>{body}</{root}>" if body else f"<{root} />"


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].casefold()


def _parse(text: str) -> Element | None:
    try:
        return fromstring(text.strip())
    except Exception:  # ParseError, DefusedXmlException, ValueError: all mean "not a list we can read"
        return None


def read_rows(text: str, row_tag: str, fields: Sequence[str]) -> list[dict[str, str]] | None:
    """The ``<row_tag>`` rows of a list parameter as ``{field: text}``; None when it is not XML.

    Tags are matched case-insensitively and under any root: the guide itself spells the GUID ``SMSGUID``
    in one list and ``smsguid`` in another, and public clients send ``listPhoneNumber`` rows under
    ``<DocumentElement>`` where the guide writes ``<Document>``.
    """
    root = _parse(text)
    if root is None:
        return None
    wanted = {name.casefold(): name for name in fields}
    found = []
    for row in root.iter():
        if _local(row.tag) != row_tag.casefold():
            continue
        cells = {wanted[_local(cell.tag)]: (cell.text or "").strip() for cell in row if _local(cell.tag) in wanted}
        found.append({name: cells.get(name, "") for name in fields})
    return found


def read_values(text: str, tag: str) -> list[str] | None:
    """The texts of every ``<tag>`` in a list parameter (``<SMS><smsguid>…</smsguid>…</SMS>``); None when not XML."""
    root = _parse(text)
    if root is None:
        return None
    return [(element.text or "").strip() for element in root.iter() if _local(element.tag) == tag.casefold()]
