"""Password hashing (argon2id) and the list of passwords too common to accept."""

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Common in Chinese leaks and absent from zxcvbn's (mostly English) list.
EXTRA_COMMON = (
    "woaini1314", "woaini520", "5201314a", "1314520a", "a5201314", "qq123456", "aa123456",
    "a123456789", "abc123456", "a12345678", "zxcvbnm123", "qwe123456", "asd123456",
)  # fmt: skip


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(EXTRA_COMMON)


def is_common_password(password: str) -> bool:
    return password.lower() in _common_passwords()


async def hash_password(password: str) -> str:
    """argon2id hash, computed off the event loop (it takes tens of milliseconds)."""
    return await asyncio.to_thread(HASHER.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


@cache
def dummy_hash() -> str:
    """Verified against when the username is unknown, so both paths cost the same time."""
    return HASHER.hash("jixu-no-such-user")
