"""SOAP 1.1 on Fibo's ASMX endpoint: the WSDL clients start from, the request envelope, the reply, the faults.

FIBO_API_V2.md "Transport": ``POST /Service.asmx`` with ``SOAPAction: "http://tempuri.org/<Method>"``, and
``GET /Service.asmx?wsdl`` (PHP SoapClient and node-soap start there). The WSDL is what ASP.NET generates for a
``[WebService(Namespace = "http://tempuri.org/")]`` of ``string`` web methods: document/literal wrapped,
``elementFormDefault="qualified"``, every parameter an ``s:string`` with ``minOccurs="0"``, each reply
``<MethodResponse><MethodResult>`` (an ``s:string``, so an XML result arrives escaped). The seed prints the
reply's namespace as ``http://tempuri.org`` (line 139); the SOAPAction the guide gives is namespace + method,
so the namespace is ``http://tempuri.org/``, as ASP.NET's default.

Faults are SOAP 1.1's (section 6.2: HTTP 500 with a ``soap:Fault``), with ASP.NET's texts where it has one;
a body that is not an XML envelope at all is answered 400 with the same fault shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from defusedxml.ElementTree import fromstring

from airflow_provider_fptsms.sandbox.fibo_api import BY_NAME, METHODS, FiboMethod
from airflow_provider_fptsms.sandbox.fibo_xml import TEMPURI, XML_DECLARATION

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE_OPEN = (
    f'{XML_DECLARATION}<soap:Envelope xmlns:soap="{SOAP_ENV}" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
    "<soap:Body>"
)
_ENVELOPE_CLOSE = "</soap:Body></soap:Envelope>"


@dataclass(frozen=True)
class SoapCall:
    method: FiboMethod
    params: dict[str, str]


class SoapFault(Exception):
    """A ``soap:Fault``: ``code`` is SOAP 1.1's (``Client``, ``Server``, ``VersionMismatch``)."""

    def __init__(self, code: str, text: str, status: int = 500) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.status = status

    def envelope(self) -> str:
        return (
            f"{_ENVELOPE_OPEN}<soap:Fault><faultcode>soap:{self.code}</faultcode>"
            f"<faultstring>{escape(self.text)}</faultstring><detail /></soap:Fault>{_ENVELOPE_CLOSE}"
        )


def _split(tag: object) -> tuple[str, str]:
    text = str(tag)
    if text.startswith("{"):
        namespace, _, local = text[1:].partition("}")
        return namespace, local
    return "", text


def _unrecognised(action: str) -> SoapFault:
    return SoapFault("Client", f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")


def read_call(body: bytes, soap_action: str | None) -> SoapCall:
    """The method and parameters of a SOAP 1.1 request, or the :class:`SoapFault` to answer.

    Routed as ASP.NET routes it, by ``SOAPAction`` (quotes optional), which must name the body's element;
    parameters are the element's children in the ``http://tempuri.org/`` namespace (the WSDL's
    ``elementFormDefault="qualified"``), an absent one is empty.
    """
    try:
        root = fromstring(body)
    except Exception:  # not XML, or XML defusedxml refuses (DTDs, entities)
        raise SoapFault("Client", "Server was unable to read request: the body is not an XML document.", 400) from None
    namespace, local = _split(root.tag)
    if local != "Envelope":
        raise SoapFault("Client", "Server was unable to read request: the root element is not soap:Envelope.", 400)
    if namespace != SOAP_ENV:
        raise SoapFault("VersionMismatch", f"Only SOAP 1.1 ({SOAP_ENV}) envelopes are served here.")
    call = _call_element(root)
    action = (soap_action or "").strip().strip('"')
    method = BY_NAME.get(action[len(TEMPURI) :].lower()) if action.startswith(TEMPURI) else None
    if method is None or action != TEMPURI + method.name:
        raise _unrecognised(action)
    if call is None or _split(call.tag) != (TEMPURI, method.name):
        raise SoapFault("Client", f"Server was unable to read request: the body has no <{method.name}> element.")
    params = dict.fromkeys(method.all_params, "")
    for child in call:
        child_ns, name = _split(child.tag)
        if child_ns == TEMPURI and name in params:
            params[name] = child.text or ""
    return SoapCall(method, params)


def _call_element(envelope: Element) -> Element | None:
    for part in envelope:
        if _split(part.tag) == (SOAP_ENV, "Body"):
            return next(iter(part), None)
    return None


def response(method: str, result: str) -> str:
    """``<MethodResponse xmlns="http://tempuri.org/"><MethodResult>…`` (seed lines 134-143, for GetTotalMt)."""
    return (
        f'{_ENVELOPE_OPEN}<{method}Response xmlns="{TEMPURI}"><{method}Result>{escape(result)}</{method}Result>'
        f"</{method}Response>{_ENVELOPE_CLOSE}"
    )


# ---------------------------------------------------------------------- WSDL


def _element(name: str, fields: tuple[str, ...]) -> str:
    cells = "".join(f'<s:element minOccurs="0" maxOccurs="1" name="{field}" type="s:string" />' for field in fields)
    return f'<s:element name="{name}"><s:complexType><s:sequence>{cells}</s:sequence></s:complexType></s:element>'


def wsdl(location: str) -> str:
    """The service description for a client that calls ``location`` (the URL it fetched the WSDL from)."""
    types = "".join(
        _element(m.name, m.all_params) + _element(f"{m.name}Response", (f"{m.name}Result",)) for m in METHODS
    )
    messages = "".join(
        f'<wsdl:message name="{m.name}SoapIn"><wsdl:part name="parameters" element="tns:{m.name}" /></wsdl:message>'
        f'<wsdl:message name="{m.name}SoapOut"><wsdl:part name="parameters" element="tns:{m.name}Response" />'
        "</wsdl:message>"
        for m in METHODS
    )
    operations = "".join(
        f'<wsdl:operation name="{m.name}"><wsdl:input message="tns:{m.name}SoapIn" />'
        f'<wsdl:output message="tns:{m.name}SoapOut" /></wsdl:operation>'
        for m in METHODS
    )
    bindings = "".join(
        f'<wsdl:operation name="{m.name}"><soap:operation soapAction="{TEMPURI}{m.name}" style="document" />'
        '<wsdl:input><soap:body use="literal" /></wsdl:input><wsdl:output><soap:body use="literal" /></wsdl:output>'
        "</wsdl:operation>"
        for m in METHODS
    )
    return (
        f"{XML_DECLARATION}"
        '<wsdl:definitions xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        f'xmlns:tns="{TEMPURI}" xmlns:s="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" targetNamespace="{TEMPURI}">'
        f'<wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="{TEMPURI}">{types}</s:schema>'
        f"</wsdl:types>{messages}"
        f'<wsdl:portType name="ServiceSoap">{operations}</wsdl:portType>'
        '<wsdl:binding name="ServiceSoap" type="tns:ServiceSoap">'
        f'<soap:binding transport="http://schemas.xmlsoap.org/soap/http" />{bindings}</wsdl:binding>'
        '<wsdl:service name="Service"><wsdl:port name="ServiceSoap" binding="tns:ServiceSoap">'
        f"<soap:address location={quoteattr(location)} /></wsdl:port></wsdl:service>"
        "</wsdl:definitions>"
    )
