"""SQL of the catalogue's administration: plans, courses and teachers within a scope.

Every query takes the scope's organisation (None: everything) and applies it in SQL with
`owned_by`, so an object outside the scope is simply not found. Platform-owned objects
(org_id NULL) lie outside every scope but the super administrator's.
"""

from collections.abc import Sequence

import asyncpg

from engine.admin.paging import Page, fetch_page
from engine.admin.scope import owned_by
from engine.catalog.admin_types import (
    CourseInput,
    CourseListing,
    PlanCourseInput,
    PlanInput,
    PlanListing,
    Teacher,
    TeacherInput,
)
from engine.catalog.periods import period_days
from engine.db import Connection, Executor

# Title search as the learner's catalogue does it: any substring, through the grams index.
TITLE_MATCH = """($%d::text IS NULL OR (title_grams(%s) @> title_grams($%d)
                 AND strpos(lower(%s), lower($%d)) > 0))"""


def title_match(column: str, parameter: int) -> str:
    return TITLE_MATCH % (parameter, column, parameter, column, parameter)


async def org_in_scope(db: Executor, org: int | None, org_id: int) -> bool:
    return bool(
        await db.fetchval(
            f"SELECT true FROM orgs o WHERE o.id = $2 AND {owned_by('o.id', 1)}", org, org_id
        )
    )


# Plans.

PLAN = f"""
SELECT p.id, p.code, p.title, p.kind, p.year, p.category, p.compulsory_tenths,
       p.elective_tenths, p.price_per_hour_fen, p.opens_at, p.closes_at, p.org_id,
       o.name AS org_name
FROM plans p LEFT JOIN orgs o ON o.id = p.org_id
WHERE p.id = $2 AND {owned_by("p.org_id", 1)}
"""


async def plan_page(
    db: Executor,
    org: int | None,
    *,
    kind: str | None,
    year: int | None,
    search: str | None,
    number: int,
) -> Page[PlanListing]:
    """Page `number` of the plans in scope, newest year first."""
    query = f"""
        SELECT p.id, p.title, p.kind, p.year, p.org_id, o.name AS org_name,
               p.opens_at, p.closes_at,
               (SELECT count(*) FROM plan_courses pc WHERE pc.plan_id = p.id) AS course_count,
               (SELECT count(*) FROM enrolments e WHERE e.plan_id = p.id) AS learner_count
        FROM plans p LEFT JOIN orgs o ON o.id = p.org_id
        WHERE {owned_by("p.org_id", 1)} AND ($2::text IS NULL OR p.kind = $2)
              AND ($3::int IS NULL OR p.year = $3) AND {title_match("p.title", 4)}
        ORDER BY p.year DESC, p.kind DESC, p.id DESC"""
    return await fetch_page(db, query, (org, kind, year, search), number=number, row=_listing)


def _listing(row: asyncpg.Record) -> PlanListing:
    fields = dict(row)
    opens_on, closes_on = period_days(fields.pop("opens_at"), fields.pop("closes_at"))
    return PlanListing(**fields, opens_on=opens_on, closes_on=closes_on)


async def plan(
    db: Executor, org: int | None, plan_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    return await db.fetchrow(PLAN + (" FOR UPDATE OF p" if lock else ""), org, plan_id)


async def plan_links(db: Executor, plan_id: int) -> list[asyncpg.Record]:
    return await db.fetch(
        """SELECT pc.course_id, c.code, c.title, c.hour_tenths, pc.compulsory, pc.examined
           FROM plan_courses pc JOIN courses c ON c.id = pc.course_id
           WHERE pc.plan_id = $1
           ORDER BY pc.compulsory DESC, c.code, c.id""",
        plan_id,
    )


async def insert_plan(connection: Connection, code: str, fields: PlanInput) -> int:
    plan_id: int = await connection.fetchval(
        """INSERT INTO plans (code, title, kind, year, category, compulsory_tenths,
                              elective_tenths, price_per_hour_fen, opens_at, closes_at, org_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id""",
        code,
        fields.title,
        fields.kind,
        fields.year,
        fields.category,
        fields.compulsory_tenths,
        fields.elective_tenths,
        fields.price_per_hour_fen,
        fields.opens_at,
        fields.closes_at,
        fields.org_id,
    )
    return plan_id


async def update_plan(connection: Connection, plan_id: int, fields: PlanInput) -> None:
    await connection.execute(
        """UPDATE plans SET title = $2, kind = $3, year = $4, category = $5,
                  compulsory_tenths = $6, elective_tenths = $7, price_per_hour_fen = $8,
                  opens_at = $9, closes_at = $10, org_id = $11
           WHERE id = $1""",
        plan_id,
        fields.title,
        fields.kind,
        fields.year,
        fields.category,
        fields.compulsory_tenths,
        fields.elective_tenths,
        fields.price_per_hour_fen,
        fields.opens_at,
        fields.closes_at,
        fields.org_id,
    )


async def courses_in_scope(db: Executor, org: int | None, course_ids: Sequence[int]) -> set[int]:
    rows = await db.fetch(
        f"SELECT c.id FROM courses c WHERE c.id = ANY($2::bigint[]) AND {owned_by('c.org_id', 1)}",
        org,
        list(course_ids),
    )
    return {row["id"] for row in rows}


async def selections_of(connection: Connection, plan_id: int, course_ids: Sequence[int]) -> int:
    """How many learners selected these courses in the plan. Their links are locked first: a
    selection inserted meanwhile (its foreign key takes a key-share lock on the link) waits
    for the transaction, so none can slip in between this count and the links' removal."""
    count: int = await connection.fetchval(
        """WITH locked AS (
               SELECT course_id FROM plan_courses
               WHERE plan_id = $1 AND course_id = ANY($2::bigint[])
               FOR UPDATE)
           SELECT count(DISTINCT learner_id) FROM selections
           WHERE plan_id = $1 AND course_id IN (SELECT course_id FROM locked)""",
        plan_id,
        list(course_ids),
    )
    return count


async def set_plan_links(
    connection: Connection, plan_id: int, courses: Sequence[PlanCourseInput]
) -> None:
    """The plan's courses become exactly these (links dropped must have no selections)."""
    await connection.execute(
        "DELETE FROM plan_courses WHERE plan_id = $1 AND NOT course_id = ANY($2::bigint[])",
        plan_id,
        [course.course_id for course in courses],
    )
    await connection.execute(
        """INSERT INTO plan_courses (plan_id, course_id, compulsory, examined)
           SELECT $1, * FROM unnest($2::bigint[], $3::bool[], $4::bool[])
           ON CONFLICT (plan_id, course_id) DO UPDATE
           SET compulsory = excluded.compulsory, examined = excluded.examined""",
        plan_id,
        [course.course_id for course in courses],
        [course.compulsory for course in courses],
        [course.examined for course in courses],
    )


# Courses.

COURSE = f"""
SELECT c.id, c.code, c.title, c.teacher_id, t.name AS teacher_name, c.description,
       c.hour_tenths, c.org_id, o.name AS org_name
FROM courses c LEFT JOIN teachers t ON t.id = c.teacher_id LEFT JOIN orgs o ON o.id = c.org_id
WHERE c.id = $2 AND {owned_by("c.org_id", 1)}
"""


async def course_page(
    db: Executor, org: int | None, *, search: str | None, number: int
) -> Page[CourseListing]:
    """Page `number` of the courses in scope, newest first; `search` matches title or code."""
    query = f"""
        SELECT c.id, c.code, c.title, t.name AS teacher_name, c.hour_tenths, c.org_id,
               o.name AS org_name,
               (SELECT count(*) FROM chapters ch WHERE ch.course_id = c.id) AS chapter_count
        FROM courses c LEFT JOIN teachers t ON t.id = c.teacher_id
        LEFT JOIN orgs o ON o.id = c.org_id
        WHERE {owned_by("c.org_id", 1)} AND ({title_match("c.title", 2)} OR c.code = $2)
        ORDER BY c.id DESC"""
    return await fetch_page(
        db, query, (org, search), number=number, row=lambda row: CourseListing(**row)
    )


async def course_ids_by_code(db: Executor, org: int | None, codes: Sequence[str]) -> dict[str, int]:
    """The courses in scope with these codes, by code."""
    rows = await db.fetch(
        f"SELECT c.code, c.id FROM courses c WHERE c.code = ANY($2::text[]) AND {owned_by('c.org_id', 1)}",
        org,
        list(codes),
    )
    return {row["code"]: row["id"] for row in rows}


async def course(
    db: Executor, org: int | None, course_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    return await db.fetchrow(COURSE + (" FOR UPDATE OF c" if lock else ""), org, course_id)


async def insert_course(connection: Connection, fields: CourseInput) -> int:
    course_id: int = await connection.fetchval(
        """INSERT INTO courses (code, title, teacher_id, description, hour_tenths, org_id)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        fields.code,
        fields.title,
        fields.teacher_id,
        fields.description,
        fields.hour_tenths,
        fields.org_id,
    )
    return course_id


async def update_course(connection: Connection, course_id: int, fields: CourseInput) -> None:
    await connection.execute(
        """UPDATE courses SET code = $2, title = $3, teacher_id = $4, description = $5,
                  hour_tenths = $6, org_id = $7
           WHERE id = $1""",
        course_id,
        fields.code,
        fields.title,
        fields.teacher_id,
        fields.description,
        fields.hour_tenths,
        fields.org_id,
    )


# Teachers' profiles.

TEACHER = f"""
SELECT t.id, t.name, t.title, t.profile, t.org_id, o.name AS org_name
FROM teachers t LEFT JOIN orgs o ON o.id = t.org_id
WHERE t.id = $2 AND {owned_by("t.org_id", 1)}
"""


async def teacher_page(
    db: Executor, org: int | None, *, search: str | None, number: int
) -> Page[Teacher]:
    """Page `number` of the teachers' profiles in scope, newest first; `search`: the name."""
    query = f"""
        SELECT t.id, t.name, t.title, t.profile, t.org_id, o.name AS org_name
        FROM teachers t LEFT JOIN orgs o ON o.id = t.org_id
        WHERE {owned_by("t.org_id", 1)}
              AND ($2::text IS NULL OR strpos(lower(t.name), lower($2)) > 0)
        ORDER BY t.id DESC"""
    return await fetch_page(db, query, (org, search), number=number, row=lambda row: Teacher(**row))


async def teacher_choices(db: Executor, org: int | None) -> list[asyncpg.Record]:
    """Every teacher in scope, by name (a course form's choices)."""
    return await db.fetch(
        f"""SELECT t.id, t.name, t.title FROM teachers t WHERE {owned_by("t.org_id", 1)}
            ORDER BY t.name, t.id""",
        org,
    )


async def teacher(
    db: Executor, org: int | None, teacher_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    return await db.fetchrow(TEACHER + (" FOR UPDATE OF t" if lock else ""), org, teacher_id)


async def insert_teacher(connection: Connection, fields: TeacherInput) -> int:
    teacher_id: int = await connection.fetchval(
        "INSERT INTO teachers (name, title, profile, org_id) VALUES ($1, $2, $3, $4) RETURNING id",
        fields.name,
        fields.title,
        fields.profile,
        fields.org_id,
    )
    return teacher_id


async def update_teacher(connection: Connection, teacher_id: int, fields: TeacherInput) -> None:
    await connection.execute(
        "UPDATE teachers SET name = $2, title = $3, profile = $4, org_id = $5 WHERE id = $1",
        teacher_id,
        fields.name,
        fields.title,
        fields.profile,
        fields.org_id,
    )
