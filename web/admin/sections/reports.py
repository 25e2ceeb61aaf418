"""统计报表: completion, yearly hours, exams and revenue of the administrator's learners, each a
page with a chart and a CSV export streamed as it is read."""

from collections.abc import AsyncIterator
from urllib.parse import quote

from aiohttp import web

from engine.accounts import admin as accounts_admin
from engine.accounts.options import TITLE_LEVELS
from engine.admin.scope import Scope
from engine.appkeys import DB
from engine.catalog.measures import hours
from engine.errors import InvalidInput
from engine.reports import exports, service
from engine.reports.exports import METHOD_NAMES
from web.admin.charts import bar_chart
from web.admin.orgs import org_choices
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminHandler, AdminRoute, NavLink, Section
from web.decoding import parse_id
from web.requests import today

EXPORT_CHUNK = 32 * 1024
YEAR_ERROR = "年度应为数字，如 2026"


def _year(text: str) -> int | None:
    """The year of a filter (None when not given); a clear error for anything else."""
    if not text:
        return None
    year = parse_id(text)
    if year is None:
        raise InvalidInput({"year": YEAR_ERROR}, YEAR_ERROR)
    return service.check_year(year)


def _export_url(request: web.Request) -> str:
    """The page's CSV export, its filters kept."""
    query = {key: value for key, value in request.query.items() if key != "page"}
    return str(request.rel_url.with_path(request.path + ".csv").with_query(query))


async def _orgs(request: web.Request, scope: Scope) -> list[tuple[int, str]]:
    return org_choices(await accounts_admin.scope_orgs(request.app[DB], scope))


async def completion_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("org_id", "year", "plan_id"))
    db = request.app[DB]
    report = await service.completion(
        db,
        scope,
        parse_id(values["org_id"]),
        _year(values["year"]),
        parse_id(values["plan_id"]),
    )
    chart = bar_chart(
        "各组织机构的培训计划完成情况",
        [line.label for line in report.orgs],
        [
            ("已通过", [line.passed for line in report.orgs]),
            ("学习中", [line.enrolled - line.passed for line in report.orgs]),
        ],
    )
    context = {
        "report": report,
        "chart": chart,
        "values": values,
        "orgs": await _orgs(request, scope),
        "export_url": _export_url(request),
        "plans": await service.offered_plans(db, scope),
    }
    return render_admin(request, scope, "admin/report_completion.html", context)


async def hours_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("org_id", "year"))
    year = _year(values["year"]) or today(request).year
    summary, page = await service.hours(
        request.app[DB], scope, parse_id(values["org_id"]), year, requested_page(request)
    )
    width = service.HOURS_BIN_TENTHS // 10
    labels = [f"{i * width}–{(i + 1) * width}" for i in range(service.HOURS_BINS - 1)]
    chart = bar_chart(
        f"{year}年度学员已修学时分布（人）",
        [*labels, f"{(service.HOURS_BINS - 1) * width}及以上"],
        [("学员", summary.bins)],
    )
    context = {
        "summary": summary,
        "page": page,
        "chart": chart,
        "values": values | {"year": str(year)},
        "orgs": await _orgs(request, scope),
        "export_url": _export_url(request),
        "hours": hours,
        "title_levels": TITLE_LEVELS,
    }
    return render_admin(request, scope, "admin/report_hours.html", context)


async def exams_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("org_id", "exam_id"))
    rates, chosen, bins = await service.exams(
        request.app[DB], scope, parse_id(values["org_id"]), parse_id(values["exam_id"])
    )
    chart = bar_chart(
        f"{chosen.title}：最高分分布（人）" if chosen else "",
        [f"{b.low}–{b.high}" for b in bins],
        [("学员", [b.learners for b in bins])],
    )
    context = {
        "rates": rates,
        "chosen": chosen,
        "bins": bins,
        "chart": chart,
        "values": values,
        "orgs": await _orgs(request, scope),
        "export_url": _export_url(request),
    }
    return render_admin(request, scope, "admin/report_exams.html", context)


async def revenue_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("org_id", "year"))
    year = _year(values["year"]) or today(request).year
    report = await service.revenue(request.app[DB], scope, parse_id(values["org_id"]), year)
    chart = bar_chart(
        f"{year}年度每月净收入（已扣除退款）",
        [month[5:] + "月" for month in report.months],
        [
            (METHOD_NAMES[method], [report.by_month_method[m][method] / 100 for m in report.months])
            for method in service.METHODS
        ],
        lambda value: f"{'-' if value < 0 else ''}¥{abs(value):,.0f}",
    )
    context = {
        "report": report,
        "chart": chart,
        "values": values | {"year": str(year)},
        "orgs": await _orgs(request, scope),
        "export_url": _export_url(request),
        "method_names": METHOD_NAMES,
    }
    return render_admin(request, scope, "admin/report_revenue.html", context)


async def _stream(
    request: web.Request, filename: str, lines: AsyncIterator[bytes]
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    chunk = bytearray()
    async for line in lines:
        chunk += line
        if len(chunk) >= EXPORT_CHUNK:
            await response.write(bytes(chunk))
            chunk.clear()
    await response.write(bytes(chunk))
    await response.write_eof()
    return response


async def completion_csv(request: web.Request, scope: Scope) -> web.StreamResponse:
    values = filter_values(request, ("org_id", "year", "plan_id"))
    year = _year(values["year"])
    root = await exports.open_export(
        request.app[DB], scope, "completion", parse_id(values["org_id"])
    )
    lines = exports.completion_lines(request.app[DB], root, year, parse_id(values["plan_id"]))
    return await _stream(request, "培训计划完成情况.csv", lines)


async def hours_csv(request: web.Request, scope: Scope) -> web.StreamResponse:
    values = filter_values(request, ("org_id", "year"))
    year = _year(values["year"]) or today(request).year
    root = await exports.open_export(request.app[DB], scope, "hours", parse_id(values["org_id"]))
    return await _stream(
        request, f"{year}年度学时达标.csv", exports.hours_lines(request.app[DB], root, year)
    )


async def exams_csv(request: web.Request, scope: Scope) -> web.StreamResponse:
    values = filter_values(request, ("org_id", "exam_id"))
    root = await exports.open_export(request.app[DB], scope, "exams", parse_id(values["org_id"]))
    lines = exports.exam_lines(request.app[DB], root, parse_id(values["exam_id"]))
    return await _stream(request, "考试成绩统计.csv", lines)


async def revenue_csv(request: web.Request, scope: Scope) -> web.StreamResponse:
    values = filter_values(request, ("org_id", "year"))
    year = _year(values["year"]) or today(request).year
    root = await exports.open_export(request.app[DB], scope, "revenue", parse_id(values["org_id"]))
    return await _stream(
        request, f"{year}年度收入统计.csv", exports.revenue_lines(request.app[DB], root, year)
    )


def _get(path: str, handler: AdminHandler, example: dict[str, str]) -> AdminRoute:
    return AdminRoute(method="GET", path=path, handler=handler, role="admin", example=example)


SECTION = Section(
    title="统计报表",
    order=80,
    links=(
        NavLink("完成情况", "/admin/reports/completion", "admin"),
        NavLink("学时达标", "/admin/reports/hours", "admin"),
        NavLink("考试统计", "/admin/reports/exams", "admin"),
        NavLink("收入统计", "/admin/reports/revenue", "admin"),
    ),
    routes=(
        _get("/admin/reports/completion", completion_page, {"year": "2026"}),
        _get("/admin/reports/completion.csv", completion_csv, {"year": "2026"}),
        _get("/admin/reports/hours", hours_page, {"year": "2026", "page": "1"}),
        _get("/admin/reports/hours.csv", hours_csv, {"year": "2026"}),
        _get("/admin/reports/exams", exams_page, {}),
        _get("/admin/reports/exams.csv", exams_csv, {}),
        _get("/admin/reports/revenue", revenue_page, {"year": "2026"}),
        _get("/admin/reports/revenue.csv", revenue_csv, {"year": "2026"}),
    ),
)
