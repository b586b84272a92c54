"""Fibo over raw HTTP, as public clients call it: a query string or a form in, ASP.NET's ``<string>`` out.

Written from FIBO_API_V2.md "Transport" and the seed (seeds/fibo-sms-api.txt), not from the sandbox: replies
are "an XML ``<string>`` (ASP.NET escapes the inner document; the guides print it bare)", so a reader here
unwraps both. Nothing of the provider's own protocol code is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, tostring

import requests
from defusedxml.ElementTree import fromstring

CLIENT_NO = "CL0000000001"
CLIENT_PASS = "sandbox-pass"
CREDENTIALS = {"clientNo": CLIENT_NO, "clientPass": CLIENT_PASS}
TEMPURI = "http://tempuri.org/"


def local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def call(
    url: str,
    method: str,
    more: Mapping[str, str] | None = None,
    *,
    post: bool = False,
    service: str = "/Service.asmx",
    **params: str,
) -> str:
    """``GET {service}/{method}?clientNo=…&clientPass=…&…`` (or a POST form): the web method's result string."""
    address = f"{url}{service}/{method}"
    fields = {**CREDENTIALS, **(more or {}), **params}
    reply = (
        requests.post(address, data=fields, timeout=10) if post else requests.get(address, params=fields, timeout=10)
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/xml"), reply.headers
    return result(reply.text)


def result(text: str) -> str:
    """The string inside ``<string>``: escaped (ASP.NET) or bare (as the guides print it)."""
    root = fromstring(text.encode())
    assert local(root.tag) == "string", text
    if len(root):  # bare: the document is the child element
        return tostring(root[0], encoding="unicode")
    return root.text or ""


def document(text: str) -> Element:
    return fromstring(text.encode())


def sms(text: str) -> dict[str, str]:
    """``<SMS><Code>…</Code><Message>…</Message>…`` as {field: text} (the first level only)."""
    root = document(text)
    assert root.tag == "SMS", text
    return {child.tag: (child.text or "") for child in root}


def rows(text: str, tag: str) -> list[dict[str, str]]:
    """The ``<tag>`` rows of a ``<DocumentElement>`` reply."""
    root = document(text)
    assert root.tag == "DocumentElement", text
    return [{cell.tag: (cell.text or "") for cell in row} for row in root if row.tag == tag]


def rows_having(text: str, field: str) -> list[dict[str, str]]:
    """The rows of a ``<DocumentElement>`` reply that have a ``<field>`` (whatever the row element is called)."""
    return [{cell.tag: (cell.text or "") for cell in row} for row in document(text) if row.find(field) is not None]


def wrong_guids(text: str) -> list[str]:
    """The SMSGUIDs under ``<ListWrongPhoneNumber>`` (guide: SendSMSToListMobilePhone)."""
    return [
        cell.text or ""
        for node in document(text).iter()
        if local(node.tag) == "ListWrongPhoneNumber"
        for cell in node.iter()
        if local(cell.tag) == "SMSGUID"
    ]
