"""Bulk writes of catalogue rows; every insert skips what exists, so reruns change nothing.

Each table is written in one statement over `unnest` of column arrays: one round trip per
table like COPY, but unlike COPY it can say ON CONFLICT DO NOTHING and resolve codes to
ids in the same statement.
"""

from collections.abc import Sequence
from datetime import datetime

import msgspec

from engine.db import Connection


class PlanRow(msgspec.Struct, frozen=True):
    code: str
    title: str
    kind: str
    year: int
    category: str | None
    compulsory_tenths: int
    elective_tenths: int
    price_per_hour_fen: int
    opens_at: datetime
    closes_at: datetime
    max_rate: float


class TeacherRow(msgspec.Struct, frozen=True):
    # Teachers have no code; name and profile together identify one.
    name: str
    title: str
    profile: str


class CourseRow(msgspec.Struct, frozen=True):
    code: str
    title: str
    teacher_name: str
    teacher_profile: str
    description: str
    hour_tenths: int


class ChapterRow(msgspec.Struct, frozen=True):
    course_code: str
    position: int
    title: str
    media: str
    duration_s: float


class PlanCourseRow(msgspec.Struct, frozen=True):
    plan_code: str
    course_code: str
    compulsory: bool
    examined: bool


def _inserted(status: str) -> int:
    """The row count of an INSERT command tag ("INSERT 0 <rows>")."""
    return int(status.rsplit(" ", 1)[1])


async def insert_plans(connection: Connection, rows: Sequence[PlanRow]) -> int:
    """Insert plans whose code is new; return how many were inserted."""
    status = await connection.execute(
        """INSERT INTO plans (code, title, kind, year, category, compulsory_tenths,
                              elective_tenths, price_per_hour_fen, opens_at, closes_at, max_rate)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[],
                                $6::int[], $7::int[], $8::int[], $9::timestamptz[],
                                $10::timestamptz[], $11::real[])
           ON CONFLICT (code) DO NOTHING""",
        *_columns(rows, PlanRow),
    )
    return _inserted(status)


async def insert_teachers(connection: Connection, rows: Sequence[TeacherRow]) -> int:
    """Insert teachers not yet present (same name and profile); return how many."""
    status = await connection.execute(
        """INSERT INTO teachers (name, title, profile)
           SELECT r.name, r.title, r.profile
           FROM unnest($1::text[], $2::text[], $3::text[]) AS r (name, title, profile)
           WHERE NOT EXISTS (
               SELECT 1 FROM teachers t WHERE t.name = r.name AND t.profile = r.profile)""",
        *_columns(rows, TeacherRow),
    )
    return _inserted(status)


async def insert_courses(connection: Connection, rows: Sequence[CourseRow]) -> int:
    """Insert courses whose code is new, linked to their teacher; return how many."""
    status = await connection.execute(
        """INSERT INTO courses (code, title, teacher_id, description, hour_tenths)
           SELECT r.code, r.title,
                  (SELECT min(t.id) FROM teachers t
                   WHERE t.name = r.teacher_name AND t.profile = r.teacher_profile),
                  r.description, r.hour_tenths
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
                AS r (code, title, teacher_name, teacher_profile, description, hour_tenths)
           ON CONFLICT (code) DO NOTHING""",
        *_columns(rows, CourseRow),
    )
    return _inserted(status)


async def insert_chapters(connection: Connection, rows: Sequence[ChapterRow]) -> int:
    """Insert chapters at positions still free in their course; return how many."""
    status = await connection.execute(
        """INSERT INTO chapters (course_id, position, title, media, duration_s)
           SELECT c.id, r.position, r.title, r.media, r.duration_s
           FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::float8[])
                AS r (course_code, position, title, media, duration_s)
           JOIN courses c ON c.code = r.course_code
           ON CONFLICT (course_id, position) DO NOTHING""",
        *_columns(rows, ChapterRow),
    )
    return _inserted(status)


async def insert_plan_courses(connection: Connection, rows: Sequence[PlanCourseRow]) -> int:
    """Link courses to plans where not yet linked; return how many links were made."""
    status = await connection.execute(
        """INSERT INTO plan_courses (plan_id, course_id, compulsory, examined)
           SELECT p.id, c.id, r.compulsory, r.examined
           FROM unnest($1::text[], $2::text[], $3::bool[], $4::bool[])
                AS r (plan_code, course_code, compulsory, examined)
           JOIN plans p ON p.code = r.plan_code
           JOIN courses c ON c.code = r.course_code
           ON CONFLICT (plan_id, course_id) DO NOTHING""",
        *_columns(rows, PlanCourseRow),
    )
    return _inserted(status)


def _columns(rows: Sequence[msgspec.Struct], kind: type[msgspec.Struct]) -> list[list[object]]:
    """Rows turned into one list per field, in field order, for `unnest`."""
    return [[getattr(row, field) for row in rows] for field in kind.__struct_fields__]
