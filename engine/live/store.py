"""The live view's reading of PostgreSQL: the exams running."""

from datetime import datetime

from engine.db import Executor


async def running_exams(db: Executor) -> tuple[int, datetime | None]:
    """Attempts in progress, and the earliest of their deadlines (the sweeper's partial
    index `exam_attempts_due_idx` answers both)."""
    row = await db.fetchrow(
        "SELECT count(*) AS running, min(deadline) AS next_deadline FROM exam_attempts "
        "WHERE status = 'in_progress'"
    )
    assert row is not None
    return row["running"], row["next_deadline"]
