"""Fibo's web service as its guides document it: each method and its parameters, in one list.

GET, POST form, SOAP 1.1 and the WSDL all read this list, so the transports cannot disagree on what
exists. Every method takes ``clientNo`` and ``clientPass`` first (FIBO_API_V2.md: "Every method takes
clientNo, clientPass"); ``params`` are the others, named as the guides spell them (case-sensitive).
"""

from __future__ import annotations

from dataclasses import dataclass

CREDENTIALS = ("clientNo", "clientPass")
#: History and inbound filters: the guide's row lists "``pageNO``, ``key`` (filter), dates ``MM-DD-YYYY``,
#: ``smsStatus``, ``serviceTypeID``"; the dates' names, ``fromDate`` / ``toDate``, are those of the public
#: clients' URL templates (``Service.asmx/GetClientSMSListOfPage?...&fromDate=string&toDate=string&...``).
FILTERS = ("fromDate", "toDate", "smsStatus", "serviceTypeID", "key")
#: Rows per page of GetClientSMSListOfPage (FIBO_API_V2.md: "pages of 20")
PAGE_SIZE = 20


@dataclass(frozen=True)
class FiboMethod:
    name: str
    params: tuple[str, ...]
    #: where the method is written down
    source: str

    @property
    def all_params(self) -> tuple[str, ...]:
        return CREDENTIALS + self.params


METHODS = (
    FiboMethod("About", (), "FIBO_API_V2.md: About, a connectivity check"),
    FiboMethod("CheckClient", (), "FIBO_API_V2.md: CheckClient, Code 0 and the client's name"),
    FiboMethod("GetClientBalance", ("serviceType",), "seeds/fibo-sms-api.txt line 51; FIBO_API_V2.md"),
    FiboMethod(
        "SendSMS", ("phoneNumber", "smsMessage", "smsGUID", "serviceType"), "FIBO_API_V2.md: SendSMS, long code"
    ),
    FiboMethod(
        "SendMaskedSMS",
        ("senderName", "phoneNumber", "smsMessage", "smsGUID", "serviceType"),
        "seeds/fibo-sms-api.txt line 83; FIBO_API_V2.md",
    ),
    FiboMethod("SendBulkSMS", ("smsList", "serviceType"), "FIBO_API_V2.md: SendBulkSMS"),
    FiboMethod(
        "SendSMSToListMobilePhone",
        ("senderName", "smsContent", "listPhoneNumber", "serviceType"),
        "FIBO_API_V2.md: SendSMSToListMobilePhone",
    ),
    FiboMethod("GetSMSStatus", ("smsList",), "FIBO_API_V2.md: GetSMSStatus by smsGUID"),
    FiboMethod("GetSMSSentList", ("minutes",), "FIBO_API_V2.md: GetSMSSentList"),
    FiboMethod("GetClientSMSListOfPage", ("pageNO", *FILTERS), "FIBO_API_V2.md: history, pages of 20"),
    # The public clients' template shows ``key`` only; the guide's row gives both methods the same filters,
    # so the page count can match the list a client asks with the same filters.
    FiboMethod("GetTotalPageOfClientSMS", FILTERS, "FIBO_API_V2.md: history, number of pages"),
    FiboMethod("GetCommingSMSList", ("minutes",), "FIBO_API_V2.md: inbound (MO) messages"),
    FiboMethod("GetClientCommingSMSNotDividePage", FILTERS, "FIBO_API_V2.md: inbound (MO) messages"),
    FiboMethod("GetClientSenderNameList", (), "FIBO_API_V2.md: GetClientSenderNameList"),
    FiboMethod("GetTotalMt", (), "seeds/fibo-sms-api.txt lines 126-144 (SOAP GetTotalMtResult)"),
)
#: Method names are matched case-insensitively in GET/POST paths (as the sandbox always did); SOAP is exact.
BY_NAME = {method.name.lower(): method for method in METHODS}
