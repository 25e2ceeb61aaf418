"""PostgreSQL: the asyncpg pool, the SQL migrations and what every store shares.

The one place besides the domains' `store.py` files that holds SQL: it is the database layer.
"""

from importlib import resources

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

log = structlog.get_logger(__name__)

# A single connection, whether opened directly or borrowed from the pool.
Connection = asyncpg.Connection | PoolConnectionProxy
# Anything a query can run on: a connection, or the pool (which borrows one per query).
Executor = Connection | asyncpg.Pool

# Taken by whoever migrates, so two nodes starting together apply each file once.
MIGRATION_LOCK_ID = 0x4A495855  # "JIXU"

MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class PendingMigrations(RuntimeError):
    """The database lacks migrations this code needs."""


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Return a released connection to the pool as it is.

    asyncpg's default reset sends a query on every release (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL): a round trip per borrowed connection, most of a short request's
    database time. The engine keeps no session state on pooled connections (no SET, LISTEN,
    cursors or session advisory locks outside `migrate`, which releases its own lock), and
    asyncpg still rolls back a transaction left open before calling this.
    """


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """Open a connection pool; every connection speaks UTC."""
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        reset=_keep_session,
        server_settings={"timezone": "UTC"},
    )
    assert pool is not None
    return pool


async def ping(pool: asyncpg.Pool) -> None:
    """One round trip to the server, for the health check."""
    await pool.fetchval("SELECT 1")


async def advisory_xact_lock(connection: Connection, lock_id: int) -> None:
    """Wait for a lock that the caller's transaction holds until it ends."""
    await connection.execute("SELECT pg_advisory_xact_lock($1)", lock_id)


def row_count(status: str) -> int:
    """The row count of a command tag ("INSERT 0 <rows>", "UPDATE <rows>")."""
    return int(status.rsplit(" ", 1)[1])


def migration_files() -> list[tuple[str, str]]:
    """All migrations as (version, sql), in the order they apply."""
    folder = resources.files("engine") / "migrations"
    files = sorted(
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
    return files


async def pending_migrations(connection: Connection) -> list[str]:
    """Versions not yet applied to this database."""
    table = await connection.fetchval("SELECT to_regclass('schema_migrations')")
    applied: set[str] = set()
    if table is not None:
        applied = {
            row["version"]
            for row in await connection.fetch("SELECT version FROM schema_migrations")
        }
    return [version for version, _ in migration_files() if version not in applied]


async def migrate(connection: Connection) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the versions applied."""
    applied: list[str] = []
    await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await connection.execute(MIGRATIONS_TABLE)
        pending = set(await pending_migrations(connection))
        for version, sql in migration_files():
            if version not in pending:
                continue
            async with connection.transaction():
                await connection.execute(sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)", version
                )
            log.info("migration applied", version=version)
            applied.append(version)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    return applied


async def require_migrated(connection: Connection) -> None:
    """Raise PendingMigrations when the schema is behind the code."""
    pending = await pending_migrations(connection)
    if pending:
        raise PendingMigrations(
            f"the database has {len(pending)} pending migration(s): {', '.join(pending)}; "
            "run `jixu migrate` first"
        )
