"""``FiboSmsHook``: the Fibo SMS service from Airflow (or a notebook) with one connection id.

Fibo takes the password in the query string, so every URL this hook logs or puts in an
error is redacted first, and transport exceptions are re-raised without their text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar

from airflow.providers.http.hooks.http import HttpHook

from airflow_provider_fptsms._compat import connection_form_widgets, ui_field_behaviour
from airflow_provider_fptsms.delivery import CircuitBreaker, classify
from airflow_provider_fptsms.gateways import fibo
from airflow_provider_fptsms.gateways.errors import BATCH_FATAL, InvalidInputError, SmsError, mask_phone
from airflow_provider_fptsms.hooks._http import (
    GatewayHookMixin,
    GatewaySettings,
    install_url_redaction,
    mask,
    read_settings,
    replayable,
    unreachable,
    with_retries,
)
from airflow_provider_fptsms.hooks.results import SendResult
from airflow_provider_fptsms.sms.phones import normalise

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiboMessage:
    """One SMS of a bulk Fibo send."""

    phone: str = field(repr=False)
    message: str = field(repr=False)
    sms_guid: str | None = None
    sender_name: str | None = None


class FiboSettings(GatewaySettings):
    """A ``fibosms`` connection: login = clientNo, password = clientPass, extras below."""

    @property
    def client_no(self) -> str:
        return self.login

    @property
    def client_pass(self) -> str:
        return self.password

    @property
    def sender_name(self) -> str | None:
        return self.extra.get("sender_name") or None

    @property
    def service_path(self) -> str:
        return self.extra.get("service_path") or fibo.DEFAULT_SERVICE_PATH


class FiboSmsHook(GatewayHookMixin, HttpHook):
    """Talk to Fibo SMS.

    :param fibo_conn_id: a ``fibosms`` connection: host = base URL, login = clientNo,
        password = clientPass; extra ``sender_name``, ``service_path`` (``/Service.aspx`` as the
        manual writes it, or ``/service.asmx``), ``timeout``, ``fallback_hosts``.
    """

    conn_name_attr = "fibo_conn_id"
    default_conn_name = "fibosms_default"
    conn_type = "fibosms"
    hook_name = "Fibo SMS"
    gateway = fibo.GATEWAY

    def __init__(self, fibo_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=fibo_conn_id, **kwargs)
        self.fibo_conn_id = fibo_conn_id
        install_url_redaction()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The form's extra fields on Airflow 3.0/3.1, from ``conn-fields`` (3.2+ read those itself)."""
        return connection_form_widgets(cls.conn_type)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Labels, hidden fields, placeholders on Airflow 3.0/3.1 (3.2+ read ``ui-field-behaviour`` itself).

        Defined here, not in the mixin: those lines only call the methods a hook class defines itself."""
        return ui_field_behaviour(cls.conn_type)

    @cached_property
    def settings(self) -> FiboSettings:
        settings = read_settings(
            FiboSettings,
            self.get_connection(self.fibo_conn_id),
            conn_id_field="fibo_conn_id",
            conn_type=self.conn_type,
            login_means="clientNo",
            password_means="clientPass",  # noqa: S106 - a label, not a secret
        )
        mask(settings.password)
        return settings

    def _get(
        self,
        request: fibo.FiboRequest,
        parse: Callable[[bytes, int], T],
        *,
        replay_safe: bool,
        breaker: CircuitBreaker | None = None,
        post: bool = False,
    ) -> T:
        """One call, retried as the delivery model allows; ``post``: as a form (the guide's POST), for
        lists too long for a URL (IIS refuses query strings over 2,048 characters by default)."""

        def attempt() -> T:
            if post:
                reply = self._send("POST", request.path, data=request.params)
            else:
                reply = self._send("GET", request.path, params=request.params)
            return parse(reply.content, reply.status_code)

        s = self.settings
        retry_if = replayable(replay_safe, breaker)
        return with_retries(attempt, max_attempts=s.max_attempts, backoff=s.backoff, retry_if=retry_if)

    # ------------------------------------------------------------------ API

    def send_masked_sms(
        self,
        phone: str,
        message: str,
        *,
        sender_name: str | None = None,
        sms_guid: str | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> SendResult:
        """SendMaskedSMS, under a sender name (brandname); returns a :class:`SendResult` (``sent``).

        Never replayed once the request may have reached Fibo: the manual documents no duplicate
        rule a client can rely on, so a lost reply surfaces as a ``NetworkError`` with
        ``request_sent`` (the send operator marks it in doubt). Fibo's duplicate-content reply (6)
        raises :class:`DuplicateMessageError`: the phone already holds this text, ours was not sent.

        :param phone: the recipient (invalid numbers fail before any call).
        :param message: the text.
        :param sender_name: overrides the connection extra ``sender_name``.
        :param sms_guid: Fibo's ``smsGUID``, a label for tracing (``"0"`` when omitted).
        :param breaker: a bulk send's circuit breaker (no retry once it is open).
        """
        s = self.settings
        sender = sender_name or s.sender_name
        if not sender:
            raise InvalidInputError(
                "sender_name", sender, "is not set", "pass sender_name= or set the connection extra 'sender_name'"
            )
        phone = normalise(phone)  # bad numbers fail here, before any call
        request = fibo.send_masked_sms_request(
            s.client_no,
            s.client_pass,
            sender,
            phone,
            message,
            sms_guid=sms_guid or "0",
            service_path=s.service_path,
        )
        reply = self._get(request, fibo.parse_sms_reply, replay_safe=False, breaker=breaker)
        log.info("Fibo SMS to %s accepted (code %s)", mask_phone(phone), reply.code)
        return SendResult.ok(phone, sms_guid)

    def send_sms(self, phone: str, message: str, *, sms_guid: str | None = None, test_mode: bool = False) -> SendResult:
        """SendSMS: a long-code message, without a sender name. Never replayed once it may have left
        (as :meth:`send_masked_sms`).

        :param phone: the recipient: ``0...``, ``84...`` or ``+84...`` (invalid numbers fail before any call).
        :param message: the text.
        :param sms_guid: our id for the message, to read its status later (:meth:`sms_status`).
        :param test_mode: Fibo's ``serviceType=3``: stored, not delivered.
        """
        s = self.settings
        phone = normalise(phone)
        request = fibo.send_sms_request(
            s.client_no,
            s.client_pass,
            phone,
            message,
            sms_guid=sms_guid or "0",
            service_type="3" if test_mode else "0",
            service_path=s.service_path,
        )
        reply = self._get(request, fibo.parse_sms_reply, replay_safe=False)
        log.info("Fibo long-code SMS to %s accepted (code %s)", mask_phone(phone), reply.code)
        return SendResult.ok(phone, sms_guid)

    def send_to_list(
        self, phones: Sequence[str], message: str, guids: Sequence[str], *, sender_name: str | None = None
    ) -> list[SendResult]:
        """SendSMSToListMobilePhone: one text to many phones in one call, a GUID each; results in order.

        The numbers Fibo could not take come back by GUID (``ListWrongPhoneNumber``) and are failed
        results; the rest are ``sent``. One call carries them all, so a lost reply leaves every one in
        doubt: it is raised (``NetworkError`` with ``request_sent``), never replayed.

        :param phones: the recipients (invalid numbers fail before any call).
        :param message: the text, the same for all.
        :param guids: our id per phone (unique), to read each message's status later.
        :param sender_name: overrides the connection extra ``sender_name``; ``None`` and no extra: long code.
        """
        if len(phones) != len(guids) or len(set(guids)) != len(guids):
            raise InvalidInputError("guids", f"{len(guids)} ids", f"must be {len(phones)} unique ids", "one per phone")
        s = self.settings
        numbers = [normalise(phone) for phone in phones]
        request = fibo.send_to_list_request(
            s.client_no,
            s.client_pass,
            sender_name or s.sender_name,
            message,
            list(zip(numbers, guids, strict=True)),
            service_path=s.service_path,
        )
        refused = set(self._get(request, fibo.parse_list_send, replay_safe=False, post=True))
        wrong = fibo.wrong_number_error()
        results = [
            SendResult.from_error(number, guid, wrong, classify(wrong))
            if guid in refused
            else SendResult.ok(number, guid)
            for number, guid in zip(numbers, guids, strict=True)
        ]
        log.info("Fibo list send: %d messages, %d refused", len(results), len(refused))
        return results

    def sms_status(self, guids: Iterable[str], *, per_call: int = 200) -> dict[str, fibo.FiboStatus | None]:
        """GetSMSStatus of our GUIDs: guid -> status (``None``: a value outside the guide's enum). A GUID
        Fibo does not know yet is absent. Asked ``per_call`` at a time, as a POST form.

        :param guids: the ``smsGUID`` values of earlier sends.
        :param per_call: GUIDs per request.
        """
        s = self.settings
        wanted = list(dict.fromkeys(guids))
        statuses: dict[str, fibo.FiboStatus | None] = {}
        for start in range(0, len(wanted), max(1, per_call)):
            request = fibo.sms_status_request(
                s.client_no, s.client_pass, wanted[start : start + per_call], service_path=s.service_path
            )
            statuses.update(self._get(request, fibo.parse_sms_statuses, replay_safe=True, post=True))
        return statuses

    def sent_list(self, minutes: int) -> list[fibo.SentSms]:
        """GetSMSSentList: what the account sent in the last ``minutes`` (phones as Fibo gives them).

        :param minutes: how far back to look.
        """
        s = self.settings
        request = fibo.sent_list_request(s.client_no, s.client_pass, minutes, service_path=s.service_path)
        return self._get(request, fibo.parse_sent_list, replay_safe=True)

    def check_client(self) -> str:
        """CheckClient: the account's name; a wrong clientNo/clientPass raises :class:`AuthError`. Sends
        nothing and costs nothing: the connection test."""
        s = self.settings
        request = fibo.method_request("CheckClient", s.client_no, s.client_pass, service_path=s.service_path)
        return self._get(request, fibo.parse_check_client, replay_safe=True)

    def sender_names(self) -> list[fibo.SenderName]:
        """GetClientSenderNameList: the sender names registered for the account, with their status."""
        s = self.settings
        request = fibo.method_request(
            "GetClientSenderNameList", s.client_no, s.client_pass, service_path=s.service_path
        )
        return self._get(request, fibo.parse_sender_names, replay_safe=True)

    def send_many(
        self,
        messages: Iterable[FiboMessage],
        *,
        max_concurrency: int = 8,
        before_send: Callable[[FiboMessage], bool] | None = None,
        on_result: Callable[[int, SendResult], None] | None = None,
        breaker_threshold: int = 10,
    ) -> list[SendResult]:
        """Send many SMS from a thread pool, at most ``max_concurrency`` at once; results in input order.

        The same shape and rules as ``FptSmsAsyncHook.send_cskh_many``: per-message refusals and
        unknown outcomes become results, batch-fatal errors (auth, account, balance) and an open
        circuit breaker stop the batch and are raised once the messages in flight are recorded.

        :param messages: consumed lazily, one when a thread is free.
        :param max_concurrency: threads sending at once.
        :param before_send: called for each message just before its request (the write-ahead record);
            False holds the message back (no request, no result).
        :param on_result: called with (index, result) as each message completes.
        :param breaker_threshold: consecutive transport failures that stop the batch.
        """
        breaker = CircuitBreaker(breaker_threshold)
        feed = iter(enumerate(messages))
        lock = threading.Lock()
        results: dict[int, SendResult] = {}
        stop = threading.Event()

        def one(item: FiboMessage) -> SendResult:
            try:
                result = self.send_masked_sms(
                    item.phone, item.message, sender_name=item.sender_name, sms_guid=item.sms_guid, breaker=breaker
                )
            except BATCH_FATAL:
                raise
            except SmsError as error:
                return SendResult.from_error(item.phone, item.sms_guid, error, classify(error))
            breaker.record(None)
            return result

        def record(index: int, result: SendResult) -> None:
            results[index] = result
            if on_result is not None:
                on_result(index, result)

        def worker() -> None:
            while not stop.is_set():
                with lock:
                    taken = next(feed, None)
                if taken is None:
                    return
                index, item = taken
                if before_send is not None and not before_send(item):
                    continue  # held back by the caller (written ahead, and reported by it)
                try:
                    result = one(item)
                except BATCH_FATAL as error:
                    stop.set()  # refused like every message would be: record it, then stop
                    record(index, SendResult.from_error(item.phone, item.sms_guid, error, classify(error)))
                    raise
                record(index, result)
                if breaker.open:
                    stop.set()

        with ThreadPoolExecutor(max_workers=max(1, max_concurrency), thread_name_prefix="fibo-send") as pool:
            futures = [pool.submit(worker) for _ in range(max(1, max_concurrency))]
        failure = next((f.exception() for f in futures if f.exception() is not None), None)
        if failure is not None:
            raise failure
        if breaker.open:
            raise unreachable(breaker, fibo.GATEWAY, self._hosts.current)
        return [results[index] for index in sorted(results)]

    def send_bulk(
        self,
        messages: Sequence[FiboMessage],
        *,
        list_size: int = 200,
        max_concurrency: int = 8,
        before_send: Callable[[FiboMessage], bool] | None = None,
        on_result: Callable[[int, SendResult], None] | None = None,
    ) -> list[SendResult]:
        """Send many SMS, the fastest way Fibo offers: messages that share a text (and sender name) go
        out ``list_size`` at a time in one SendSMSToListMobilePhone call each, a GUID per message; the
        rest one by one (:meth:`send_many`). Results in input order.

        The delivery model holds per message: ``before_send`` runs for each message of a list before
        the call; a lost reply leaves the whole list in doubt (never replayed); a batch-fatal refusal
        (account, balance) stops the send and is raised once its list is recorded. ``make bench``
        measures this path against one call per message.

        :param messages: each with its ``sms_guid`` (required: it is how a list send names its messages).
        :param list_size: messages per list call (Fibo's guide gives no limit; a POST form of 200 is ~20 KB).
        :param max_concurrency: list calls (and single sends) in flight at once.
        :param before_send: the write-ahead record, called for each message just before its call;
            False holds the message back (no request, no result).
        :param on_result: called with (index, result) as each message completes.
        """
        if any(not m.sms_guid for m in messages):
            raise InvalidInputError("sms_guid", None, "is missing on a message", "give every message its own GUID")
        groups: dict[tuple[str, str | None], list[int]] = {}
        for index, message in enumerate(messages):
            groups.setdefault((message.message, message.sender_name), []).append(index)
        lists = [
            indexes[start : start + max(1, list_size)]
            for indexes in groups.values()
            if len(indexes) > 1
            for start in range(0, len(indexes), max(1, list_size))
        ]
        listed = {index for batch in lists for index in batch}
        results: dict[int, SendResult] = {}

        def record(index: int, result: SendResult) -> None:
            results[index] = result
            if on_result is not None:
                on_result(index, result)

        def send_list(batch: list[int]) -> None:
            going = [i for i in batch if before_send is None or before_send(messages[i])]
            if not going:
                return
            first = messages[going[0]]
            phones = [messages[i].phone for i in going]
            guids = [messages[i].sms_guid or "" for i in going]
            try:
                sent = self.send_to_list(phones, first.message, guids, sender_name=first.sender_name)
            except SmsError as error:  # the whole list shares the call's fate: refused, or in doubt
                verdict = classify(error)
                for i in going:
                    record(i, SendResult.from_error(messages[i].phone, messages[i].sms_guid, error, verdict))
                if isinstance(error, BATCH_FATAL):
                    raise
                return
            for i, result in zip(going, sent, strict=True):
                record(i, result)

        singles = [i for i in range(len(messages)) if i not in listed]
        with ThreadPoolExecutor(max_workers=max(1, max_concurrency), thread_name_prefix="fibo-list") as pool:
            futures = [pool.submit(send_list, batch) for batch in lists]
        failure = next((f.exception() for f in futures if f.exception() is not None), None)
        if failure is not None:
            raise failure
        if singles:
            self.send_many(
                (messages[i] for i in singles),
                max_concurrency=max_concurrency,
                before_send=before_send,
                on_result=lambda k, result: record(singles[k], result),
            )
        return [results[index] for index in sorted(results)]

    def get_balance(self) -> Decimal:
        s = self.settings
        request = fibo.balance_request(s.client_no, s.client_pass, service_type="1", service_path=s.service_path)
        return self._get(request, fibo.parse_balance, replay_safe=True)

    def status_totals(self) -> fibo.MtTotals:
        """Totals of sent messages: success, failed, pending (``PartnerMtTotal.aspx``)."""
        s = self.settings
        return self._get(
            fibo.status_totals_request(s.client_no, s.client_pass), fibo.parse_status_totals, replay_safe=True
        )

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: CheckClient (sends nothing, costs nothing), then whether the
        connection's sender name is registered for the account."""
        try:
            name = self.check_client()
            sender = self.settings.sender_name
            if sender:
                registered = [s.name for s in self.sender_names()]
                if sender not in registered:
                    return False, (
                        f"Connected to {self.settings.urls[0]} as {name!r}, but sender name {sender!r} is not "
                        f"registered for this account (registered: {registered}). Next step: fix the connection "
                        "extra 'sender_name' or register it with Fibo"
                    )
        except SmsError as error:
            return False, str(error)
        return True, f"Connected to {self.settings.urls[0]} as {name!r}" + (
            f"; sender name {sender!r}" if sender else ""
        )
