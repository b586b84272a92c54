"""What the simulated gateways say when they refuse: the manuals' own words, owned by the sandbox.

The sandbox keeps its own copy (not ``gateways.*.ERROR_TABLE``, whose descriptions are the client's
wording and may grow hints): a test of the provider against the sandbox then checks the provider
against the manuals, not against itself.

FPT (``error_texts`` setting): ``"manual"`` (default) answers the description of the manual's error
table (seeds/fpt-sms-brandname-api.txt lines 762-796), or, where the manual prints a sample failure
for that very situation, the sample's text (e.g. 1014 "Campaign name already exists.", line 529).
``"vi"`` answers Vietnamese production-style texts: production answers in Vietnamese (issue 16 and
DESIGN.md "Field notes": 1005 ``Scope không hợp lệ cho request này.``). Only that one text is attested;
the others are the table's rows in the same style, so the provider's handling of non-English texts
(and of texts its hints cannot match) is exercised.

Fibo has one set: its seed table is Vietnamese already (seeds/fibo-sms-api.txt lines 148-183), and its
sample replies are the English ``Send MT Error!...`` / ``Get Balance Error!...`` (lines 73, 104).
"""

from __future__ import annotations

ERROR_TEXT_STYLES = ("manual", "vi")

#: FPT manual section 5 (seeds/fpt-sms-brandname-api.txt lines 763-796), verbatim; a row listing several
#: codes ("2501 or 1") gives them all the same text.
_FPT_MANUAL: dict[tuple[int, ...], tuple[str, str]] = {
    (1001,): ("Invalid Request", "Request không hợp lệ."),
    (1002,): ("Client is not allowed to access", "Client không được phép truy cập."),
    (1003,): ("Access is denied", "Truy cập bị từ chối."),
    (1004,): ("Response requirement type is not supported", "Kiểu dữ liệu yêu cầu không được hỗ trợ."),
    (1005,): ("Invalid scopes", "Scope không hợp lệ cho request này."),  # the attested production text
    (1006,): ("Server error", "Lỗi hệ thống."),
    (1007,): (
        "Server temporarily unable to process requests from client",
        "Hệ thống tạm thời không thể xử lý yêu cầu.",
    ),
    (1008,): ("Client information is invalid (wrong client_id or client_secret)", "Thông tin client không hợp lệ."),
    (1009,): ("Invalid permission type", "Loại quyền không hợp lệ."),
    (1010,): ("Scope is insufficient permission to access", "Scope không đủ quyền truy cập."),
    (1011,): ("Invalid Access token", "Access token không hợp lệ."),
    (1012,): ("Access token has been changed", "Access token đã bị thay đổi."),
    (1013,): ("Access token is expired", "Access token đã hết hạn."),
    (1014,): ("Input parameter error", "Tham số đầu vào không hợp lệ."),
    (1015,): ("This permission type is not supported", "Loại quyền này không được hỗ trợ."),
    (1016,): ("The number of messages sent has exceeded the quota", "Số tin nhắn gửi đã vượt quá hạn mức."),
    (2501, 1): ("Duplicate message in 5 minutes", "Tin nhắn bị trùng trong 5 phút."),
    (2502,): ("Sending quota has expired", "Hạn mức gửi tin đã hết hạn."),
    (2503,): ("The sending quota has not been configured yet", "Hạn mức gửi tin chưa được cấu hình."),
    (2504, 54): ("Brandname is not activated or locked", "Brandname chưa được kích hoạt hoặc đã bị khóa."),
    (2505, -11): ("Phone number is blocked", "Số điện thoại bị chặn."),
    (2506,): ("Service error", "Lỗi dịch vụ."),
    (2507,): ("Undefined error", "Lỗi không xác định."),
    (2, -8): ("Brandname has not been registered with Telco yet", "Brandname chưa được đăng ký với nhà mạng."),
    (3,): ("Service error from Telco", "Lỗi dịch vụ từ nhà mạng."),
    (4, -14, 901): ("Message length exceeds rules of Telco", "Độ dài tin nhắn vượt quá quy định của nhà mạng."),
    (5, -20, 55): (
        "The message content (template) is not registered or wrong content sent compared to the registered template",
        "Nội dung tin nhắn (template) chưa được đăng ký hoặc sai so với template đã đăng ký.",
    ),
    (6, -18): ("Content sent exists blocked key words", "Nội dung tin nhắn chứa từ khóa bị chặn."),
    (7,): (
        "Content contains Vietnamese characters (Unicode) when encoding (Direction Viettel Bank)",
        "Nội dung chứa ký tự tiếng Việt có dấu (Unicode) khi mã hóa.",
    ),
    (8,): (
        "Cannot decrypt, message sent is not encrypted.. (Direction Viettel Bank)",
        "Không thể giải mã, tin nhắn gửi lên chưa được mã hóa.",
    ),
    (53, -10, 902): ("Wrong phone number", "Số điện thoại không đúng."),
}
FPT_TEXTS: dict[int, tuple[str, str]] = {code: texts for codes, texts in _FPT_MANUAL.items() for code in codes}

#: Situations the manual shows with a sample failure reply: (code, manual's text, Vietnamese text).
FPT_SAMPLES: dict[str, tuple[int, str, str]] = {
    # 3.1.2 "Data Sample" of a failed token request (line 216)
    "invalid_client": (1008, "Invalid Client Information.", "Thông tin client không hợp lệ."),
    # 3.2.2 sample of a failed CSKH send (line 335)
    "token_incorrect": (1011, "Access token is incorrect.", "Access token không đúng."),
    # 3.3.2 sample of a failed international send (line 418)
    "token_invalid": (1011, "Access token is invalid.", "Access token không hợp lệ."),
    # 3.4.3.2 sample of a failed create-campaign (line 529)
    "campaign_name_taken": (1014, "Campaign name already exists.", "Tên chiến dịch đã tồn tại."),
    # 3.4.4.2 sample of a failed push (line 609)
    "campaign_sent": (1014, "Campaign is already sent.", "Chiến dịch đã được gửi."),
}


def fpt_text(code: int, style: str = "manual", sample: str | None = None) -> str:
    """The description FPT gives for ``code``: the sample's text for a sampled situation, else the table's."""
    vietnamese = style == "vi"
    if sample is not None:
        sample_code, english, vi = FPT_SAMPLES[sample]
        if sample_code != code:
            raise ValueError(f"sample {sample!r} is code {sample_code}, not {code}")
        return vi if vietnamese else english
    english, vi = FPT_TEXTS[code]
    return vi if vietnamese else english


def check_style(value: object) -> None:
    if value not in ERROR_TEXT_STYLES:
        raise ValueError(
            f"error_texts must be one of {list(ERROR_TEXT_STYLES)} (got {value!r}): 'manual' = the manuals' "
            "error tables and samples; 'vi' = Vietnamese production-style texts"
        )


#: Fibo's seed table (seeds/fibo-sms-api.txt lines 148-183), verbatim: 6 reads "Lập nội dung" there
#: (the gateway's client reads it as "Lặp", repeated content).
FIBO_SEED_TEXTS: dict[int, str] = {
    1: "Thành công",
    2: "Lỗi hệ thống",
    3: "Sai user hoặc mật khẩu",
    4: "IP không được phép",
    5: "Chưa khai báo brandname/dịch vụ",
    6: "Lập nội dung",
    7: "Thuê bao từ chối nhận tin",
    8: "Không được phép gửi tin",
    9: "Chưa khai báo template",
    10: "Định dạng thuê bao không đúng",
    11: "Có tham số không hợp lệ",
    12: "Tài khoản không đúng",
    13: "Gửi tin: lỗi kết nối",
    14: "Tài khoản không đủ (tiền)",
    15: "Tài khoản hết hạn",
    16: "Hết hạn dịch vụ",
    17: "Hết hạn mức gửi test",
    18: "Hủy gửi tin (CSKH)",
    19: "Hủy gửi tin (KD)",
    20: "Gateway chưa hỗ trợ Unicode",
    21: "Chưa set giá trả trước",
    22: "Tài khoản chưa kích hoạt",
    23: "Sai cú pháp tin nhắn",
    24: "Thủ tục xử lý bị lỗi",
    25: "Chưa khai báo partner cho user",
    26: "Chưa khai báo GateOwner cho user",
    27: "Gửi tin: gate trả mã lỗi",
    28: "Hủy gửi tin",
}
#: The seed's sample replies: success (line 97), a send refused (line 104), a balance refused (line 73).
FIBO_SENDING = "Sending..."
FIBO_SEND_ERROR = "Send MT Error!..."
FIBO_BALANCE_ERROR = "Get Balance Error!..."
#: The v2.0 guide's codes (FIBO_API_V2.md, the code list under the status enum): its notes give the meaning,
#: and CheckClient's wrong-login text verbatim ("Please check your account!").
FIBO_V2_TEXTS: dict[int, str] = {
    100: "Please check your account!",
    101: "Wrong phone number",
    102: "Balance is zero",
    103: "Wrong serviceType",
    104: "More messages than the balance",
    202: "Error",
    301: "No SMS",
}


def fibo_text(code: int) -> str:
    """The text of a Fibo code the sandbox answers (every one is in a table above)."""
    return FIBO_V2_TEXTS[code] if code in FIBO_V2_TEXTS else FIBO_SEED_TEXTS[code]
