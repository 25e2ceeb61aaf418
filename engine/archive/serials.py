"""Certificate serial numbers: `JX<year>-<10 random characters><check character>`.

Random, so that no one can walk the verify pages of other learners' certificates in
sequence; the last character is a Luhn mod 32 check over the rest, so a serial altered in
one character (or two neighbours swapped) is known for what it is without a look-up.
"""

import re
import secrets
import unicodedata

# Crockford's base 32: no I, L, O or U, which are read as 1, 1, 0 and V.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 10
SERIAL = re.compile(rf"JX[0-9]{{4}}-[{ALPHABET}]{{{RANDOM_LENGTH + 1}}}")


def check_character(payload: str) -> str:
    """The Luhn mod N check character of `payload` over ALPHABET (the dash is skipped)."""
    base = len(ALPHABET)
    total = 0
    for index, character in enumerate(reversed(payload.replace("-", ""))):
        value = ALPHABET.index(character)
        if index % 2 == 0:
            value *= 2
            value = value // base + value % base
        total += value
    return ALPHABET[-total % base]


def new_serial(year: int) -> str:
    payload = f"JX{year:04d}-" + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return payload + check_character(payload)


def normalize(text: str) -> str:
    """As typed or scanned: full-width characters, spaces and case do not matter."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).upper()


def is_well_formed(serial: str) -> bool:
    """Whether a (normalised) serial could be one of ours: its form and its check character."""
    return bool(SERIAL.fullmatch(serial)) and check_character(serial[:-1]) == serial[-1]
