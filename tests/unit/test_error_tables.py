"""Every code of both manuals' error tables maps to the right typed error, with text and a next step."""

from __future__ import annotations

import pickle

import pytest

from airflow_provider_fptsms.gateways import fibo, fpt
from airflow_provider_fptsms.gateways.errors import (
    AccountError,
    AuthError,
    BrandnameError,
    ContentError,
    DuplicateMessageError,
    GatewayBusyError,
    InvalidInputError,
    InvalidPhoneError,
    InvalidRequestError,
    PermanentError,
    QuotaError,
    RetryableError,
    SmsError,
    TokenError,
    UnknownGatewayError,
    mask_phone,
)

# Written from the FPT manual, section 5 — independent of the table in gateways/fpt.py.
FPT_MANUAL = {
    1001: ("Invalid Request", InvalidRequestError),
    1002: ("Client is not allowed to access", AuthError),
    1003: ("Access is denied", AuthError),
    1004: ("Response requirement type is not supported", InvalidRequestError),
    1005: ("Invalid scopes", AuthError),
    1006: ("Server error", RetryableError),
    1007: ("Server temporarily unable to process requests from client", GatewayBusyError),
    1008: ("Client information is invalid (wrong client_id or client_secret)", AuthError),
    1009: ("Invalid permission type", AuthError),
    1010: ("Scope is insufficient permission to access", AuthError),
    1011: ("Invalid Access token", TokenError),
    1012: ("Access token has been changed", TokenError),
    1013: ("Access token is expired", TokenError),
    1014: ("Input parameter error", InvalidRequestError),
    1015: ("This permission type is not supported", AuthError),
    1016: ("The number of messages sent has exceeded the quota", QuotaError),
    2501: ("Duplicate message in 5 minutes", DuplicateMessageError),
    1: ("Duplicate message in 5 minutes", DuplicateMessageError),
    2502: ("Sending quota has expired", QuotaError),
    2503: ("The sending quota has not been configured yet", QuotaError),
    2504: ("Brandname is not activated or locked", BrandnameError),
    54: ("Brandname is not activated or locked", BrandnameError),
    2505: ("Phone number is blocked", InvalidPhoneError),
    -11: ("Phone number is blocked", InvalidPhoneError),
    2506: ("Service error", RetryableError),
    2507: ("Undefined error", PermanentError),
    2: ("Brandname has not been registered with Telco yet", BrandnameError),
    -8: ("Brandname has not been registered with Telco yet", BrandnameError),
    3: ("Service error from Telco", RetryableError),
    4: ("Message length exceeds rules of Telco", ContentError),
    -14: ("Message length exceeds rules of Telco", ContentError),
    901: ("Message length exceeds rules of Telco", ContentError),
    5: ("The message content (template) is not registered", ContentError),
    -20: ("The message content (template) is not registered", ContentError),
    55: ("The message content (template) is not registered", ContentError),
    6: ("Content sent exists blocked key words", ContentError),
    -18: ("Content sent exists blocked key words", ContentError),
    7: ("Content contains Vietnamese characters (Unicode)", ContentError),
    8: ("Cannot decrypt, message sent is not encrypted", ContentError),
    53: ("Wrong phone number", InvalidPhoneError),
    -10: ("Wrong phone number", InvalidPhoneError),
    902: ("Wrong phone number", InvalidPhoneError),
}

# The Fibo seed's table (1 = success) and the v2.0 guide's codes.
FIBO_MANUAL = {
    2: ("Lỗi hệ thống", RetryableError),
    3: ("Sai user hoặc mật khẩu", AuthError),
    4: ("IP không được phép", AuthError),
    5: ("Chưa khai báo brandname/dịch vụ", BrandnameError),
    6: ("Lặp nội dung", DuplicateMessageError),
    7: ("Thuê bao từ chối nhận tin", InvalidPhoneError),
    8: ("Không được phép gửi tin", AuthError),
    9: ("Chưa khai báo template", ContentError),
    10: ("Định dạng thuê bao không đúng", InvalidPhoneError),
    11: ("Có tham số không hợp lệ", InvalidRequestError),
    12: ("Tài khoản không đúng", AuthError),
    13: ("Gửi tin: lỗi kết nối", RetryableError),
    14: ("Tài khoản không đủ (tiền)", QuotaError),
    15: ("Tài khoản hết hạn", AccountError),
    16: ("Hết hạn dịch vụ", AccountError),
    17: ("Hết hạn mức gửi test", QuotaError),
    18: ("Hủy gửi tin (CSKH)", PermanentError),
    19: ("Hủy gửi tin (KD)", PermanentError),
    20: ("Gateway chưa hỗ trợ Unicode", ContentError),
    21: ("Chưa set giá trả trước", AccountError),
    22: ("Tài khoản chưa kích hoạt", AccountError),
    23: ("Sai cú pháp tin nhắn", ContentError),
    24: ("Thủ tục xử lý bị lỗi", RetryableError),
    25: ("Chưa khai báo partner cho user", AccountError),
    26: ("Chưa khai báo GateOwner cho user", AccountError),
    27: ("Gửi tin: gate trả mã lỗi", PermanentError),
    28: ("Hủy gửi tin", PermanentError),
    100: ("Bad account", AuthError),
    101: ("Bad phone number", InvalidPhoneError),
    102: ("Balance not enough", QuotaError),
    104: ("Balance not enough", QuotaError),
    103: ("Wrong serviceType", InvalidRequestError),
    202: ("Error", PermanentError),
    301: ("No SMS found", InvalidRequestError),
}


@pytest.mark.parametrize(("code", "expected"), sorted(FPT_MANUAL.items()), ids=lambda v: str(v))
def test_fpt_code(code: int, expected: tuple[str, type[SmsError]]) -> None:
    text, cls = expected
    error = fpt.ERROR_TABLE.error(code, "Lỗi từ FPT")
    assert type(error) is cls
    assert error.gateway == "FPT" and error.code == code
    assert error.description.startswith(text)
    assert error.next_step
    assert error.retryable is issubclass(cls, RetryableError)
    rendered = str(error)
    assert f"FPT error {code}" in rendered and "Next step:" in rendered and "Lỗi từ FPT" in rendered


@pytest.mark.parametrize(("code", "expected"), sorted(FIBO_MANUAL.items()), ids=lambda v: str(v))
def test_fibo_code(code: int, expected: tuple[str, type[SmsError]]) -> None:
    text, cls = expected
    error = fibo.ERROR_TABLE.error(code)
    assert type(error) is cls
    assert error.gateway == "Fibo" and error.code == code
    assert error.description.startswith(text)
    assert error.next_step
    assert error.retryable is issubclass(cls, RetryableError)


def test_tables_cover_exactly_the_manuals() -> None:
    fpt_codes = {code for spec in fpt.ERROR_TABLE.specs for code in spec.codes}
    fibo_codes = {code for spec in fibo.ERROR_TABLE.specs for code in spec.codes}
    assert fpt_codes == set(FPT_MANUAL)
    assert fibo_codes == set(FIBO_MANUAL)


@pytest.mark.parametrize("code", [1, 200])
def test_fibo_success_codes_are_not_errors(code: int) -> None:
    reply = fibo.parse_sms_reply(f"<string><SMS><Code>{code}</Code><Message>ok</Message></SMS></string>")
    assert reply.code == code


def test_codes_given_as_strings_are_found() -> None:
    assert isinstance(fpt.ERROR_TABLE.error("1016"), QuotaError)
    assert isinstance(fpt.ERROR_TABLE.error(" -11 "), InvalidPhoneError)


def test_unknown_code_keeps_raw_reply() -> None:
    error = fpt.ERROR_TABLE.error(4242, "mystery", raw='{"error": 4242}')
    assert isinstance(error, UnknownGatewayError) and not error.retryable
    assert error.raw == '{"error": 4242}' and "4242" in str(error)
    assert isinstance(fpt.ERROR_TABLE.error(4242, http_status=502), RetryableError)


def test_1005_context_is_appended_to_next_step() -> None:
    error = fpt.ERROR_TABLE.error(1005, "Scope không hợp lệ cho request này.", context="(requested: send_brandname)")
    assert "requested: send_brandname" in str(error) and "Scope không hợp lệ" in str(error)


def test_errors_survive_pickling() -> None:
    error = fpt.ERROR_TABLE.error(1016, "quota")
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is QuotaError and str(clone) == str(error) and clone.code == 1016


def test_invalid_input_names_field_value_and_next_step() -> None:
    error = InvalidInputError("phone", mask_phone("84912345678"), "is not a Vietnamese mobile", "use 84xxxxxxxxx")
    assert str(error) == "invalid phone='84912***678': is not a Vietnamese mobile. Next step: use 84xxxxxxxxx"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("phone", "masked"), [("84912345678", "84912***678"), ("0912345678", "0912***678"), ("12345", "***")]
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
