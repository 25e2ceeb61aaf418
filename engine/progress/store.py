"""SQL of the progress core: who may watch what, stored progress, completion and hours."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from engine.catalog.measures import hours
from engine.db import Connection, Executor
from engine.progress.types import ChapterState, Passed, Segment, Watchable

# The rule of playback: a chapter `ch` plays for learner $1 at time $3 while one of their
# plans that has its course selected is open.
SELECTED_IN_OPEN_PLAN = """
JOIN selections s ON s.course_id = ch.course_id AND s.learner_id = $1
JOIN enrolments e ON e.learner_id = s.learner_id AND e.plan_id = s.plan_id
JOIN plans p ON p.id = s.plan_id AND $3 >= p.opens_at AND $3 < p.closes_at
"""

WATCHABLE = f"""
SELECT ch.id, ch.course_id, ch.duration_s, min(p.max_rate) AS max_rate
FROM chapters ch {SELECTED_IN_OPEN_PLAN}
WHERE ch.id = $2
GROUP BY ch.id
"""

WATCHABLE_COURSES = f"""
SELECT DISTINCT ch.course_id FROM chapters ch {SELECTED_IN_OPEN_PLAN}
WHERE ch.course_id = ANY($2::bigint[])
"""


async def watchable(
    connection: Executor, learner_id: int, chapter_id: int, at: datetime
) -> Watchable | None:
    """The chapter, when one of the learner's open plans has its course selected."""
    row = await connection.fetchrow(WATCHABLE, learner_id, chapter_id, at)
    return Watchable(row[0], row[1], row[2], row[3]) if row else None


async def watchable_courses(
    db: Executor, learner_id: int, course_ids: list[int], at: datetime
) -> set[int]:
    """Those of the courses whose chapters the learner may watch at `at`."""
    rows = await db.fetch(WATCHABLE_COURSES, learner_id, course_ids, at)
    return {row[0] for row in rows}


async def course_chapters(
    connection: Executor, learner_id: int, course_id: int
) -> list[ChapterState]:
    """Every chapter of a course with the learner's stored progress, in order."""
    rows = await connection.fetch(
        """SELECT ch.id, ch.title, ch.duration_s, coalesce(p.hwm_s, 0), coalesce(p.position_s, 0),
                  coalesce(p.complete, false)
           FROM chapters ch
           LEFT JOIN chapter_progress p ON p.chapter_id = ch.id AND p.learner_id = $1
           WHERE ch.course_id = $2 ORDER BY ch.position""",
        learner_id,
        course_id,
    )
    return [ChapterState(*row) for row in rows]


async def chapter_exists(connection: Executor, chapter_id: int) -> bool:
    return bool(await connection.fetchval("SELECT 1 FROM chapters WHERE id = $1", chapter_id))


async def segments(
    connection: Executor, learner_id: int, chapter_ids: list[int]
) -> dict[int, list[Segment]]:
    """The learner's stored timeline of each of these chapters, in order."""
    rows = await connection.fetch(
        """SELECT chapter_id, from_ms, to_ms, credited_s, reason FROM study_segments
           WHERE learner_id = $1 AND chapter_id = ANY($2::bigint[])
           ORDER BY chapter_id, from_ms""",
        learner_id,
        chapter_ids,
    )
    found: dict[int, list[Segment]] = {chapter_id: [] for chapter_id in chapter_ids}
    for row in rows:
        found[row[0]].append(Segment(row[1], row[2], row[3], row[4]))
    return found


async def course_info(db: Executor, learner_id: int, course_id: int) -> dict[str, Any] | None:
    """A course's description and teacher, whether the learner has selected it and whether,
    as selected, it ends with an exam."""
    row = await db.fetchrow(
        """SELECT c.id, c.title, c.description, c.hour_tenths,
                  coalesce(t.name, '') AS teacher, coalesce(t.title, '') AS teacher_title,
                  coalesce(t.profile, '') AS teacher_profile,
                  EXISTS (SELECT 1 FROM selections s
                          WHERE s.learner_id = $1 AND s.course_id = c.id) AS selected,
                  EXISTS (SELECT 1 FROM selections s
                          JOIN plan_courses pc ON pc.plan_id = s.plan_id
                                              AND pc.course_id = s.course_id
                          WHERE s.learner_id = $1 AND s.course_id = c.id AND pc.examined)
                      AS examined
           FROM courses c LEFT JOIN teachers t ON t.id = c.teacher_id WHERE c.id = $2""",
        learner_id,
        course_id,
    )
    if row is None:
        return None
    course = dict(row)
    course["hours"] = hours(course.pop("hour_tenths"))
    return course


ProgressRow = tuple[
    int, int, float, float, int, bool
]  # learner, chapter, hwm, pos, pos_ms, complete
SegmentRow = tuple[
    int, int, int, int, float, str | None
]  # learner, chapter, from, to, credit, reason

SAVE_PROGRESS = """
INSERT INTO chapter_progress AS p (learner_id, chapter_id, hwm_s, position_s, position_ms, complete)
SELECT r.learner_id, r.chapter_id, least(r.hwm_s, ch.duration_s), least(r.position_s, ch.duration_s),
       r.position_ms, r.complete
FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::float8[], $5::bigint[], $6::bool[])
     AS r (learner_id, chapter_id, hwm_s, position_s, position_ms, complete)
JOIN chapters ch ON ch.id = r.chapter_id
-- Rows locked in key order: two nodes' flushers writing the same learners cannot deadlock.
ORDER BY r.learner_id, r.chapter_id
ON CONFLICT (learner_id, chapter_id) DO UPDATE SET
    hwm_s = greatest(p.hwm_s, excluded.hwm_s),
    position_s = CASE WHEN excluded.position_ms >= p.position_ms
                      THEN excluded.position_s ELSE p.position_s END,
    position_ms = greatest(p.position_ms, excluded.position_ms),
    complete = p.complete OR excluded.complete,
    updated_at = now()
"""

# Timeline segments as the flusher last read them: a segment only grows, so an older read
# written after a newer one changes nothing.
SAVE_SEGMENTS = """
INSERT INTO study_segments AS s (learner_id, chapter_id, from_ms, to_ms, credited_s, reason)
SELECT r.* FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[],
                       $6::text[]) AS r (learner_id, chapter_id, from_ms, to_ms, credited_s, reason)
JOIN chapters ch ON ch.id = r.chapter_id
ORDER BY r.learner_id, r.chapter_id, r.from_ms
ON CONFLICT (learner_id, chapter_id, from_ms) DO UPDATE SET
    to_ms = greatest(s.to_ms, excluded.to_ms),
    credited_s = greatest(s.credited_s, excluded.credited_s),
    reason = excluded.reason
"""

# Selections whose every chapter is now complete: the course is done.
COMPLETE_COURSES = """
UPDATE selections s SET completed_at = now()
FROM (SELECT DISTINCT r.learner_id, ch.course_id
      FROM unnest($1::bigint[], $2::bigint[]) AS r (learner_id, chapter_id)
      JOIN chapters ch ON ch.id = r.chapter_id) AS a
WHERE s.learner_id = a.learner_id AND s.course_id = a.course_id AND s.completed_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM chapters ch
      LEFT JOIN chapter_progress p ON p.chapter_id = ch.id AND p.learner_id = s.learner_id
      WHERE ch.course_id = s.course_id AND NOT coalesce(p.complete, false))
RETURNING s.learner_id, s.plan_id
"""

# Courses selected again (bought after a refund) whose every chapter the learner had already
# completed: done again at once, as their kept progress says.
COMPLETE_RESELECTED = """
UPDATE selections s SET completed_at = now()
WHERE s.learner_id = $1 AND s.course_id = ANY($2::bigint[]) AND s.completed_at IS NULL
  AND EXISTS (SELECT 1 FROM chapters ch WHERE ch.course_id = s.course_id)
  AND NOT EXISTS (
      SELECT 1 FROM chapters ch
      LEFT JOIN chapter_progress p ON p.chapter_id = ch.id AND p.learner_id = s.learner_id
      WHERE ch.course_id = s.course_id AND NOT coalesce(p.complete, false))
RETURNING s.plan_id
"""

# Hours earned in a plan: completed courses the plan does not examine, and completed examined
# courses whose exam (the course's, for this plan or every plan) the learner has passed. The
# plan is passed when every compulsory course is earned and the elective hours reach the
# requirement. A plan once passed stays passed, unless $3 (revoke) says a course it counted was
# taken back (a refund): then hours and the pass follow only from what remains. Returns the
# enrolments this statement passed: `passed_at` is now() only where it was NULL (a concurrent
# transaction that passed it first set its own, earlier now()).
REFRESH_ENROLMENTS = """
WITH pairs AS (
    -- Callers may name a pair more than once (two courses of a plan completed in one batch):
    -- each pair counts once, or its hours would be added up as many times.
    SELECT DISTINCT learner_id, plan_id
    FROM unnest($1::bigint[], $2::bigint[]) AS a (learner_id, plan_id)
), earned AS (
    SELECT e.learner_id, e.plan_id, pc.course_id, pc.compulsory, c.hour_tenths
    FROM pairs a
    JOIN enrolments e ON e.learner_id = a.learner_id AND e.plan_id = a.plan_id
    JOIN selections s ON s.learner_id = e.learner_id AND s.plan_id = e.plan_id
    JOIN plan_courses pc ON pc.plan_id = s.plan_id AND pc.course_id = s.course_id
    JOIN courses c ON c.id = s.course_id
    WHERE s.completed_at IS NOT NULL
      AND (NOT pc.examined OR EXISTS (
          SELECT 1 FROM exam_results r JOIN exams x ON x.id = r.exam_id
          WHERE r.learner_id = s.learner_id AND r.passed AND x.course_id = s.course_id
            AND (x.plan_id IS NULL OR x.plan_id = s.plan_id)))
), verdict AS (
    SELECT a.learner_id, a.plan_id, p.title,
           coalesce((SELECT sum(hour_tenths) FROM earned x
                     WHERE x.learner_id = a.learner_id AND x.plan_id = a.plan_id), 0) AS total,
           coalesce((SELECT sum(hour_tenths) FROM earned x
                     WHERE x.learner_id = a.learner_id AND x.plan_id = a.plan_id
                       AND NOT x.compulsory), 0) >= p.elective_tenths
           AND NOT EXISTS (
               SELECT 1 FROM plan_courses pc
               WHERE pc.plan_id = a.plan_id AND pc.compulsory
                 AND NOT EXISTS (SELECT 1 FROM earned x
                                 WHERE x.learner_id = a.learner_id AND x.plan_id = a.plan_id
                                   AND x.course_id = pc.course_id)) AS passes
    FROM pairs a
    JOIN plans p ON p.id = a.plan_id
), updated AS (
    UPDATE enrolments e SET
        earned_tenths = v.total,
        state = CASE WHEN v.passes THEN 'passed' WHEN $3 THEN 'learning' ELSE e.state END,
        passed_at = CASE WHEN v.passes THEN coalesce(e.passed_at, now())
                         WHEN $3 THEN NULL ELSE e.passed_at END
    FROM verdict v
    WHERE e.learner_id = v.learner_id AND e.plan_id = v.plan_id
    RETURNING e.learner_id, e.plan_id, v.title, v.passes AND e.passed_at = now() AS newly
)
SELECT learner_id, plan_id, title FROM updated WHERE newly
"""


async def save_progress(
    connection: Connection, rows: Iterable[ProgressRow], segments: Iterable[SegmentRow] = ()
) -> list[Passed]:
    """Write absolute progress and its timeline, then what follows from the progress:
    completed courses, hours, passes; returns the plans passed now."""
    segment_columns = list(zip(*segments, strict=True))
    if segment_columns:
        await connection.execute(SAVE_SEGMENTS, *segment_columns)
    columns = list(zip(*rows, strict=True))
    if not columns:
        return []
    await connection.execute(SAVE_PROGRESS, *columns)
    completed = await connection.fetch(COMPLETE_COURSES, columns[0], columns[1])
    if completed:
        learners, plans = zip(*((row[0], row[1]) for row in completed), strict=True)
        return await refresh_enrolments(connection, list(learners), list(plans))
    return []


async def complete_reselected(
    connection: Executor, learner_id: int, courses: list[int]
) -> list[Passed]:
    """Complete newly selected courses the learner had already watched, then their plans' hours;
    returns the plans passed now."""
    completed = await connection.fetch(COMPLETE_RESELECTED, learner_id, courses)
    if completed:
        plans = sorted({row["plan_id"] for row in completed})
        return await refresh_enrolments(connection, [learner_id] * len(plans), plans)
    return []


async def refresh_enrolments(
    connection: Executor, learners: list[int], plans: list[int], *, revoke: bool = False
) -> list[Passed]:
    """Recompute earned hours and the 已通过 state of these (learner, plan) pairs; returns
    those passed now."""
    rows = await connection.fetch(REFRESH_ENROLMENTS, learners, plans, revoke)
    return [Passed(**row) for row in rows]


async def chapter_lengths(db: Executor, courses: list[int]) -> list[tuple[int, float]]:
    """(chapter, duration) of every chapter of these courses."""
    rows = await db.fetch(
        "SELECT id, duration_s FROM chapters WHERE course_id = ANY($1::bigint[]) ORDER BY id",
        courses,
    )
    return [(row["id"], row["duration_s"]) for row in rows]


async def has_selected(connection: Executor, learner_id: int, course_id: int) -> bool:
    return bool(
        await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM selections WHERE learner_id = $1 AND course_id = $2)",
            learner_id,
            course_id,
        )
    )
