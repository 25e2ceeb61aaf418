"""课程管理 and 授课教师: lists, forms to create and edit; a course's page lists its chapters
(web/admin/catalogue/chapters.py changes them)."""

from collections.abc import Mapping

from aiohttp import web

from engine.accounts.admin import scope_orgs
from engine.admin.scope import Scope
from engine.appkeys import DB, SETTINGS
from engine.catalog import admin, chapter_admin
from engine.catalog.admin_types import Course, Teacher
from engine.errors import InvalidInput
from web.admin.catalogue.forms import (
    CourseForm,
    TeacherForm,
    course_input,
    course_values,
    teacher_input,
    teacher_values,
)
from web.admin.orgs import org_choices
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute
from web.decoding import path_id, read_form
from web.flash import flash_redirect
from web.pages import echo


async def courses_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("q",))
    page = await admin.list_courses(
        request.app[DB], scope, search=values["q"], page=requested_page(request)
    )
    return render_admin(request, scope, "admin/courses.html", {"page": page, "values": values})


async def new_course_page(request: web.Request, scope: Scope) -> web.Response:
    return await _course_form(request, scope, None, {}, {})


async def create_course(request: web.Request, scope: Scope) -> web.StreamResponse:
    try:
        fields = course_input(await read_form(request, CourseForm))
        course = await admin.create_course(request.app[DB], scope, fields)
    except InvalidInput as exc:
        return await _course_form(request, scope, None, await echo(request), exc.fields, exc.status)
    raise flash_redirect(f"/admin/courses/{course.id}", "课程已创建，请添加章节")


async def course_page(request: web.Request, scope: Scope) -> web.Response:
    course = await admin.get_course(request.app[DB], scope, path_id(request, "course_id"))
    return await _course_form(request, scope, course, course_values(course), {})


async def update_course(request: web.Request, scope: Scope) -> web.StreamResponse:
    db, course_id = request.app[DB], path_id(request, "course_id")
    try:
        fields = course_input(await read_form(request, CourseForm))
        course = await admin.update_course(db, scope, course_id, fields)
    except InvalidInput as exc:
        current = await admin.get_course(db, scope, course_id)
        return await _course_form(
            request, scope, current, await echo(request), exc.fields, exc.status
        )
    raise flash_redirect(f"/admin/courses/{course.id}", "课程已保存")


async def _course_form(
    request: web.Request,
    scope: Scope,
    course: Course | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> web.Response:
    db = request.app[DB]
    context = {
        "course": course,
        "chapters": await chapter_admin.list_chapters(db, scope, course.id) if course else [],
        "values": values,
        "errors": errors,
        "teachers": await admin.teacher_choices(db, scope),
        "orgs": org_choices(await scope_orgs(db, scope)),
        "upload_max_mb": request.app[SETTINGS].upload_max_mb,
    }
    return render_admin(request, scope, "admin/course.html", context, status=status)


async def teachers_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("q",))
    page = await admin.list_teachers(
        request.app[DB], scope, search=values["q"], page=requested_page(request)
    )
    return render_admin(
        request, scope, "admin/teacher_profiles.html", {"page": page, "values": values}
    )


async def new_teacher_page(request: web.Request, scope: Scope) -> web.Response:
    return await _teacher_form(request, scope, None, {}, {})


async def create_teacher(request: web.Request, scope: Scope) -> web.StreamResponse:
    try:
        fields = teacher_input(await read_form(request, TeacherForm))
        teacher = await admin.create_teacher(request.app[DB], scope, fields)
    except InvalidInput as exc:
        return await _teacher_form(
            request, scope, None, await echo(request), exc.fields, exc.status
        )
    raise flash_redirect(f"/admin/teachers/{teacher.id}", "教师已添加")


async def teacher_page(request: web.Request, scope: Scope) -> web.Response:
    teacher = await admin.get_teacher(request.app[DB], scope, path_id(request, "teacher_id"))
    return await _teacher_form(request, scope, teacher, teacher_values(teacher), {})


async def update_teacher(request: web.Request, scope: Scope) -> web.StreamResponse:
    db, teacher_id = request.app[DB], path_id(request, "teacher_id")
    try:
        fields = teacher_input(await read_form(request, TeacherForm))
        teacher = await admin.update_teacher(db, scope, teacher_id, fields)
    except InvalidInput as exc:
        current = await admin.get_teacher(db, scope, teacher_id)
        return await _teacher_form(
            request, scope, current, await echo(request), exc.fields, exc.status
        )
    raise flash_redirect(f"/admin/teachers/{teacher.id}", "教师信息已保存")


async def _teacher_form(
    request: web.Request,
    scope: Scope,
    teacher: Teacher | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> web.Response:
    context = {
        "teacher": teacher,
        "values": values,
        "errors": errors,
        "orgs": org_choices(await scope_orgs(request.app[DB], scope)),
    }
    return render_admin(request, scope, "admin/teacher_profile.html", context, status=status)


COURSE_EXAMPLE = {
    "code": "kj-walk",
    "title": "会计准则解读",
    "teacher_id": "{teacher_id}",
    "description": "准则要点",
    "hours": "1.5",
    "org_id": "{org_id}",
}
TEACHER_EXAMPLE = {"name": "王老师", "title": "教授", "profile": "注册会计师", "org_id": "{org_id}"}

COURSE_ROUTES = (
    AdminRoute(
        method="GET",
        path="/admin/courses",
        handler=courses_page,
        role="admin",
        example={"q": "会计", "page": "1"},
    ),
    AdminRoute(method="GET", path="/admin/courses/new", handler=new_course_page, role="admin"),
    AdminRoute(
        method="POST",
        path="/admin/courses",
        handler=create_course,
        role="admin",
        example=COURSE_EXAMPLE,
    ),
    AdminRoute(method="GET", path="/admin/courses/{course_id}", handler=course_page, role="admin"),
    AdminRoute(
        method="POST",
        path="/admin/courses/{course_id}",
        handler=update_course,
        role="admin",
        example=COURSE_EXAMPLE,
    ),
)

TEACHER_ROUTES = (
    AdminRoute(
        method="GET",
        path="/admin/teachers",
        handler=teachers_page,
        role="admin",
        example={"q": "王", "page": "1"},
    ),
    AdminRoute(method="GET", path="/admin/teachers/new", handler=new_teacher_page, role="admin"),
    AdminRoute(
        method="POST",
        path="/admin/teachers",
        handler=create_teacher,
        role="admin",
        example=TEACHER_EXAMPLE,
    ),
    AdminRoute(
        method="GET", path="/admin/teachers/{teacher_id}", handler=teacher_page, role="admin"
    ),
    AdminRoute(
        method="POST",
        path="/admin/teachers/{teacher_id}",
        handler=update_teacher,
        role="admin",
        example=TEACHER_EXAMPLE,
    ),
)
