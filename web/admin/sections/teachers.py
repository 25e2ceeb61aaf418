"""教师账号: teacher accounts of the scope, a new one, the courses each teaches, and its
password reset, lock and unlock."""

from collections.abc import Mapping

from aiohttp import web

from engine.accounts import admin, teacher_admin
from engine.accounts.types import LearnerFilters
from engine.admin.scope import Scope
from engine.appkeys import DB, LOGIN_SESSIONS
from engine.errors import Conflict, InvalidInput
from web.admin.orgs import org_choices
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute, NavLink, Section
from web.decoding import parse_id, path_id
from web.flash import flash_redirect
from web.requests import now, today

FILTERS = ("q", "org_id")
STAFF_FIELDS = ("username", "real_name", "phone", "id_type", "id_number", "org_id")


async def teachers_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, FILTERS)
    filters = LearnerFilters(q=values["q"], org_id=parse_id(values["org_id"]))
    db = request.app[DB]
    page = await teacher_admin.search_teachers(db, scope, filters, requested_page(request))
    orgs = org_choices(await admin.scope_orgs(db, scope))
    context = {"page": page, "values": values, "orgs": orgs}
    return render_admin(request, scope, "admin/teachers.html", context)


async def new_teacher_page(request: web.Request, scope: Scope) -> web.Response:
    return await _new_teacher_form(request, scope, {"id_type": "id_card"}, {})


async def create_teacher(request: web.Request, scope: Scope) -> web.Response:
    form = await request.post()
    data = {name: str(form.get(name, "")) for name in STAFF_FIELDS}
    try:
        teacher, password = await teacher_admin.create_teacher(
            request.app[DB], scope, data, today(request)
        )
    except (InvalidInput, Conflict) as exc:
        return await _new_teacher_form(request, scope, data, exc.fields, status=exc.status)
    return await _teacher(request, scope, teacher.id, temporary_password=password)


async def teacher_page(request: web.Request, scope: Scope) -> web.Response:
    return await _teacher(request, scope, path_id(request, "teacher_user_id"))


async def grant(request: web.Request, scope: Scope) -> web.StreamResponse:
    teacher_id = path_id(request, "teacher_user_id")
    course_id = parse_id(str((await request.post()).get("course_id", "")))
    if course_id is None:
        raise flash_redirect(f"/admin/teacher-accounts/{teacher_id}", "请选择课程", error=True)
    await teacher_admin.grant(request.app[DB], scope, teacher_id, course_id)
    raise flash_redirect(f"/admin/teacher-accounts/{teacher_id}", "已授权该课程")


async def revoke(request: web.Request, scope: Scope) -> web.StreamResponse:
    teacher_id = path_id(request, "teacher_user_id")
    course_id = path_id(request, "granted_course_id")
    await teacher_admin.revoke(request.app[DB], scope, teacher_id, course_id)
    raise flash_redirect(f"/admin/teacher-accounts/{teacher_id}", "已撤销该课程的授权")


async def reset_password(request: web.Request, scope: Scope) -> web.Response:
    teacher_id = path_id(request, "teacher_user_id")
    _, password = await admin.reset_password(
        request.app[DB], request.app[LOGIN_SESSIONS], scope, teacher_id, "teacher"
    )
    return await _teacher(request, scope, teacher_id, temporary_password=password)


async def lock(request: web.Request, scope: Scope) -> web.StreamResponse:
    teacher_id = path_id(request, "teacher_user_id")
    db, sessions = request.app[DB], request.app[LOGIN_SESSIONS]
    await admin.lock(db, sessions, scope, teacher_id, now(request), "teacher")
    raise flash_redirect(f"/admin/teacher-accounts/{teacher_id}", "账号已锁定，其登录已全部退出")


async def unlock(request: web.Request, scope: Scope) -> web.StreamResponse:
    teacher_id = path_id(request, "locked_teacher_user_id")
    await admin.unlock(request.app[DB], scope, teacher_id, "teacher")
    raise flash_redirect(f"/admin/teacher-accounts/{teacher_id}", "账号已解锁")


async def _teacher(
    request: web.Request, scope: Scope, teacher_id: int, *, temporary_password: str | None = None
) -> web.Response:
    db = request.app[DB]
    teacher = await teacher_admin.teacher(db, scope, teacher_id)
    courses = await teacher_admin.courses(db, scope, teacher_id)
    context = {
        "teacher": teacher,
        "granted": [course for course in courses if course.granted],
        "grantable": [course for course in courses if not course.granted],
        "temporary_password": temporary_password,
    }
    return render_admin(request, scope, "admin/teacher.html", context)


async def _new_teacher_form(
    request: web.Request,
    scope: Scope,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    status: int = 200,
) -> web.Response:
    orgs = org_choices(await admin.scope_orgs(request.app[DB], scope))
    context = {
        "values": values,
        "errors": errors,
        "orgs": orgs,
        "heading": "新建教师账号",
        "list_url": "/admin/teacher-accounts",
    }
    return render_admin(request, scope, "admin/account_new.html", context, status=status)


SECTION = Section(
    title="用户",
    order=12,
    links=(NavLink("教师账号", "/admin/teacher-accounts", "admin"),),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/teacher-accounts",
            handler=teachers_page,
            role="admin",
            example={"q": "用户"},
        ),
        AdminRoute(
            method="GET",
            path="/admin/teacher-accounts/new",
            handler=new_teacher_page,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/teacher-accounts",
            handler=create_teacher,
            role="admin",
            example={
                "username": "new_teacher",
                "real_name": "张老师",
                "phone": "13900001111",
                "id_type": "passport",
                "id_number": "E12345678",
                "org_id": "{org_id}",
            },
        ),
        AdminRoute(
            method="GET",
            path="/admin/teacher-accounts/{teacher_user_id}",
            handler=teacher_page,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/teacher-accounts/{teacher_user_id}/password",
            handler=reset_password,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/teacher-accounts/{teacher_user_id}/lock",
            handler=lock,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/teacher-accounts/{locked_teacher_user_id}/unlock",
            handler=unlock,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/teacher-accounts/{teacher_user_id}/courses",
            handler=grant,
            role="admin",
            example={"course_id": "{course_id}"},
        ),
        AdminRoute(
            method="POST",
            path="/admin/teacher-accounts/{teacher_user_id}/courses/{granted_course_id}/revoke",
            handler=revoke,
            role="admin",
        ),
    ),
)
