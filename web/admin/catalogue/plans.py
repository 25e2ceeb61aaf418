"""培训计划: the list (filtered and paged on the server), a new plan, a plan's form with its
courses (kept or removed, compulsory or elective, examined or not, more added by code)."""

from collections.abc import Mapping

from aiohttp import web

from engine.accounts.admin import scope_orgs
from engine.admin.scope import Scope
from engine.appkeys import DB
from engine.catalog import admin
from engine.catalog.admin_types import Plan, PlanCourseInput
from engine.errors import InvalidInput
from web.admin.catalogue.forms import PlanForm, plan_courses, plan_input, plan_values
from web.admin.orgs import org_choices
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute
from web.decoding import parse_id, path_id, read_form
from web.flash import flash_redirect
from web.pages import echo

FILTERS = ("q", "kind", "year")
KINDS = (("public", "公需科目"), ("professional", "专业科目"))


async def plans_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, FILTERS)
    year = parse_id(values["year"])  # a positive whole number, as an id is
    page = await admin.list_plans(
        request.app[DB],
        scope,
        kind=values["kind"] or None,
        year=year,
        search=values["q"],
        page=requested_page(request),
    )
    context = {"page": page, "values": values, "kinds": KINDS, "kind_labels": dict(KINDS)}
    return render_admin(request, scope, "admin/plans.html", context)


async def new_plan_page(request: web.Request, scope: Scope) -> web.Response:
    return await _form(request, scope, None, {"kind": "public"}, {})


async def create_plan(request: web.Request, scope: Scope) -> web.StreamResponse:
    try:
        fields = plan_input(await read_form(request, PlanForm))
        courses = await _courses(request, scope)
        plan = await admin.create_plan(request.app[DB], scope, fields, courses)
    except InvalidInput as exc:
        return await _form(request, scope, None, await echo(request), exc.fields, exc.status)
    raise flash_redirect(f"/admin/plans/{plan.id}", "培训计划已创建")


async def plan_page(request: web.Request, scope: Scope) -> web.Response:
    plan = await admin.get_plan(request.app[DB], scope, path_id(request, "plan_id"))
    return await _form(request, scope, plan, plan_values(plan), {})


async def update_plan(request: web.Request, scope: Scope) -> web.StreamResponse:
    db, plan_id = request.app[DB], path_id(request, "plan_id")
    try:
        fields = plan_input(await read_form(request, PlanForm))
        courses = await _courses(request, scope)
        plan = await admin.update_plan(db, scope, plan_id, fields, courses)
    except InvalidInput as exc:
        current = await admin.get_plan(db, scope, plan_id)
        return await _form(request, scope, current, await echo(request), exc.fields, exc.status)
    raise flash_redirect(f"/admin/plans/{plan.id}", "培训计划已保存")


async def _courses(request: web.Request, scope: Scope) -> list[PlanCourseInput]:
    """The courses the form keeps, then those added by code (elective, not examined)."""
    kept = await plan_courses(request)
    listed = {course.course_id for course in kept}
    codes = str((await request.post()).get("add_codes", ""))
    written = codes.replace("，", " ").replace(",", " ").split()
    added = await admin.course_ids(request.app[DB], scope, written) if written else []
    return kept + [
        PlanCourseInput(course_id=course_id) for course_id in added if course_id not in listed
    ]


async def _form(
    request: web.Request,
    scope: Scope,
    plan: Plan | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> web.Response:
    context = {
        "plan": plan,
        "values": values,
        "errors": errors,
        "kinds": KINDS,
        "orgs": org_choices(await scope_orgs(request.app[DB], scope)),
    }
    return render_admin(request, scope, "admin/plan.html", context, status=status)


PLAN_EXAMPLE = {
    "title": "2026年公需科目",
    "kind": "public",
    "year": "2026",
    "compulsory_hours": "10",
    "elective_hours": "14",
    "price_per_hour": "5",
    "opens_on": "2026-01-01",
    "closes_on": "2026-12-31",
    "org_id": "{org_id}",
    "course_id": "{course_id}",
    "compulsory": "{course_id}",
}

ROUTES = (
    AdminRoute(
        method="GET",
        path="/admin/plans",
        handler=plans_page,
        role="admin",
        example={"q": "公需", "kind": "public", "year": "2026", "page": "1"},
    ),
    AdminRoute(method="GET", path="/admin/plans/new", handler=new_plan_page, role="admin"),
    AdminRoute(
        method="POST", path="/admin/plans", handler=create_plan, role="admin", example=PLAN_EXAMPLE
    ),
    AdminRoute(method="GET", path="/admin/plans/{plan_id}", handler=plan_page, role="admin"),
    AdminRoute(
        method="POST",
        path="/admin/plans/{plan_id}",
        handler=update_plan,
        role="admin",
        example=PLAN_EXAMPLE,
    ),
)
