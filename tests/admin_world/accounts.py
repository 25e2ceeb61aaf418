"""Walk factories of the administration's own objects: organisations, learners, teacher
accounts, and the plans and courses an organisation owns (other parts build on these)."""

from tests.admin_world import Objects, factory, insert_org, insert_user, unique


@factory("org_id")
async def child_org(objects: Objects, org_id: int) -> int:
    """A new organisation below `org_id` (so changing it leaves the world's own alone)."""
    return await insert_org(objects.connection, unique("下级组织"), org_id)


@factory("learner_id")
async def learner(objects: Objects, org_id: int) -> int:
    return await insert_user(objects.connection, org_id)


@factory("teacher_user_id")
async def teacher_account(objects: Objects, org_id: int) -> int:
    return await insert_user(objects.connection, org_id, role="teacher")


@factory("course_id")
async def course(objects: Objects, org_id: int) -> int:
    course_id: int = await objects.connection.fetchval(
        "INSERT INTO courses (code, title, hour_tenths, org_id) VALUES ($1, $1, 20, $2)"
        " RETURNING id",
        unique("course"),
        org_id,
    )
    return course_id


@factory("plan_id")
async def plan(objects: Objects, org_id: int) -> int:
    plan_id: int = await objects.connection.fetchval(
        """INSERT INTO plans (code, title, kind, year, elective_tenths, opens_at, closes_at,
                              org_id)
           VALUES ($1, $1, 'public', 2026, 20, '2000-01-01', '2100-01-01', $2) RETURNING id""",
        unique("plan"),
        org_id,
    )
    return plan_id


@factory("locked_learner_id")
async def locked_learner(objects: Objects, org_id: int) -> int:
    user_id = await insert_user(objects.connection, org_id)
    await objects.connection.execute("UPDATE users SET locked_at = now() WHERE id = $1", user_id)
    return user_id


@factory("granted_course_id")
async def granted_course(objects: Objects, org_id: int) -> int:
    """A course of the organisation that the route's `{teacher_user_id}` teaches."""
    course_id = int(await objects.get("course_id"))
    await objects.connection.execute(
        "INSERT INTO course_teachers (course_id, user_id) VALUES ($1, $2)",
        course_id,
        await objects.get("teacher_user_id"),
    )
    return course_id


@factory("locked_teacher_user_id")
async def locked_teacher_account(objects: Objects, org_id: int) -> int:
    user_id = await insert_user(objects.connection, org_id, role="teacher")
    await objects.connection.execute("UPDATE users SET locked_at = now() WHERE id = $1", user_id)
    return user_id
