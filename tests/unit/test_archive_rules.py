"""The archive's pure rules: serial check characters, the statutory hours, masking, and the
certificate face's coverage of every word a certificate of the demo can print."""

import itertools
import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.accounts.options import ID_TYPES
from engine.archive import compliance, serials
from engine.archive.certificates import mask_id
from engine.archive.document import KIND_LABELS, missing_characters
from engine.catalog.demo import build_catalogue, load_clips
from engine.seed import CITY_UNITS, DISTRICT_UNITS, DISTRICTS


def test_a_new_serial_is_well_formed_and_random() -> None:
    made = {serials.new_serial(2018) for _ in range(200)}
    assert len(made) == 200
    assert all(serials.is_well_formed(serial) for serial in made)
    assert all(serial.startswith("JX2018-") for serial in made)


@given(st.integers(min_value=0, max_value=10**6))
def test_every_single_character_change_and_neighbour_swap_is_caught(seed: int) -> None:
    serial = "JX2018-" + "".join(
        random.Random(seed).choice(serials.ALPHABET) for _ in range(serials.RANDOM_LENGTH)
    )
    serial += serials.check_character(serial)
    for index in range(7, len(serial)):
        for replacement in serials.ALPHABET:
            if replacement != serial[index]:
                altered = serial[:index] + replacement + serial[index + 1 :]
                assert not serials.is_well_formed(altered), altered
    for index in range(7, len(serial) - 1):
        left, right = serial[index], serial[index + 1]
        # Luhn's one blind spot: swapping the two values whose doubles wrap onto each other.
        if left != right and {left, right} != {"0", "Z"}:
            swapped = serial[:index] + right + left + serial[index + 2 :]
            assert not serials.is_well_formed(swapped), swapped


@pytest.mark.parametrize(
    ("typed", "well_formed"),
    [
        ("jx2018-0123456789a", None),
        (" JX2018 - 0123456789A ", None),
        ("ＪＸ２０１８-0123456789A", None),
        ("JX2018-0123456789", False),
        ("JX18-0123456789AB", False),
        ("", False),
        ("<script>", False),
    ],
)
def test_serials_are_read_as_typed(typed: str, well_formed: bool | None) -> None:
    serial = serials.normalize(typed)
    if well_formed is None:
        payload = serial[:-1]
        assert serials.is_well_formed(payload + serials.check_character(payload))
    else:
        assert serials.is_well_formed(serial) is well_formed


@pytest.mark.parametrize(
    ("title_level", "tenths"),
    [
        ("senior", 1440),
        ("associate_senior", 1440),
        ("intermediate", 960),
        ("junior", 960),
        ("none", 960),
        (None, 960),
    ],
)
def test_the_requirement_follows_the_title(title_level: str | None, tenths: int) -> None:
    assert compliance.required_tenths(title_level) == tenths


@pytest.mark.parametrize(
    ("today", "left"),
    [(date(2018, 1, 1), 365), (date(2018, 12, 31), 1), (date(2019, 1, 1), None)],
)
def test_the_deadline_is_the_last_day_of_the_year(today: date, left: int | None) -> None:
    assert compliance.deadline(2018) == date(2018, 12, 31)
    assert compliance.days_left(2018, today) == left


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("120103199003152031", "120***********2031"),
        ("12010319900315203X", "120***********203X"),
        ("E12345678", "E*******8"),
        ("H1234567", "H******7"),
        ("A1", "A1"),
    ],
)
def test_an_id_number_is_masked(number: str, masked: str) -> None:
    assert mask_id(number) == masked
    assert len(mask_id(number)) == len(number)


def test_the_face_draws_every_word_a_demo_certificate_prints() -> None:
    catalogue = build_catalogue(load_clips())
    printed = itertools.chain(
        (plan.title for plan in catalogue.plans),
        (course.title for course in catalogue.courses),
        DISTRICTS,
        DISTRICT_UNITS,
        CITY_UNITS,
        ID_TYPES.values(),
        KIND_LABELS.values(),
        ["培训合格证书兹证明参加完成规定的学习内容考核合格获得学时必修选修特发此证",
         "姓名工作单位培训计划类别考核学时获得学习时间至发证日期证书编号扫码验证真伪",
         "内容哈希验证地址课程与考核名称完成考试成绩无需（）“”：，。/-*0123456789",
         "张明李华欧阳晓燕测试组织专业技术人员继续教育网"],
    )  # fmt: skip
    missing = {character for text in printed for character in missing_characters(text)}
    assert missing == set()


def test_a_character_the_face_lacks_is_named() -> None:
    # U+20000, the first of CJK Extension B: beyond the face's GB 18030 common set.
    assert missing_characters("张\U00020000明 ") == {"\U00020000"}
