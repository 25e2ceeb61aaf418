"""The stores a `jixu` command works on: the configured servers, or else the embedded ones
of its data folder (shared with a `jixu run` serving it, stopped by the last user)."""

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import msgspec

from engine import db
from engine.embedded import embedded_servers
from engine.errors import DomainError
from engine.settings import Settings

T = TypeVar("T")


def on_database(settings: Settings, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """Run `work` on a pool of the configured (or embedded) and migrated PostgreSQL.

    A refusal of the domain or an unmigrated database ends the command with its message.
    """

    async def main(url: str) -> T:
        pool = await db.create_pool(url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as connection:
                await db.require_migrated(connection)
            return await work(pool)
        finally:
            await pool.close()

    with servers(settings) as served:
        assert served.database_url is not None
        try:
            return asyncio.run(main(served.database_url))
        except DomainError as exc:
            fields = getattr(exc, "fields", {})
            sys.exit(f"jixu: {'；'.join(fields.values()) or exc.message}")
        except db.PendingMigrations as exc:
            sys.exit(f"jixu: {exc}")


@contextlib.contextmanager
def servers(settings: Settings) -> Iterator[Settings]:
    """The settings as given when both URLs are set; otherwise embedded servers fill them in."""
    if settings.database_url is not None and settings.redis_url is not None:
        yield settings
        return
    with embedded_servers(Path(settings.data_dir)) as servers:
        yield msgspec.structs.replace(
            settings,
            database_url=settings.database_url or servers.database_url,
            redis_url=settings.redis_url or servers.redis_url,
        )
