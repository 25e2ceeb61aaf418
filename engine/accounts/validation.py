"""Validation of the account forms: one Chinese message per bad field."""

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date

from engine.accounts import options
from engine.accounts.passwords import is_common_password
from engine.accounts.types import PersonalDetails, Registration
from engine.errors import InvalidInput

USERNAME = re.compile(r"[A-Za-z0-9_]{4,20}")
PHONE = re.compile(r"1[3-9][0-9]{9}")
REAL_NAME = re.compile(r"[\u4e00-\u9fffA-Za-z·•.\- ]{2,30}")
DOCUMENT_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "passport": (re.compile(r"(?=.*[0-9])[A-Z0-9]{5,17}"), "护照号码应为5–17位字母或数字"),
    "hk_macau_permit": (
        re.compile(r"[HM][0-9]{8}([0-9]{2})?"),
        "港澳居民来往内地通行证号码应为H或M加8位或10位数字",
    ),
    "taiwan_permit": (
        re.compile(r"[0-9]{8}([0-9]{2})?"),
        "台湾居民来往大陆通行证号码应为8位或10位数字",
    ),
}
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
EARLIEST_DATE = date(1900, 1, 1)

# GB 11643: weights of the first 17 digits and the check character for each remainder mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"
# GB/T 2260 province-level codes (71 Taiwan, 81 Hong Kong, 82 Macau, 83 residence permits).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)

Fields = Mapping[str, object]


def id_card_check_character(first17: str) -> str:
    """The 18th character of a resident ID number whose first 17 digits are given."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARACTERS[total % 11]


def id_card_error(number: str, today: date) -> str | None:
    """Why an 18-character resident ID number is invalid on `today`, or None."""
    if len(number) != 18:
        return "身份证号应为18位"
    if not (number.isascii() and number[:17].isdigit() and number[17] in "0123456789X"):
        return "身份证号应为17位数字加1位数字或X"
    if number[:2] not in PROVINCE_CODES:
        return "身份证号的地区码不正确"
    born = id_card_birth_date(number)
    if born is None or not EARLIEST_DATE <= born <= today:
        return "身份证号中的出生日期无效"
    if id_card_check_character(number[:17]) != number[17]:
        return "身份证号校验位不正确，请核对"
    return None


def id_card_birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_card_gender(number: str) -> str:
    """The 17th digit is odd for men, even for women."""
    return "male" if int(number[16]) % 2 else "female"


def normalize_document(number: str) -> str:
    """Full-width characters (a Chinese input method's) to ASCII; no spaces or hyphens."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", number)).upper()


def document_error(id_type: str, number: str, today: date) -> str | None:
    if id_type == "id_card":
        return id_card_error(number, today)
    pattern, message = DOCUMENT_FORMATS[id_type]
    return None if pattern.fullmatch(number) else message


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value))
    return re.sub(r"^(\+?86)(?=1[0-9]{10}$)", "", digits)


def username_error(username: str) -> str | None:
    if not USERNAME.fullmatch(username):
        return "用户名为4–20位字母、数字或下划线"
    return None


def password_error(password: str, username: str = "") -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码长度至少为{MIN_PASSWORD_LENGTH}位"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"密码长度不能超过{MAX_PASSWORD_LENGTH}位"
    classes = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    if sum(1 for pattern in classes if re.search(pattern, password)) < 2:
        return "密码须包含小写字母、大写字母、数字、符号中的至少两类"
    if is_common_password(password) or (username and username.lower() in password.lower()):
        return "该密码过于常见或包含用户名，请换一个"
    return None


def parse_registration(data: Fields, today: date) -> Registration:
    """Validate F1 + F2 together; raise InvalidInput naming every bad field."""
    form = _Form(data, today)
    username = form.text("username", required="请输入用户名", error=username_error)
    password = form.raw("password", required="请输入密码")
    if password is not None:
        form.check("password", password_error(password, username or ""))
    confirm = form.raw("password_confirm")
    if confirm is not None and password is not None and confirm != password:
        form.check("password_confirm", "两次输入的密码不一致")
    details = _personal_details(form)
    form.raise_errors()
    assert username is not None
    assert password is not None
    assert details is not None
    return Registration(username=username, password=password, details=details)


def parse_personal_details(data: Fields, today: date) -> PersonalDetails:
    """Validate the F2 fields; raise InvalidInput naming every bad field."""
    form = _Form(data, today)
    details = _personal_details(form)
    form.raise_errors()
    assert details is not None
    return details


def _personal_details(form: "_Form") -> PersonalDetails | None:
    org_id = form.integer("org_id", required="请选择所属组织机构")
    real_name = form.text(
        "real_name",
        required="请输入真实姓名",
        error=lambda v: None if REAL_NAME.fullmatch(v) else "真实姓名应为2–30个汉字或字母",
    )
    phone = form.text(
        "phone",
        required="请输入手机号",
        normalize=normalize_phone,
        error=lambda v: None if PHONE.fullmatch(v) else "请输入正确的11位手机号",
    )
    id_type = form.choice("id_type", options.ID_TYPES, required="请选择证件类型")
    id_number = form.text("id_number", required="请输入证件号")
    if id_type is not None and id_number is not None:
        id_number = normalize_document(id_number)
        form.check("id_number", document_error(id_type, id_number, form.today))
    birth_date = form.day("birth_date", "出生日期")
    gender = form.choice("gender", options.GENDERS)
    if id_type == "id_card" and id_number is not None and "id_number" not in form.errors:
        if birth_date is not None and birth_date != id_card_birth_date(id_number):
            form.check("birth_date", "出生日期与身份证号不一致")
        if gender is not None and gender != id_card_gender(id_number):
            form.check("gender", "性别与身份证号不一致")
        birth_date = birth_date or id_card_birth_date(id_number)
        gender = gender or id_card_gender(id_number)
    title_status = form.choice("title_status", options.TITLE_STATUSES)
    title_level = form.choice("title_level", options.TITLE_LEVELS)
    if title_status == "not_obtained" and title_level not in (None, "none"):
        form.check("title_level", "未取得职称时职称级别应为“无”")
    title_date = form.day("title_date", "取得职称时间")
    if title_date is not None and birth_date is not None and title_date <= birth_date:
        form.check("title_date", "取得职称时间应晚于出生日期")
    values = {
        "ethnicity": form.choice("ethnicity", options.ETHNICITIES),
        "professional_title": form.choice("professional_title", options.PROFESSIONAL_TITLES),
        "education": form.choice("education", options.EDUCATIONS),
        "political_status": form.choice("political_status", options.POLITICAL_STATUSES),
    }
    if form.errors:
        return None
    assert org_id is not None
    assert real_name
    assert phone
    assert id_type
    assert id_number
    return PersonalDetails(
        org_id=org_id,
        real_name=real_name,
        phone=phone,
        id_type=id_type,
        id_number=id_number,
        birth_date=birth_date,
        gender=gender,
        title_status=title_status,
        title_level=title_level,
        title_date=title_date,
        **values,
    )


class _Form:
    """Reads fields of a form or JSON object, collecting one message per bad field."""

    def __init__(self, data: Fields, today: date) -> None:
        self.data = data
        self.today = today  # no date after it is valid
        self.errors: dict[str, str] = {}

    def check(self, field: str, error: str | None) -> None:
        if error is not None and field not in self.errors:
            self.errors[field] = error

    def raise_errors(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)

    def raw(self, field: str, *, required: str | None = None) -> str | None:
        value = self.data.get(field)
        if value is None or value == "":
            self.check(field, required)
            return None
        if not isinstance(value, str):
            self.check(field, "格式不正确")
            return None
        return value

    def text(
        self,
        field: str,
        *,
        required: str | None = None,
        normalize: Callable[[str], str] | None = None,
        error: Callable[[str], str | None] | None = None,
    ) -> str | None:
        value = self.raw(field, required=required)
        if value is None:
            return None
        value = value.strip()
        if not value:
            self.check(field, required)
            return None
        if normalize is not None:
            value = normalize(value)
        if error is not None:
            self.check(field, error(value))
        return value

    def choice(
        self, field: str, choices: options.Choices, *, required: str | None = None
    ) -> str | None:
        value = self.text(field, required=required)
        if value is not None and value not in choices:
            self.check(field, "请从列表中选择")
            return None
        return value

    def integer(self, field: str, *, required: str) -> int | None:
        value = self.data.get(field)
        if isinstance(value, bool):
            value = None
        if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
            value = int(value.strip())
        if isinstance(value, int) and 0 < value < 2**63:
            return value
        self.check(field, required)
        return None

    def day(self, field: str, label: str) -> date | None:
        value = self.text(field)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.check(field, f"{label}格式应为年-月-日")
            return None
        if not EARLIEST_DATE <= day <= self.today:
            self.check(field, f"{label}不在有效范围内")
            return None
        return day
