"""The live view's script (lua/flush_lag.lua) as a typed call through the Batcher."""

from engine.kv import Batcher
from engine.progress.keys import STREAM
from engine.scripts import SCRIPTS

_FLUSH_LAG = SCRIPTS["live/flush_lag"]


async def flush_lag(batcher: Batcher) -> tuple[int, float]:
    """Progress entries not yet written to PostgreSQL, and the oldest one's age in seconds."""
    [(entries, age_ms)] = await batcher.execute([_FLUSH_LAG.command((STREAM,))])
    return int(entries), int(age_ms) / 1000
