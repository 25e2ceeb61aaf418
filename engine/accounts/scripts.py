"""The accounts domain's script (lua/touch_session.lua) as a typed call through the Batcher."""

from engine.accounts import keys
from engine.kv import Batcher
from engine.scripts import SCRIPTS

_TOUCH_SESSION = SCRIPTS["accounts/touch_session"]


async def touch_session(
    batcher: Batcher, *, user_id: int, digest: str, now_ms: int, idle_ms: int, absolute_ms: int
) -> bool:
    """Whether the session is alive; if so its idle timeout starts again (within the absolute)."""
    [alive] = await batcher.call(
        [_TOUCH_SESSION.command((keys.session_key(user_id, digest),), now_ms, idle_ms, absolute_ms)]
    )
    return bool(alive == 1)
