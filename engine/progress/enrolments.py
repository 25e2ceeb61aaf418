"""What progress offers other domains: recomputing the hours and passes of enrolments."""

from engine.db import Executor
from engine.progress import store


async def refresh_enrolments(db: Executor, learners: list[int], plans: list[int]) -> None:
    """Recompute earned hours and the 已通过 state of these (learner, plan) pairs.

    For a domain whose event earns hours outside playback, as a passed exam does.
    """
    await store.refresh_enrolments(db, learners, plans)
