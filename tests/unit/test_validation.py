"""Validation rules of the account forms: one table per rule, no database.

Long because it is mostly tables: each rule of validation.py gets its own rows.
"""

import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta

import pytest

from engine.accounts import options
from engine.accounts.types import PersonalDetails, Registration
from engine.accounts.validation import (
    document_error,
    id_card_error,
    normalize_phone,
    parse_personal_details,
    parse_registration,
    password_error,
    username_error,
)
from engine.errors import InvalidInput

# GB 11643, written out here rather than imported so the tests check the engine's copy.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


def resident_id(area: str, born: str, sequence: str) -> str:
    """A resident ID number with its check character computed by the standard."""
    first17 = area + born + sequence
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return first17 + CHECK_CHARACTERS[total % 11]


MANUAL_ID = "421126199407211459"  # the user manual's example: a man born 1994-07-21
X_ID = resident_id("110105", "19491231", "002")
FEMALE_ID = resident_id("440301", "20000229", "002")
TODAY = date.today()
TOMORROW = TODAY + timedelta(days=1)
DROP = object()  # marks a field to remove from the base form

REQUIRED = {
    "org_id": "3",
    "real_name": "张三",
    "phone": "13800138000",
    "id_type": "id_card",
    "id_number": MANUAL_ID,
}
PASSPORT = {**REQUIRED, "id_type": "passport", "id_number": "E12345678"}
COMPLETE = {
    **REQUIRED,
    "birth_date": "1994-07-21",
    "gender": "male",
    "ethnicity": "01",
    "title_status": "obtained",
    "title_level": "intermediate",
    "professional_title": "工程师",
    "title_date": "2018-09-01",
    "education": "bachelor",
    "political_status": "13",
}
PASSWORD = "Jixu-2024-study"
REGISTRATION = {"username": "zhang_san", "password": PASSWORD, "password_confirm": PASSWORD}


def is_chinese(message: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", message) is not None


def changed(base: Mapping[str, object], changes: Mapping[str, object]) -> dict[str, object]:
    merged = {**base, **changes}
    return {field: value for field, value in merged.items() if value is not DROP}


def refused(
    parse: Callable[[dict[str, object], date], object], data: dict[str, object]
) -> set[str]:
    """The bad fields named by the InvalidInput that `parse` raises, each with a Chinese message."""
    with pytest.raises(InvalidInput) as info:
        parse(data, TODAY)
    assert info.value.fields, "InvalidInput must name at least one field"
    for field, message in info.value.fields.items():
        assert is_chinese(message), f"{field}: {message!r}"
    return set(info.value.fields)


def test_weights_are_powers_of_two_modulo_eleven() -> None:
    assert tuple(pow(2, 17 - position, 11) for position in range(17)) == WEIGHTS


def test_manual_example_is_built_by_the_standard() -> None:
    assert resident_id("421126", "19940721", "145") == MANUAL_ID


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(MANUAL_ID, id="manual-example"),
        pytest.param(X_ID, id="check-X"),
        pytest.param(FEMALE_ID, id="leap-day-female"),
        pytest.param(resident_id("810000", "19800101", "001"), id="hong-kong-81"),
        pytest.param(resident_id("830000", "19751010", "017"), id="residence-permit-83"),
        pytest.param(resident_id("650102", "19000101", "003"), id="earliest-date"),
        pytest.param(resident_id("310104", TODAY.strftime("%Y%m%d"), "021"), id="today"),
    ],
)
def test_id_card_accepts(number: str) -> None:
    assert id_card_error(number, TODAY) is None


def test_x_example_ends_with_x() -> None:
    assert X_ID.endswith("X")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        pytest.param("", "18位", id="empty"),
        pytest.param(MANUAL_ID[:17], "18位", id="17-characters"),
        pytest.param(MANUAL_ID + "1", "18位", id="19-characters"),
        pytest.param(MANUAL_ID[:17] + "A", "17位数字", id="letter-last"),
        pytest.param("4211261994O7211459", "17位数字", id="letter-inside"),
        pytest.param(X_ID.lower(), "17位数字", id="lowercase-x-unnormalised"),
        pytest.param("４２１１２６199407211459", "17位数字", id="fullwidth-digits"),
        pytest.param("11010519491231²²²X", "17位数字", id="superscript-digits"),
        pytest.param(X_ID[:14] + "００２X", "17位数字", id="fullwidth-sequence"),
        pytest.param(resident_id("001126", "19940721", "145"), "地区码", id="province-00"),
        pytest.param(resident_id("101126", "19940721", "145"), "地区码", id="province-10"),
        pytest.param(resident_id("991126", "19940721", "145"), "地区码", id="province-99"),
        pytest.param(resident_id("110105", "19900230", "001"), "出生日期", id="feb-30"),
        pytest.param(resident_id("110105", "19901301", "001"), "出生日期", id="month-13"),
        pytest.param(resident_id("110105", "18991231", "001"), "出生日期", id="before-1900"),
        pytest.param(
            resident_id("110105", TOMORROW.strftime("%Y%m%d"), "001"), "出生日期", id="future"
        ),
        pytest.param(MANUAL_ID[:17] + "0", "校验位", id="wrong-check-digit"),
        pytest.param(X_ID[:17] + "0", "校验位", id="digit-instead-of-X"),
    ],
)
def test_id_card_refuses(number: str, reason: str) -> None:
    message = id_card_error(number, TODAY)
    assert message is not None
    assert reason in message


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        pytest.param("id_card", MANUAL_ID, id="id-card"),
        pytest.param("passport", "E12345678", id="passport-chinese"),
        pytest.param("passport", "G1234567", id="passport-old"),
        pytest.param("passport", "12345", id="passport-5-digits"),
        pytest.param("passport", "AB12345678901234C", id="passport-17"),
        pytest.param("hk_macau_permit", "H12345678", id="hk-8-digits"),
        pytest.param("hk_macau_permit", "M1234567890", id="macau-10-digits"),
        pytest.param("taiwan_permit", "12345678", id="taiwan-8-digits"),
        pytest.param("taiwan_permit", "1234567890", id="taiwan-10-digits"),
    ],
)
def test_document_accepts(id_type: str, number: str) -> None:
    assert document_error(id_type, number, TODAY) is None


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        pytest.param("id_card", MANUAL_ID[:17] + "0", id="id-card-check-digit"),
        pytest.param("passport", "E123", id="passport-4"),
        pytest.param("passport", "E" + "1" * 17, id="passport-18"),
        pytest.param("passport", "ABCDEFGH", id="passport-no-digit"),
        pytest.param("passport", "e12345678", id="passport-lowercase-unnormalised"),
        pytest.param("passport", "E1234567!", id="passport-symbol"),
        pytest.param("hk_macau_permit", "H1234567", id="hk-7-digits"),
        pytest.param("hk_macau_permit", "H123456789", id="hk-9-digits"),
        pytest.param("hk_macau_permit", "C12345678", id="hk-wrong-letter"),
        pytest.param("hk_macau_permit", "12345678", id="hk-no-letter"),
        pytest.param("hk_macau_permit", "H１２３４５６７８", id="hk-fullwidth"),
        pytest.param("taiwan_permit", "1234567", id="taiwan-7-digits"),
        pytest.param("taiwan_permit", "123456789", id="taiwan-9-digits"),
        pytest.param("taiwan_permit", "T12345678", id="taiwan-letter"),
        pytest.param("taiwan_permit", "１２３４５６７８", id="taiwan-fullwidth"),
    ],
)
def test_document_refuses(id_type: str, number: str) -> None:
    message = document_error(id_type, number, TODAY)
    assert message is not None
    assert is_chinese(message)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("13800138000", "13800138000", id="plain"),
        pytest.param("+8613800138000", "13800138000", id="plus-86"),
        pytest.param("8613800138000", "13800138000", id="86"),
        pytest.param("+86 138 0013 8000", "13800138000", id="spaces"),
        pytest.param("138-0013-8000", "13800138000", id="dashes"),
        pytest.param("138001380001", "138001380001", id="12-digits-kept"),
        pytest.param("+8612", "+8612", id="short-kept"),
    ],
)
def test_normalize_phone(value: str, expected: str) -> None:
    assert normalize_phone(value) == expected


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("abcd", id="4"),
        pytest.param("a" * 20, id="20"),
        pytest.param("Zhang_San_1990", id="mixed"),
        pytest.param("1234", id="digits"),
    ],
)
def test_username_accepts(username: str) -> None:
    assert username_error(username) is None


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="3"),
        pytest.param("a" * 21, id="21"),
        pytest.param("zhang san", id="space"),
        pytest.param("zhang-san", id="dash"),
        pytest.param("zhang.san", id="dot"),
        pytest.param("zhang@san", id="at"),
        pytest.param("张三丰丰", id="chinese"),
        pytest.param("ａｂｃｄ", id="fullwidth"),
    ],
)
def test_username_refuses(username: str) -> None:
    message = username_error(username)
    assert message is not None
    assert is_chinese(message)


@pytest.mark.parametrize(
    ("password", "username"),
    [
        pytest.param("Jx7fq2Lm", "", id="8-characters"),
        pytest.param(PASSWORD, "zhang_san", id="good"),
        pytest.param("学习使我快乐2024", "", id="chinese-and-digits"),
        pytest.param("Aa1" + "x" * 125, "", id="128-characters"),
    ],
)
def test_password_accepts(password: str, username: str) -> None:
    assert password_error(password, username) is None


@pytest.mark.parametrize(
    ("password", "username", "reason"),
    [
        pytest.param("", "", "至少为8位", id="empty"),
        pytest.param("Ab1!xyz", "", "至少为8位", id="7-characters"),
        pytest.param("Aa1" + "x" * 126, "", "不能超过128位", id="129-characters"),
        pytest.param("abcdefghij", "", "至少两类", id="lowercase-only"),
        pytest.param("ABCDEFGHIJ", "", "至少两类", id="uppercase-only"),
        pytest.param("9081726354", "", "至少两类", id="digits-only"),
        pytest.param("!@#$%^&*()", "", "至少两类", id="symbols-only"),
        pytest.param("password1", "", "过于常见", id="common-password1"),
        pytest.param("Password1", "", "过于常见", id="common-any-case"),
        pytest.param("1qaz2wsx", "", "过于常见", id="common-1qaz2wsx"),
        pytest.param("woaini1314", "", "过于常见", id="common-woaini1314"),
        pytest.param("Zhang_San-2024", "zhang_san", "包含用户名", id="contains-username"),
        pytest.param("2024alice!", "Alice", "包含用户名", id="contains-username-any-case"),
    ],
)
def test_password_refuses(password: str, username: str, reason: str) -> None:
    message = password_error(password, username)
    assert message is not None
    assert reason in message


def test_personal_details_complete() -> None:
    assert parse_personal_details(COMPLETE, TODAY) == PersonalDetails(
        org_id=3,
        real_name="张三",
        phone="13800138000",
        id_type="id_card",
        id_number=MANUAL_ID,
        birth_date=date(1994, 7, 21),
        gender="male",
        ethnicity="01",
        title_status="obtained",
        title_level="intermediate",
        professional_title="工程师",
        title_date=date(2018, 9, 1),
        education="bachelor",
        political_status="13",
    )


def test_personal_details_derive_birth_date_and_gender_from_id_card() -> None:
    details = parse_personal_details({**REQUIRED, "id_number": FEMALE_ID}, TODAY)
    assert (details.birth_date, details.gender) == (date(2000, 2, 29), "female")
    assert details.ethnicity is details.title_date is details.political_status is None


def test_personal_details_leave_birth_date_and_gender_empty_for_passport() -> None:
    details = parse_personal_details(PASSPORT, TODAY)
    assert (details.birth_date, details.gender) == (None, None)


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        pytest.param({"org_id": 3}, "org_id", 3, id="org-id-int"),
        pytest.param({"org_id": " 42 "}, "org_id", 42, id="org-id-padded"),
        pytest.param({"real_name": "  张三  "}, "real_name", "张三", id="name-stripped"),
        pytest.param(
            {"real_name": "阿依古丽·买买提"}, "real_name", "阿依古丽·买买提", id="name-dot"
        ),
        pytest.param({"real_name": "John Smith"}, "real_name", "John Smith", id="name-latin"),
        pytest.param({"phone": "+86 138 0013 8000"}, "phone", "13800138000", id="phone-86"),
        pytest.param(
            {"phone": "1３８００１３８０００"}, "phone", "13800138000", id="phone-fullwidth"
        ),
        pytest.param(
            {"id_number": "４２１１２６199407211459"},
            "id_number",
            "421126199407211459",
            id="id-number-fullwidth",
        ),
        pytest.param({"phone": "199-0000-0000"}, "phone", "19900000000", id="phone-dashes"),
        pytest.param({"id_number": X_ID.lower()}, "id_number", X_ID, id="id-lowercase-x"),
        pytest.param({"id_number": "421126 19940721 1459"}, "id_number", MANUAL_ID, id="id-spaces"),
        pytest.param(
            {"id_number": "4211-2619-9407-2114-59"}, "id_number", MANUAL_ID, id="id-dashes"
        ),
        pytest.param(
            {"id_type": "passport", "id_number": "e 1234 5678"},
            "id_number",
            "E12345678",
            id="passport-normalised",
        ),
        pytest.param(
            {"id_type": "hk_macau_permit", "id_number": "h12345678"},
            "id_number",
            "H12345678",
            id="permit-normalised",
        ),
        pytest.param(
            {"birth_date": " 1994-07-21 "}, "birth_date", date(1994, 7, 21), id="date-padded"
        ),
        pytest.param({"gender": ""}, "gender", "male", id="empty-optional-derived"),
    ],
)
def test_personal_details_normalise(
    changes: dict[str, object], field: str, expected: object
) -> None:
    details = parse_personal_details(changed(REQUIRED, changes), TODAY)
    assert getattr(details, field) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param(field, value, id=f"{field}-{value if value.isascii() else index}")
        for field, choices in options.FORM_OPTIONS.items()
        if field != "id_type"
        for index, value in enumerate(choices)
    ],
)
def test_personal_details_accept_every_known_choice(field: str, value: str) -> None:
    details = parse_personal_details({**PASSPORT, field: value}, TODAY)
    assert getattr(details, field) == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("id_type", "driver_license", id="id-type"),
        pytest.param("id_type", "身份证", id="id-type-label"),
        pytest.param("gender", "男", id="gender-label"),
        pytest.param("gender", "M", id="gender"),
        pytest.param("ethnicity", "57", id="ethnicity-57"),
        pytest.param("ethnicity", "00", id="ethnicity-00"),
        pytest.param("ethnicity", "1", id="ethnicity-unpadded"),
        pytest.param("ethnicity", "汉族", id="ethnicity-label"),
        pytest.param("title_status", "yes", id="title-status"),
        pytest.param("title_level", "高级", id="title-level"),
        pytest.param("professional_title", "厨师", id="professional-title"),
        pytest.param("education", "phd", id="education"),
        pytest.param("political_status", "14", id="political-status"),
        pytest.param("political_status", "群众", id="political-status-label"),
    ],
)
def test_personal_details_refuse_unknown_choice(field: str, value: str) -> None:
    assert refused(parse_personal_details, {**PASSPORT, field: value}) == {field}


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param({"org_id": DROP}, {"org_id"}, id="org-id-missing"),
        pytest.param({"org_id": ""}, {"org_id"}, id="org-id-empty"),
        pytest.param({"org_id": "abc"}, {"org_id"}, id="org-id-letters"),
        pytest.param({"org_id": "1.5"}, {"org_id"}, id="org-id-decimal"),
        pytest.param({"org_id": "-1"}, {"org_id"}, id="org-id-negative-text"),
        pytest.param({"org_id": "²"}, {"org_id"}, id="org-id-superscript"),
        pytest.param({"org_id": True}, {"org_id"}, id="org-id-true"),
        pytest.param({"org_id": False}, {"org_id"}, id="org-id-false"),
        pytest.param({"org_id": 0}, {"org_id"}, id="org-id-zero"),
        pytest.param({"org_id": -3}, {"org_id"}, id="org-id-negative"),
        pytest.param({"org_id": 3.0}, {"org_id"}, id="org-id-float"),
        pytest.param({"org_id": 2**63}, {"org_id"}, id="org-id-too-large"),
        pytest.param({"org_id": [3]}, {"org_id"}, id="org-id-list"),
        pytest.param({"real_name": DROP}, {"real_name"}, id="name-missing"),
        pytest.param({"real_name": "   "}, {"real_name"}, id="name-blank"),
        pytest.param({"real_name": "张"}, {"real_name"}, id="name-1"),
        pytest.param({"real_name": "张" * 31}, {"real_name"}, id="name-31"),
        pytest.param({"real_name": "张三1"}, {"real_name"}, id="name-digit"),
        pytest.param({"real_name": "张三@"}, {"real_name"}, id="name-symbol"),
        pytest.param({"phone": DROP}, {"phone"}, id="phone-missing"),
        pytest.param({"phone": "1380013800"}, {"phone"}, id="phone-10-digits"),
        pytest.param({"phone": "138001380001"}, {"phone"}, id="phone-12-digits"),
        pytest.param({"phone": "12800138000"}, {"phone"}, id="phone-12x"),
        pytest.param({"phone": "+86 128 0013 8000"}, {"phone"}, id="phone-86-12x"),
        pytest.param({"phone": "23800138000"}, {"phone"}, id="phone-not-1"),
        pytest.param({"phone": "010-12345678"}, {"phone"}, id="phone-landline"),
        pytest.param({"id_type": DROP}, {"id_type"}, id="id-type-missing"),
        pytest.param({"id_number": DROP}, {"id_number"}, id="id-number-missing"),
        pytest.param({"id_number": " "}, {"id_number"}, id="id-number-blank"),
        pytest.param({"id_number": MANUAL_ID[:17] + "0"}, {"id_number"}, id="id-check-digit"),
        pytest.param(
            {"id_number": MANUAL_ID[:17] + "0", "birth_date": "2001-01-01", "gender": "female"},
            {"id_number"},
            id="bad-id-not-compared",
        ),
        pytest.param({"id_type": "passport"}, {"id_number"}, id="id-card-as-passport-too-long"),
        pytest.param({"id_type": "taiwan_permit"}, {"id_number"}, id="id-card-as-taiwan"),
        pytest.param({"birth_date": "1994-07-22"}, {"birth_date"}, id="birth-date-differs"),
        pytest.param({"gender": "female"}, {"gender"}, id="gender-differs"),
        pytest.param(
            {"birth_date": "1990-01-01", "gender": "female"},
            {"birth_date", "gender"},
            id="both-differ",
        ),
        pytest.param(
            {"id_number": FEMALE_ID, "birth_date": "2000-02-29", "gender": "male"},
            {"gender"},
            id="even-digit-is-female",
        ),
        pytest.param({"birth_date": "1994/07/21"}, {"birth_date"}, id="birth-date-slashes"),
        pytest.param({"birth_date": "21-07-1994"}, {"birth_date"}, id="birth-date-day-first"),
        pytest.param({"birth_date": "1994-7-21"}, {"birth_date"}, id="birth-date-unpadded"),
        pytest.param({"birth_date": "1994-02-30"}, {"birth_date"}, id="birth-date-feb-30"),
        pytest.param({"birth_date": "1994年7月21日"}, {"birth_date"}, id="birth-date-chinese"),
        pytest.param({"title_date": "2018/09/01"}, {"title_date"}, id="title-date-slashes"),
        pytest.param({"title_date": "yesterday"}, {"title_date"}, id="title-date-word"),
        pytest.param({"title_date": "1990-01-01"}, {"title_date"}, id="title-before-birth"),
        pytest.param({"title_date": "1994-07-21"}, {"title_date"}, id="title-on-birth-day"),
        pytest.param({"title_date": TOMORROW.isoformat()}, {"title_date"}, id="title-date-future"),
        pytest.param({"title_date": "1899-12-31"}, {"title_date"}, id="title-date-before-1900"),
    ],
)
def test_personal_details_refuse(changes: dict[str, object], fields: set[str]) -> None:
    assert refused(parse_personal_details, changed(COMPLETE, changes)) == fields


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param({"birth_date": TOMORROW.isoformat()}, {"birth_date"}, id="future"),
        pytest.param({"birth_date": "1899-12-31"}, {"birth_date"}, id="before-1900"),
        pytest.param(
            {"birth_date": "1980-05-05", "title_date": "1979-01-01"},
            {"title_date"},
            id="title-before-given-birth",
        ),
    ],
)
def test_passport_birth_date_refuse(changes: dict[str, object], fields: set[str]) -> None:
    assert refused(parse_personal_details, changed(PASSPORT, changes)) == fields


def test_passport_without_birth_date_accepts_any_past_title_date() -> None:
    details = parse_personal_details({**PASSPORT, "title_date": "1950-01-01"}, TODAY)
    assert details.title_date == date(1950, 1, 1)


@pytest.mark.parametrize(
    "level", [level for level in options.TITLE_LEVELS if level != "none"], ids=str
)
def test_title_not_obtained_refuses_a_level(level: str) -> None:
    data = {**COMPLETE, "title_status": "not_obtained", "title_level": level}
    assert refused(parse_personal_details, data) == {"title_level"}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"title_level": "none"}, id="level-none"),
        pytest.param({"title_level": DROP}, id="level-missing"),
        pytest.param({"title_level": ""}, id="level-empty"),
    ],
)
def test_title_not_obtained_accepts_no_level(changes: dict[str, object]) -> None:
    data = changed({**COMPLETE, "title_status": "not_obtained"}, changes)
    assert parse_personal_details(data, TODAY).title_status == "not_obtained"


NON_STRINGS = [
    pytest.param(123, id="int"),
    pytest.param(1.5, id="float"),
    pytest.param(True, id="bool"),
    pytest.param(["张三"], id="list"),
    pytest.param({"value": "x"}, id="dict"),
]


@pytest.mark.parametrize("value", NON_STRINGS)
@pytest.mark.parametrize("field", [field for field in COMPLETE if field != "org_id"])
def test_personal_details_refuse_non_string(field: str, value: object) -> None:
    assert refused(parse_personal_details, {**COMPLETE, field: value}) == {field}


@pytest.mark.parametrize("value", NON_STRINGS)
@pytest.mark.parametrize("field", list(REGISTRATION))
def test_registration_refuses_non_string(field: str, value: object) -> None:
    data = {**REGISTRATION, **COMPLETE, field: value}
    assert refused(parse_registration, data) == {field}


def test_personal_details_name_every_bad_field_at_once() -> None:
    data = {
        "org_id": "x",
        "real_name": "1",
        "phone": "123",
        "id_type": "id_card",
        "id_number": "123",
        "birth_date": "someday",
        "gender": "x",
        "ethnicity": "99",
        "title_status": "x",
        "title_level": "x",
        "professional_title": "x",
        "title_date": "x",
        "education": "x",
        "political_status": "x",
    }
    assert refused(parse_personal_details, data) == set(data) - {"id_type"}


def test_personal_details_refuse_an_empty_form() -> None:
    fields = refused(parse_personal_details, {})
    assert fields == {"org_id", "real_name", "phone", "id_type", "id_number"}


def test_registration_accepts() -> None:
    registration = parse_registration({**REGISTRATION, **COMPLETE}, TODAY)
    assert registration == Registration(
        username="zhang_san", password=PASSWORD, details=parse_personal_details(COMPLETE, TODAY)
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"username": "  zhang_san "}, "zhang_san", id="username-stripped"),
        pytest.param({"password_confirm": DROP}, "zhang_san", id="confirm-optional"),
        pytest.param({"password_confirm": ""}, "zhang_san", id="confirm-empty"),
    ],
)
def test_registration_accepts_variants(changes: dict[str, object], expected: str) -> None:
    registration = parse_registration(changed({**REGISTRATION, **REQUIRED}, changes), TODAY)
    assert registration.username == expected
    assert registration.password == PASSWORD


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param({"username": DROP}, {"username"}, id="username-missing"),
        pytest.param({"username": "   "}, {"username"}, id="username-blank"),
        pytest.param({"username": "abc"}, {"username"}, id="username-3"),
        pytest.param({"username": "a" * 21}, {"username"}, id="username-21"),
        pytest.param({"username": "zhang san"}, {"username"}, id="username-space"),
        pytest.param({"username": "张三丰丰"}, {"username"}, id="username-chinese"),
        pytest.param(
            {"password": DROP, "password_confirm": DROP}, {"password"}, id="password-missing"
        ),
        pytest.param(
            {"password": "Ab1!", "password_confirm": "Ab1!"}, {"password"}, id="password-short"
        ),
        pytest.param(
            {"password": "abcdefghij", "password_confirm": "abcdefghij"},
            {"password"},
            id="password-one-class",
        ),
        pytest.param(
            {"password": "1qaz2wsx", "password_confirm": "1qaz2wsx"},
            {"password"},
            id="password-common",
        ),
        pytest.param(
            {"password": "Zhang_San-2024", "password_confirm": "Zhang_San-2024"},
            {"password"},
            id="password-contains-username",
        ),
        pytest.param({"password_confirm": PASSWORD + "x"}, {"password_confirm"}, id="mismatch"),
        pytest.param(
            {"password_confirm": PASSWORD.lower()}, {"password_confirm"}, id="mismatch-case"
        ),
        pytest.param({"password_confirm": " " + PASSWORD}, {"password_confirm"}, id="no-strip"),
        pytest.param({"phone": "123"}, {"phone"}, id="details-checked-too"),
        pytest.param(
            {"username": "ab", "password": "abc", "org_id": DROP},
            {"username", "password", "password_confirm", "org_id"},
            id="several-at-once",
        ),
    ],
)
def test_registration_refuses(changes: dict[str, object], fields: set[str]) -> None:
    data = changed({**REGISTRATION, **COMPLETE}, changes)
    assert refused(parse_registration, data) == fields
