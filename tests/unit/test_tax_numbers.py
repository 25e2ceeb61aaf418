"""纳税人识别号: the 统一社会信用代码 with its check character, or an older tax number."""

import pytest

from engine.commerce.invoices import credit_code_check, valid_tax_number


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("9144030071526726XG", True),  # a real credit code
        ("91110108551385082Q", True),
        ("9144030071526726XA", False),  # wrong check character
        ("9144030071526726IG", False),  # I is not in the alphabet
        ("9144030071526726xg", False),  # lower case: the service upper-cases first
        ("120101198506120011", False),  # an ID number is not a credit code
        ("120101600123456", True),  # 15 characters: an older tax registration number
        ("12010119850612001X01", True),  # 20 characters: an ID number and two more
        ("1201016001234", False),
        ("12010160012345@", False),
        ("", False),
    ],
)
def test_tax_numbers(text: str, valid: bool) -> None:
    assert valid_tax_number(text) is valid


def test_check_character_cycles_through_zero() -> None:
    # A sum divisible by 31 gives the check character 0, never an index out of the alphabet.
    assert credit_code_check("0" * 17) == "0"
