"""The script registry against a real Redis: scripts it lost are loaded again."""

from engine.accounts import keys
from engine.accounts.scripts import touch_session
from engine.kv import Batcher, create_redis
from engine.scripts import SCRIPTS


async def test_scripts_redis_lost_are_loaded_again_and_the_call_answered(redis_url: str) -> None:
    redis = create_redis(redis_url)
    try:
        batcher = Batcher(redis, SCRIPTS)
        await redis.hset(keys.session_key(7, "digest"), "created_ms", 1_000)
        await redis.script_flush()
        alive = await touch_session(
            batcher, user_id=7, digest="digest", now_ms=2_000, idle_ms=60_000, absolute_ms=60_000
        )
        assert alive
        assert all(await redis.script_exists(*(script.sha for script in SCRIPTS.values())))
    finally:
        await redis.aclose()
