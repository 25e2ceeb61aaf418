"""A chapter's 关键目录 as the player shows it: the moments an administrator named, or,
for a chapter without any, a mark every KEY_POINT_STEP_S seconds."""

import math

from engine.catalog import chapter_store
from engine.catalog.admin_types import KeyPoint
from engine.db import Executor

KEY_POINT_STEP_S = 30


async def key_points(db: Executor, chapter_id: int, duration_s: float) -> list[KeyPoint]:
    """The chapter's named key points in time order, else untitled marks every 30 s."""
    named = await chapter_store.key_points(db, chapter_id)
    if named:
        return named
    return [
        KeyPoint(at_s=float(second), title="")
        for second in range(0, math.ceil(duration_s), KEY_POINT_STEP_S)
    ]
