"""Walk factories of the catalogue: teachers' profiles and chapters (plans and courses are
built by tests/admin_world/accounts.py)."""

from tests.admin_world import Objects, factory


@factory("teacher_id")
async def teacher(objects: Objects, org_id: int) -> int:
    teacher_id: int = await objects.connection.fetchval(
        "INSERT INTO teachers (name, title, org_id) VALUES ('李老师', '副教授', $1) RETURNING id",
        org_id,
    )
    return teacher_id


@factory("chapter_id")
async def chapter(objects: Objects, org_id: int) -> int:
    """The first of two chapters of a course (so that it can move down), nobody's progress
    in it (so that it can be deleted or given another video)."""
    course_id = await objects.get("course_id")
    first: int = await objects.connection.fetchval(
        """INSERT INTO chapters (course_id, position, title, media, duration_s)
           VALUES ($1, 1, '第一节', 'demo/clip1.mp4', 90), ($1, 2, '第二节', 'demo/clip3.mp4', 120)
           RETURNING id""",
        course_id,
    )
    return first
