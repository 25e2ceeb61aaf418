"""The catalogue's administration: plans (with their courses), courses and teachers'
profiles, within an administrator's organisation subtree.

Each use case takes the acting scope first, checks its role, finds the object through the
scope in SQL (outside it: NotFound), and writes its audit row in the transaction of the
change. Platform-owned objects (org_id None) are the super administrator's alone.
"""

import re
import secrets
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from engine.admin import audit
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.catalog import admin_store as store
from engine.catalog.admin_types import (
    Course,
    CourseInput,
    CourseListing,
    Plan,
    PlanCourse,
    PlanCourseInput,
    PlanInput,
    PlanListing,
    Teacher,
    TeacherInput,
)
from engine.db import Connection, Executor
from engine.errors import Conflict, InvalidInput, NotFound

MAX_TITLE = 100
MAX_CATEGORY = 50
MAX_TENTHS = 10_000  # 1,000 学时: a typo guard
MAX_PRICE_FEN = 1_000_000
MAX_DESCRIPTION = 5_000
MAX_PROFILE = 2_000
MAX_CODE = 40
CODE = re.compile(r"[A-Za-z0-9_-]+")
OUT_OF_SCOPE_ORG = "所属单位不存在"


def _search(text: str | None) -> str | None:
    text = (text or "").replace("\x00", "").strip()[:50]
    return text or None


def _text(fields: dict[str, str], name: str, value: str, label: str, limit: int) -> str:
    value = value.strip()
    if not value:
        fields[name] = f"请填写{label}"
    elif len(value) > limit:
        fields[name] = f"{label}不能超过{limit}个字"
    return value


async def _check_owner(db: Executor, scope: Scope, org_id: int | None) -> None:
    """An object's owner: an organisation within scope, or the platform (super only). An
    organisation outside the scope is not found, as any object outside it."""
    if org_id is None:
        if not scope.is_super:
            raise InvalidInput({"org_id": "请选择所属单位"})
    elif not await store.org_in_scope(db, scope.org_id, org_id):
        raise NotFound(OUT_OF_SCOPE_ORG)


# Plans.


async def list_plans(
    db: Executor,
    scope: Scope,
    *,
    kind: str | None = None,
    year: int | None = None,
    search: str | None = None,
    page: int = 1,
) -> Page[PlanListing]:
    require(scope, "admin")
    kind = kind if kind in ("public", "professional") else None
    return await store.plan_page(
        db, scope.org_id, kind=kind, year=year, search=_search(search), number=max(page, 1)
    )


async def get_plan(db: Executor, scope: Scope, plan_id: int) -> Plan:
    require(scope, "admin")
    return await _plan(db, scope, plan_id)


async def _plan(db: Executor, scope: Scope, plan_id: int, *, lock: bool = False) -> Plan:
    row = await store.plan(db, scope.org_id, plan_id, lock=lock)
    if row is None:
        raise NotFound("培训计划不存在")
    links = await store.plan_links(db, plan_id)
    return Plan(**dict(row), courses=[PlanCourse(**dict(link)) for link in links])


async def _check_plan(
    db: Executor, scope: Scope, fields: PlanInput, courses: Sequence[PlanCourseInput]
) -> PlanInput:
    await _check_owner(db, scope, fields.org_id)
    ids = [course.course_id for course in courses]
    if set(ids) - await store.courses_in_scope(db, scope.org_id, ids):
        raise NotFound("课程不存在")
    errors: dict[str, str] = {}
    title = _text(errors, "title", fields.title, "计划名称", MAX_TITLE)
    category = (fields.category or "").strip() or None
    if category is not None and len(category) > MAX_CATEGORY:
        errors["category"] = f"类别不能超过{MAX_CATEGORY}个字"
    if not 2000 <= fields.year <= 2100:
        errors["year"] = "年度应在2000至2100之间"
    for name in ("compulsory_tenths", "elective_tenths"):
        if not 0 <= getattr(fields, name) <= MAX_TENTHS:
            errors[name] = f"学时应在0至{MAX_TENTHS // 10}之间"
    if fields.compulsory_tenths + fields.elective_tenths == 0:
        errors["elective_tenths"] = "必修和选修学时不能都为0"
    if not 0 <= fields.price_per_hour_fen <= MAX_PRICE_FEN:
        errors["price_per_hour_fen"] = "每学时价格应在0至10000元之间"
    if _naive(fields.opens_at) or _naive(fields.closes_at):
        errors["opens_at"] = "请填写开放时间"
    elif fields.closes_at <= fields.opens_at:
        errors["closes_at"] = "结束时间应晚于开始时间"
    ids = [course.course_id for course in courses]
    if len(set(ids)) != len(ids):
        errors["courses"] = "同一课程只能加入一次"
    if errors:
        raise InvalidInput(errors)
    return PlanInput(
        **{
            **{name: getattr(fields, name) for name in PlanInput.__struct_fields__},
            "title": title,
            "category": category,
        }
    )


def _naive(moment: datetime) -> bool:
    return moment.tzinfo is None


async def course_ids(db: Executor, scope: Scope, codes: Sequence[str]) -> list[int]:
    """The courses in scope with these codes, in order; InvalidInput names codes not found."""
    require(scope, "admin")
    found = await store.course_ids_by_code(db, scope.org_id, codes)
    missing = [code for code in codes if code not in found]
    if missing:
        message = "课程编号不存在：" + "、".join(missing[:10])
        raise InvalidInput({"add_codes": message}, message)
    return [found[code] for code in dict.fromkeys(codes)]


async def teacher_choices(db: Executor, scope: Scope) -> list[tuple[int, str]]:
    """(id, name and title) of every teacher in scope, for a course's form."""
    require(scope, "admin")
    rows = await store.teacher_choices(db, scope.org_id)
    return [
        (row["id"], f"{row['name']}（{row['title']}）" if row["title"] else row["name"])
        for row in rows
    ]


async def create_plan(
    pool: asyncpg.Pool, scope: Scope, fields: PlanInput, courses: Sequence[PlanCourseInput] = ()
) -> Plan:
    """A new plan with its courses (each compulsory or elective, examined or not)."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        fields = await _check_plan(connection, scope, fields, courses)
        plan_id = await store.insert_plan(connection, f"p{secrets.token_hex(6)}", fields)
        await store.set_plan_links(connection, plan_id, courses)
        plan = await _plan(connection, scope, plan_id)
        await _audit(connection, scope, "plan.create", plan, None, plan)
        return plan


async def update_plan(
    pool: asyncpg.Pool,
    scope: Scope,
    plan_id: int,
    fields: PlanInput,
    courses: Sequence[PlanCourseInput],
) -> Plan:
    """Edit a plan and set its courses. A course some learner selected in it stays."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        before = await _plan(connection, scope, plan_id, lock=True)
        fields = await _check_plan(connection, scope, fields, courses)
        kept = {course.course_id for course in courses}
        dropped = [link.course_id for link in before.courses if link.course_id not in kept]
        if dropped and (learners := await store.selections_of(connection, plan_id, dropped)):
            raise Conflict(f"已有{learners}名学员选择了要移除的课程，不能移除", field="courses")
        await store.update_plan(connection, plan_id, fields)
        await store.set_plan_links(connection, plan_id, courses)
        after = await _plan(connection, scope, plan_id)
        await _audit(connection, scope, "plan.update", after, before, after)
        return after


# Courses.


async def list_courses(
    db: Executor, scope: Scope, *, search: str | None = None, page: int = 1
) -> Page[CourseListing]:
    require(scope, "admin")
    return await store.course_page(db, scope.org_id, search=_search(search), number=max(page, 1))


async def get_course(db: Executor, scope: Scope, course_id: int) -> Course:
    require(scope, "admin")
    return await _course(db, scope, course_id)


async def _course(db: Executor, scope: Scope, course_id: int, *, lock: bool = False) -> Course:
    row = await store.course(db, scope.org_id, course_id, lock=lock)
    if row is None:
        raise NotFound("课程不存在")
    return Course(**dict(row))


async def _check_course(db: Executor, scope: Scope, fields: CourseInput) -> CourseInput:
    await _check_owner(db, scope, fields.org_id)
    if fields.teacher_id is not None and (
        await store.teacher(db, scope.org_id, fields.teacher_id) is None
    ):
        raise NotFound("授课教师不存在")
    errors: dict[str, str] = {}
    code = _text(errors, "code", fields.code, "课程编号", MAX_CODE)
    if code and not CODE.fullmatch(code):
        errors.setdefault("code", "课程编号只能包含字母、数字、-和_")
    title = _text(errors, "title", fields.title, "课程名称", MAX_TITLE)
    description = fields.description.strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"课程简介不能超过{MAX_DESCRIPTION}个字"
    if not 1 <= fields.hour_tenths <= MAX_TENTHS:
        errors["hour_tenths"] = f"学时应在0.1至{MAX_TENTHS // 10}之间"
    if errors:
        raise InvalidInput(errors)
    return CourseInput(
        code=code,
        title=title,
        teacher_id=fields.teacher_id,
        description=description,
        hour_tenths=fields.hour_tenths,
        org_id=fields.org_id,
    )


CODE_TAKEN = "课程编号已存在"


async def create_course(pool: asyncpg.Pool, scope: Scope, fields: CourseInput) -> Course:
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        fields = await _check_course(connection, scope, fields)
        try:
            async with connection.transaction():
                course_id = await store.insert_course(connection, fields)
        except asyncpg.UniqueViolationError:
            raise InvalidInput({"code": CODE_TAKEN}) from None
        course = await _course(connection, scope, course_id)
        await _audit(connection, scope, "course.create", course, None, course)
        return course


async def update_course(
    pool: asyncpg.Pool, scope: Scope, course_id: int, fields: CourseInput
) -> Course:
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        before = await _course(connection, scope, course_id, lock=True)
        fields = await _check_course(connection, scope, fields)
        try:
            async with connection.transaction():
                await store.update_course(connection, course_id, fields)
        except asyncpg.UniqueViolationError:
            raise InvalidInput({"code": CODE_TAKEN}) from None
        after = await _course(connection, scope, course_id)
        await _audit(connection, scope, "course.update", after, before, after)
        return after


# Teachers' profiles.


async def list_teachers(
    db: Executor, scope: Scope, *, search: str | None = None, page: int = 1
) -> Page[Teacher]:
    require(scope, "admin")
    return await store.teacher_page(db, scope.org_id, search=_search(search), number=max(page, 1))


async def get_teacher(db: Executor, scope: Scope, teacher_id: int) -> Teacher:
    require(scope, "admin")
    return await _teacher(db, scope, teacher_id)


async def _teacher(db: Executor, scope: Scope, teacher_id: int, *, lock: bool = False) -> Teacher:
    row = await store.teacher(db, scope.org_id, teacher_id, lock=lock)
    if row is None:
        raise NotFound("教师不存在")
    return Teacher(**dict(row))


async def _check_teacher(db: Executor, scope: Scope, fields: TeacherInput) -> TeacherInput:
    await _check_owner(db, scope, fields.org_id)
    errors: dict[str, str] = {}
    name = _text(errors, "name", fields.name, "教师姓名", 50)
    title = fields.title.strip()
    if len(title) > MAX_CATEGORY:
        errors["title"] = f"职称不能超过{MAX_CATEGORY}个字"
    profile = fields.profile.strip()
    if len(profile) > MAX_PROFILE:
        errors["profile"] = f"简介不能超过{MAX_PROFILE}个字"
    if errors:
        raise InvalidInput(errors)
    return TeacherInput(name=name, title=title, profile=profile, org_id=fields.org_id)


async def create_teacher(pool: asyncpg.Pool, scope: Scope, fields: TeacherInput) -> Teacher:
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        fields = await _check_teacher(connection, scope, fields)
        teacher_id = await store.insert_teacher(connection, fields)
        teacher = await _teacher(connection, scope, teacher_id)
        await _audit(connection, scope, "teacher.create", teacher, None, teacher)
        return teacher


async def update_teacher(
    pool: asyncpg.Pool, scope: Scope, teacher_id: int, fields: TeacherInput
) -> Teacher:
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        before = await _teacher(connection, scope, teacher_id, lock=True)
        fields = await _check_teacher(connection, scope, fields)
        await store.update_teacher(connection, teacher_id, fields)
        after = await _teacher(connection, scope, teacher_id)
        await _audit(connection, scope, "teacher.update", after, before, after)
        return after


async def _audit(
    connection: Connection,
    scope: Scope,
    action: str,
    subject: Plan | Course | Teacher,
    before: object,
    after: object,
) -> None:
    await audit.record(
        connection,
        scope,
        action,
        kind=action.split(".")[0],
        object_id=subject.id,
        org_id=subject.org_id,
        before=before,
        after=after,
    )
