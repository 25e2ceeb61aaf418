"""Redis: the client and the Lua script loader."""

from importlib import resources

import redis.asyncio as redis
from redis.commands.core import AsyncScript

Redis = redis.Redis


def create_redis(url: str) -> Redis:
    """A client whose replies are str; connections are made on first use."""
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


def load_script(client: Redis, package: str, name: str) -> AsyncScript:
    """Register `<package>/lua/<name>.lua`; it runs by EVALSHA, re-sent only if Redis lost it."""
    source = (resources.files(package) / "lua" / f"{name}.lua").read_text(encoding="utf-8")
    return client.register_script(source)
