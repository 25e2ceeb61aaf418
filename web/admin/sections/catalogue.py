"""课程: plans, courses with their chapters, teachers' profiles."""

from web.admin.catalogue import chapters, courses, plans
from web.admin.routing import NavLink, Section

SECTION = Section(
    title="课程",
    order=20,
    links=(
        NavLink("培训计划", "/admin/plans", "admin"),
        NavLink("课程管理", "/admin/courses", "admin", also=("/admin/chapters",)),
        NavLink("授课教师", "/admin/teachers", "admin"),
    ),
    routes=plans.ROUTES + courses.COURSE_ROUTES + chapters.ROUTES + courses.TEACHER_ROUTES,
)
