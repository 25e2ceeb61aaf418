"""Hypothesis against a portal served by the test's own event loop, and what "nothing stored"
means: every PostgreSQL table and every Redis key, except the counters that exist to count
refusals (throttles) and the bookkeeping of logins and open sockets."""

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import hypothesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st

from engine.kv import Redis

T = TypeVar("T")

# The suite draws the same inputs on every run (CI must not fail at random on an input no run
# here has seen); JIXU_FUZZ_RANDOM=1 draws new ones, to look for what these miss.
DERANDOMIZE = os.environ.get("JIXU_FUZZ_RANDOM") != "1"

# Throttle counters count refused attempts on purpose; sessions and socket leases are the
# fuzzing client's own login and sockets.
# `live` is the live view's figures, rewritten every second by every node.
BOOKKEEPING = re.compile(
    r"^live$|(login-failures|card-failures|registrations|sockets):|:(card-failures|password-failures"
    r"|sockets|sessions|session:)"
)


async def fuzz(
    strategy: st.SearchStrategy[T], check: Callable[[T], Awaitable[None]], *, examples: int
) -> int:
    """Run `check` on up to `examples` values drawn by Hypothesis; the number run.

    Hypothesis drives from a worker thread and each check runs on this loop, where the
    portal under test serves (an async test cannot be `@given` itself).
    """
    loop = asyncio.get_running_loop()
    ran = 0

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(strategy)
    def run(value: T) -> None:
        nonlocal ran
        ran += 1
        asyncio.run_coroutine_threadsafe(check(value), loop).result(timeout=30)

    await asyncio.to_thread(run)
    return ran


async def stored(pool: asyncpg.Pool, redis: Redis) -> dict[str, Any]:
    """A digest of every table's rows and every Redis key's value (but BOOKKEEPING)."""
    tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    digest: dict[str, Any] = {}
    for row in tables:
        name = row["tablename"]
        digest[name] = await pool.fetchval(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {name} t"
        )
    keys = sorted(key for key in await redis.keys("*") if not BOOKKEEPING.search(_text(key)))
    values = [await redis.dump(key) for key in keys]
    digest["redis"] = dict(zip(map(_text, keys), values, strict=True))
    return digest


def _text(key: str | bytes) -> str:
    return key.decode() if isinstance(key, bytes) else key


# JSON of every shape: nested, empty, huge and negative numbers, odd text.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, -1, 2**53 + 1, 2**63, 2**64, 1e308, -0.0, 1e-320])
    | st.text(max_size=24),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
# Text a person (or a script) may type into a form: empty, long, control characters, NUL,
# full-width digits, emoji, markup.
form_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(["", " ", "\x00", "０１２３", "😀", "<script>", "' OR 1=1 --", "a" * 5000]),
)
