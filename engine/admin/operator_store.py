"""SQL of the operator's scope."""

import asyncpg

from engine.db import Executor


async def first_super(db: Executor) -> asyncpg.Record | None:
    """The first super administrator (the base data's): id and username."""
    return await db.fetchrow(
        "SELECT id, username FROM users WHERE role = 'super' ORDER BY id LIMIT 1"
    )
