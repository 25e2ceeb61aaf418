"""Walk factories of banks and exams: a question in a course of the organisation, a course
whose bank an exam can draw from, and an exam nobody has attempted (its rules those of the
exam routes' example, its title not)."""

import json

from tests.admin_world import Objects, factory, unique


async def insert_question(objects: Objects, course_id: int | str) -> int:
    question_id: int = await objects.connection.fetchval(
        """INSERT INTO questions (course_id, kind, stem, options, answer, score)
           VALUES ($1, 'single', '继续教育证书由谁验证盖章？', $2::jsonb, '{B}', 5)
           RETURNING id""",
        course_id,
        json.dumps([{"key": "A", "text": "本人"}, {"key": "B", "text": "人力资源部门"}]),
    )
    return question_id


@factory("question_id")
async def question(objects: Objects, org_id: int) -> int:
    return await insert_question(objects, await objects.get("course_id"))


@factory("banked_course_id")
async def banked_course(objects: Objects, org_id: int) -> int:
    """A course of its own (not `{course_id}`) with one 单选题 worth 5."""
    course_id: int = await objects.connection.fetchval(
        "INSERT INTO courses (code, title, hour_tenths, org_id) VALUES ($1, $1, 20, $2)"
        " RETURNING id",
        unique("banked"),
        org_id,
    )
    await insert_question(objects, course_id)
    return course_id


@factory("exam_id")
async def exam(objects: Objects, org_id: int) -> int:
    exam_id: int = await objects.connection.fetchval(
        """INSERT INTO exams (course_id, title, opens_at, closes_at, duration_s, total_score,
                              pass_score, attempts_allowed, recipe)
           VALUES ($1, '课程考试', '2000-01-01', '2100-01-01', 3600, 5, 3, 2,
                   '{"single": 1, "multiple": 0, "true_false": 0}') RETURNING id""",
        await objects.get("banked_course_id"),
    )
    return exam_id
