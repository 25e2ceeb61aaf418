"""Study-card numbers (16 digits, Luhn check digit) and passwords as people type them."""

import pytest

from engine.commerce import cards
from engine.commerce.money import yuan


@pytest.mark.parametrize(
    ("payload", "digit"),
    [
        pytest.param("7992739871", "3", id="textbook"),
        pytest.param("453201511283036", "6", id="sixteen"),
        pytest.param("000000000000000", "0", id="zeros"),
        pytest.param("100000000000000", "8", id="one"),
    ],
)
def test_check_digit(payload: str, digit: str) -> None:
    assert cards.check_digit(payload) == digit


def test_new_numbers_are_sixteen_valid_digits() -> None:
    numbers = {cards.new_card_no() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        assert len(number) == 16
        assert number[0] != "0"  # a spreadsheet keeps it as typed
        assert cards.card_no_error(number) is None


def test_every_single_digit_typo_and_adjacent_swap_is_caught() -> None:
    number = cards.new_card_no()
    for position in range(16):
        for digit in "0123456789":
            typo = number[:position] + digit + number[position + 1 :]
            if typo != number:
                assert cards.card_no_error(typo) is not None, typo
    for position in range(15):
        pair = number[position : position + 2]
        swapped = number[:position] + pair[::-1] + number[position + 2 :]
        # Luhn's one blind spot: 09 ↔ 90.
        if swapped != number and pair not in {"09", "90"}:
            assert cards.card_no_error(swapped) is not None, swapped


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        pytest.param("", "学习卡卡号应为16位数字", id="empty"),
        pytest.param("123456789012345", "学习卡卡号应为16位数字", id="short"),
        pytest.param("12345678901234567", "学习卡卡号应为16位数字", id="long"),
        pytest.param("1234abcd90123456", "学习卡卡号应为16位数字", id="letters"),
        pytest.param("4532015112830367", "学习卡卡号有误，请核对后重新输入", id="check-digit"),
        pytest.param("4532015112830366", None, id="valid"),
        pytest.param("4532 0151 1283 0366", None, id="groups"),
        pytest.param("4532-0151-1283-0366", None, id="dashes"),
        pytest.param("４５３２０１５１１２８３０３６６", None, id="full-width"),
    ],
)
def test_card_number_as_typed(typed: str, error: str | None) -> None:
    assert cards.card_no_error(cards.normalize_card_no(typed)) == error


def test_passwords_are_typable() -> None:
    password = cards.new_password()
    assert len(password) == cards.PASSWORD_LENGTH
    assert set(password) <= set(cards.PASSWORD_ALPHABET)
    assert not set("01OIL") & set(cards.PASSWORD_ALPHABET)
    assert cards.normalize_password(" abcd-efgh２３ ") == "ABCDEFGH23"


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (3000, "¥30.00"),
        (-1050, "-¥10.50"),
        (123456789, "¥1,234,567.89"),
    ],
)
def test_yuan(fen: int, text: str) -> None:
    assert yuan(fen) == text
