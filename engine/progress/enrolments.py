"""What progress offers other domains: recomputing the hours and passes of enrolments.

A plan that becomes 已通过 sends its learner a 系统通知 in the same transaction.
"""

from collections.abc import Sequence

from engine.db import Executor
from engine.messages.service import notify_many
from engine.messages.types import NewNotice
from engine.progress import store
from engine.progress.types import Passed

PASSED_TITLE = "培训计划已通过"


async def announce_passes(db: Executor, passed: Sequence[Passed]) -> None:
    """A 系统通知 to each learner of a plan passed now."""
    if passed:
        await notify_many(
            db,
            [
                NewNotice(
                    item.learner_id,
                    PASSED_TITLE,
                    f"恭喜您！培训计划“{item.title}”已通过，所需学时均已获得。",
                )
                for item in passed
            ],
        )


async def refresh_enrolments(db: Executor, learners: list[int], plans: list[int]) -> None:
    """Recompute earned hours and the 已通过 state of these (learner, plan) pairs.

    For a domain whose event earns hours outside playback, as a passed exam does.
    """
    await announce_passes(db, await store.refresh_enrolments(db, learners, plans))


async def revoke_enrolments(db: Executor, learner_id: int, plans: list[int]) -> None:
    """Recompute hours and 已通过 of the learner's plans after selections were taken back.

    Only selected courses earn, so a refunded course's progress and passed exam stop counting;
    a pass that no longer follows from what remains is withdrawn.
    """
    await store.refresh_enrolments(db, [learner_id] * len(plans), plans, revoke=True)


async def restore_completed(db: Executor, learner_id: int, courses: list[int]) -> None:
    """Count again the kept progress of newly selected courses (bought again after a refund)."""
    await announce_passes(db, await store.complete_reselected(db, learner_id, courses))


async def has_selected(db: Executor, learner_id: int, course_id: int) -> bool:
    """Whether the learner selected the course in any of the plans they activated."""
    return await store.has_selected(db, learner_id, course_id)
