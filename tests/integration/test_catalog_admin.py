"""The catalogue's administration called as each role on objects of organisations A and B:
plans, courses, teachers' profiles. A refusal (403 for a role too low, 404 outside the
scope, 400 for a form naming something outside it) changes nothing, audit log included."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.admin.scope import scope_of
from engine.catalog import admin
from engine.catalog.admin_types import CourseInput, Plan, PlanCourseInput, TeacherInput
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.integration.catalog_world import World, audit_rows, built_world, refused


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with built_world(database_url) as built:
        yield built


def links(plan: Plan) -> list[PlanCourseInput]:
    return [
        PlanCourseInput(course_id=c.course_id, compulsory=c.compulsory, examined=c.examined)
        for c in plan.courses
    ]


def test_a_learner_has_no_scope_at_all() -> None:
    with pytest.raises(Forbidden):
        scope_of(1, "learner_a", "learner", 1)


# Who sees and edits whose plan: (actor, owner of the plan) → the error, or None for allowed.
ACCESS = [
    ("super", "A", None),
    ("super", "B", None),
    ("super", "platform", None),
    ("admin_a", "A", None),
    ("admin_a", "B", NotFound),
    ("admin_a", "platform", NotFound),
    ("admin_b", "A", NotFound),
    ("admin_b", "B", None),
    ("teacher_a", "A", Forbidden),
    ("teacher_a", "B", Forbidden),
]


@pytest.mark.parametrize(("actor", "owner", "error"), ACCESS)
async def test_plans_by_role_and_scope(
    world: World, actor: str, owner: str, error: type[Exception] | None
) -> None:
    scope, plan_id = world.scopes[actor], world.plans[owner]
    org = None if owner == "platform" else owner
    fields = world.plan_input(org, title="改过的计划")
    courses = [PlanCourseInput(course_id=world.courses[owner], compulsory=True, examined=True)]
    if error is not None:
        await refused(world, error, lambda: admin.get_plan(world.pool, scope, plan_id))
        await refused(
            world, error, lambda: admin.update_plan(world.pool, scope, plan_id, fields, courses)
        )
        return
    assert (await admin.get_plan(world.pool, scope, plan_id)).title == f"计划{owner}"
    plan = await admin.update_plan(world.pool, scope, plan_id, fields, courses)
    assert (plan.title, plan.compulsory_tenths) == ("改过的计划", 100)
    assert links(plan) == courses
    [row] = await audit_rows(world, "plan.update")
    assert row["actor_name"] == actor
    assert row["object_id"] == str(plan_id)
    assert row["org_id"] == (world.orgs[owner] if org else None)
    assert '"title": "计划' in row["before"]
    assert '"title": "改过的计划"' in row["after"]


async def test_lists_hold_only_what_is_in_scope(world: World) -> None:
    async def titles(actor: str) -> set[str]:
        page = await admin.list_plans(world.pool, world.scopes[actor])
        return {plan.title for plan in page.items}

    assert await titles("super") == {"计划A", "计划B", "计划platform"}
    assert await titles("admin_a") == {"计划A"}
    assert await titles("admin_b") == {"计划B"}
    courses = await admin.list_courses(world.pool, world.scopes["admin_b"])
    assert [course.title for course in courses.items] == ["课程B"]
    teachers = await admin.list_teachers(world.pool, world.scopes["admin_a"])
    assert [teacher.name for teacher in teachers.items] == ["教师A"]
    with pytest.raises(Forbidden):
        await admin.list_plans(world.pool, world.scopes["teacher_a"])


async def test_plan_lists_filter_and_paginate_on_the_server(world: World) -> None:
    scope = world.scopes["admin_a"]
    for number in range(1, 46):
        await admin.create_plan(
            world.pool,
            scope,
            world.plan_input("A1", title=f"第{number}期专业科目", kind="professional", year=2025),
        )
    first = await admin.list_plans(world.pool, scope, kind="professional")
    assert (first.total, first.pages, len(first.items)) == (45, 3, 20)
    last = await admin.list_plans(world.pool, scope, kind="professional", page=3)
    assert [plan.title for plan in last.items][-1] == "第1期专业科目"
    found = await admin.list_plans(world.pool, scope, search="第12期", year=2025)
    assert [plan.title for plan in found.items] == ["第12期专业科目"]
    assert (await admin.list_plans(world.pool, scope, year=2024)).total == 0


async def test_an_administrator_creates_plans_only_within_its_subtree(world: World) -> None:
    scope = world.scopes["admin_a"]
    own = [PlanCourseInput(course_id=world.courses["A"], compulsory=True)]
    plan = await admin.create_plan(world.pool, scope, world.plan_input("A1"), own)
    assert (plan.org_id, links(plan)) == (world.orgs["A1"], own)
    [row] = await audit_rows(world, "plan.create")
    assert (row["actor_name"], row["org_id"], row["before"]) == ("admin_a", world.orgs["A1"], None)

    # What lies outside the scope is not found; the platform is no administrator's to pick.
    for fields, courses, error in (
        (world.plan_input("B"), [], NotFound),
        (world.plan_input(None), [], InvalidInput),
        (world.plan_input("A"), [PlanCourseInput(course_id=world.courses["B"])], NotFound),
        (world.plan_input("A"), [PlanCourseInput(course_id=world.courses["platform"])], NotFound),
    ):
        await refused(
            world,
            error,
            lambda fields=fields, courses=courses: admin.create_plan(
                world.pool, scope, fields, courses
            ),
        )
    # The super administrator alone makes the platform's plans.
    platform = await admin.create_plan(world.pool, world.scopes["super"], world.plan_input(None))
    assert platform.org_id is None


async def test_plan_input_is_checked_with_chinese_messages(world: World) -> None:
    scope = world.scopes["admin_a"]
    bad = world.plan_input(
        "A",
        title="  ",
        year=1999,
        compulsory_tenths=0,
        elective_tenths=0,
        price_per_hour_fen=-1,
        closes_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(InvalidInput) as caught:
        await admin.create_plan(world.pool, scope, bad)
    assert caught.value.fields == {
        "title": "请填写计划名称",
        "year": "年度应在2000至2100之间",
        "elective_tenths": "必修和选修学时不能都为0",
        "price_per_hour_fen": "每学时价格应在0至10000元之间",
        "closes_at": "结束时间应晚于开始时间",
    }
    twice = [PlanCourseInput(course_id=world.courses["A"])] * 2
    with pytest.raises(InvalidInput, match="请检查"):
        await admin.create_plan(world.pool, scope, world.plan_input("A"), twice)


async def test_a_course_learners_selected_stays_in_the_plan(world: World) -> None:
    plan_id, course_id = world.plans["A"], world.courses["A"]
    async with world.pool.acquire() as connection:
        await connection.execute(
            "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2)",
            world.users["learner_a"],
            plan_id,
        )
        await connection.execute(
            """INSERT INTO selections (learner_id, plan_id, course_id, source)
               VALUES ($1, $2, $3, 'purchase')""",
            world.users["learner_a"],
            plan_id,
            course_id,
        )
    scope = world.scopes["admin_a"]
    await refused(
        world,
        Conflict,
        lambda: admin.update_plan(world.pool, scope, plan_id, world.plan_input("A"), []),
    )
    with pytest.raises(Conflict, match="已有1名学员选择了要移除的课程"):
        await admin.update_plan(world.pool, scope, plan_id, world.plan_input("A"), [])


@pytest.mark.parametrize(("actor", "owner", "error"), ACCESS)
async def test_courses_by_role_and_scope(
    world: World, actor: str, owner: str, error: type[Exception] | None
) -> None:
    scope, course_id = world.scopes[actor], world.courses[owner]
    org = world.orgs.get(owner)
    fields = CourseInput(
        code=f"new-{owner}",
        title="新课程名",
        teacher_id=world.teachers[owner],
        description="简介",
        hour_tenths=15,
        org_id=org,
    )
    if error is not None:
        await refused(world, error, lambda: admin.get_course(world.pool, scope, course_id))
        await refused(
            world, error, lambda: admin.update_course(world.pool, scope, course_id, fields)
        )
        return
    course = await admin.update_course(world.pool, scope, course_id, fields)
    assert (course.code, course.title, course.hour_tenths) == (f"new-{owner}", "新课程名", 15)
    [row] = await audit_rows(world, "course.update")
    assert (row["actor_name"], row["object_id"]) == (actor, str(course_id))


async def test_courses_are_created_within_scope_with_a_teacher_of_it(world: World) -> None:
    scope = world.scopes["admin_a"]

    def fields(**changes: Any) -> CourseInput:
        base: dict[str, Any] = {
            "code": "kj-2026-01",
            "title": "会计准则解读",
            "teacher_id": world.teachers["A"],
            "hour_tenths": 20,
            "org_id": world.orgs["A1"],
        }
        return CourseInput(**{**base, **changes})

    course = await admin.create_course(world.pool, scope, fields())
    assert (course.teacher_name, course.org_id) == ("教师A", world.orgs["A1"])
    assert len(await audit_rows(world, "course.create")) == 1
    for changes in ({"teacher_id": world.teachers["B"]}, {"org_id": world.orgs["B"]}):
        await refused(
            world,
            NotFound,
            lambda changes=changes: admin.create_course(world.pool, scope, fields(**changes)),
        )
    for changes, field, message in (
        ({"org_id": None}, "org_id", "请选择所属单位"),
        ({"code": "kj-2026-01"}, "code", "课程编号已存在"),
        ({"code": "会计 01"}, "code", "课程编号只能包含字母、数字、-和_"),
        ({"hour_tenths": 0}, "hour_tenths", "学时应在0.1至1000之间"),
    ):
        before = await world.snapshot()
        with pytest.raises(InvalidInput) as caught:
            await admin.create_course(world.pool, scope, fields(**changes))
        assert caught.value.fields[field] == message
        assert await world.snapshot() == before


@pytest.mark.parametrize(("actor", "owner", "error"), ACCESS)
async def test_teachers_by_role_and_scope(
    world: World, actor: str, owner: str, error: type[Exception] | None
) -> None:
    scope, teacher_id = world.scopes[actor], world.teachers[owner]
    fields = TeacherInput(
        name="王老师", title="教授", profile="注册会计师", org_id=world.orgs.get(owner)
    )
    if error is not None:
        await refused(world, error, lambda: admin.get_teacher(world.pool, scope, teacher_id))
        await refused(
            world, error, lambda: admin.update_teacher(world.pool, scope, teacher_id, fields)
        )
        return
    teacher = await admin.update_teacher(world.pool, scope, teacher_id, fields)
    assert (teacher.name, teacher.title, teacher.profile) == ("王老师", "教授", "注册会计师")
    [row] = await audit_rows(world, "teacher.update")
    assert row["actor_name"] == actor


async def test_an_administrator_cannot_move_an_object_out_of_its_subtree(world: World) -> None:
    scope = world.scopes["admin_a"]
    await refused(
        world,
        NotFound,
        lambda: admin.update_teacher(
            world.pool,
            scope,
            world.teachers["A"],
            TeacherInput(name="教师A", org_id=world.orgs["B"]),
        ),
    )
    teacher = await admin.create_teacher(
        world.pool, scope, TeacherInput(name="新教师", org_id=world.orgs["A1"])
    )
    assert teacher.org_id == world.orgs["A1"]
    assert len(await audit_rows(world, "teacher.create")) == 1
