"""What `jixu serve` refuses to start with in production."""

import asyncpg

from engine import db
from engine.accounts import store
from engine.accounts.passwords import verify_password
from engine.seed import DEMO_PASSWORD, DEMO_USERNAME
from engine.settings import Settings


def configuration_refusal(settings: Settings) -> str | None:
    """The first setting production cannot run with, as one line naming the variable."""
    public_url = (settings.public_url or "").lower()
    if public_url.startswith("https://") and not settings.secure_cookies:
        return "JIXU_SECURE_COOKIES must be true when JIXU_PUBLIC_URL is https"
    if not public_url:
        # Gateways' notify and return URLs and certificates' verify links are built from it,
        # never from the Host header.
        return "JIXU_PUBLIC_URL must be set (payment gateways and certificates link to it)"
    return None


async def database_refusal(database_url: str) -> str | None:
    """What in the database production cannot run with (raises PendingMigrations first)."""
    connection = await asyncpg.connect(database_url)
    try:
        await db.require_migrated(connection)
        found = await store.credentials(connection, DEMO_USERNAME)
    finally:
        await connection.close()
    # A learner anyone can log in as, from the published demo credentials.
    if found is not None and await verify_password(found[1], DEMO_PASSWORD):
        return (
            f"the demo learner {DEMO_USERNAME} / {DEMO_PASSWORD} is in the database: "
            "change its password or remove it"
        )
    return None
