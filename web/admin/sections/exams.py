"""题库与考试: courses with their banks, importing a bank file, editing and deleting
questions, a course's exams created and edited, and the results downloaded as CSV."""

from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from engine.admin.scope import Scope
from engine.appkeys import CLOCK, DB
from engine.errors import Conflict, InvalidInput
from engine.exams import admin, result_export
from engine.exams.bank_file import MAX_BYTES, BankFileRefused, template_csv, template_xlsx
from engine.exams.exam_form import exam_fields
from engine.exams.question_form import KIND_NAMES, question_fields
from engine.exams.types import KINDS
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import UPLOAD, AdminRoute, NavLink, Section, Upload
from web.decoding import path_id
from web.flash import flash_redirect

KIND_CHOICES = list(KIND_NAMES.items())
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The results are written in chunks of about this size: one write per learner is wasteful.
EXPORT_CHUNK = 32 * 1024
# A new exam's form starts from these.
EXAM_DEFAULTS = {
    "duration_min": "60",
    "total_score": "100",
    "pass_score": "60",
    "attempts_allowed": "3",
    **{f"recipe_{kind}": "0" for kind in KINDS},
}


def _form_values(form: Any) -> dict[str, str]:
    return {name: value for name, value in form.items() if isinstance(value, str)}


async def banks_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("q",))
    page = await admin.course_banks(
        request.app[DB], scope, query=values["q"], page=requested_page(request)
    )
    context = {"page": page, "values": values, "kinds": KIND_NAMES}
    return render_admin(request, scope, "admin/banks.html", context)


async def _render_bank(
    request: web.Request, scope: Scope, import_errors: BankFileRefused | None = None
) -> web.Response:
    values = filter_values(request, ("kind", "q"))
    kind = next((kind for kind in KINDS if kind == values["kind"]), None)
    view = await admin.bank(
        request.app[DB],
        scope,
        path_id(request, "course_id"),
        kind=kind,
        query=values["q"],
        page=requested_page(request),
    )
    context = {
        "view": view,
        "values": values,
        "kinds": KIND_NAMES,
        "kind_choices": KIND_CHOICES,
        "import_errors": import_errors,
        "max_mb": MAX_BYTES // 1024 // 1024,
    }
    return render_admin(
        request, scope, "admin/bank.html", context, status=400 if import_errors else 200
    )


async def bank_page(request: web.Request, scope: Scope) -> web.Response:
    return await _render_bank(request, scope)


async def import_bank(request: web.Request, scope: Scope) -> web.StreamResponse:
    """The file is read in chunks up to the size limit; a refused file shows the bank page
    again with every error."""
    course_id = path_id(request, "course_id")
    try:
        filename, data = await _uploaded_file(request)
        report = await admin.import_bank(
            request.app[DB], scope, course_id, data, filename, request.app[CLOCK]()
        )
    except BankFileRefused as refused:
        return await _render_bank(request, scope, refused)
    raise flash_redirect(f"/admin/banks/{course_id}", f"已导入 {report.imported} 道题")


async def _uploaded_file(request: web.Request) -> tuple[str, bytes]:
    reader = request[UPLOAD]
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "file":
            data = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise BankFileRefused([f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请分批导入"])
            return part.filename or "", bytes(data)
    raise BankFileRefused(["请选择要导入的文件"])


async def template(request: web.Request, scope: Scope) -> web.Response:
    """The bank template, as XLSX or CSV by the path's extension."""
    if request.path.endswith(".csv"):
        body, content_type, name = template_csv(), "text/csv", "题库模板.csv"
    else:
        body, content_type, name = template_xlsx(), XLSX_TYPE, "题库模板.xlsx"
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


async def question_page(request: web.Request, scope: Scope) -> web.Response:
    question, course = await admin.question(request.app[DB], scope, path_id(request, "question_id"))
    values = question_fields(
        question.kind,
        question.stem,
        question.options,
        question.answer,
        question.score,
        question.explanation,
    )
    return _render_question(request, scope, question.id, course, values)


def _render_question(
    request: web.Request,
    scope: Scope,
    question_id: int,
    course: Any,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    error: str | None = None,
) -> web.Response:
    context = {
        "question_id": question_id,
        "course": course,
        "values": values,
        "errors": errors or {},
        "error": error,
        "kind_names": list(KIND_NAMES.values()),
    }
    status = 400 if errors else 409 if error else 200
    return render_admin(request, scope, "admin/question.html", context, status=status)


async def save_question(request: web.Request, scope: Scope) -> web.Response:
    question_id = path_id(request, "question_id")
    values = _form_values(await request.post())
    db = request.app[DB]
    try:
        saved = await admin.edit_question(db, scope, question_id, values, request.app[CLOCK]())
    except (InvalidInput, Conflict) as refused:
        _, course = await admin.question(db, scope, question_id)
        if isinstance(refused, InvalidInput):
            return _render_question(request, scope, question_id, course, values, refused.fields)
        return _render_question(request, scope, question_id, course, values, error=refused.message)
    raise flash_redirect(f"/admin/banks/{saved.course_id}", "题目已保存")


async def delete_question(request: web.Request, scope: Scope) -> web.Response:
    db = request.app[DB]
    question_id = path_id(request, "question_id")
    _, course = await admin.question(db, scope, question_id)
    await admin.delete_question(db, scope, question_id, request.app[CLOCK]())
    raise flash_redirect(f"/admin/banks/{course.id}", "题目已删除")


async def exams_page(request: web.Request, scope: Scope) -> web.Response:
    course, exams, _ = await admin.exams(request.app[DB], scope, path_id(request, "course_id"))
    return render_admin(
        request, scope, "admin/exams.html", {"course": course, "exams": exams, "kinds": KIND_NAMES}
    )


async def _render_exam(
    request: web.Request,
    scope: Scope,
    course_id: int,
    values: dict[str, str],
    *,
    exam: Any = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
) -> web.Response:
    course, _, plans = await admin.exams(request.app[DB], scope, course_id)
    counts = (await admin.bank(request.app[DB], scope, course_id)).counts
    context = {
        "course": course,
        "plans": plans,
        "counts": counts,
        "exam": exam,
        "values": values,
        "errors": errors or {},
        "error": error,
        "kinds": KIND_NAMES,
    }
    status = 400 if errors else 409 if error else 200
    return render_admin(request, scope, "admin/exam.html", context, status=status)


async def new_exam_page(request: web.Request, scope: Scope) -> web.Response:
    course_id = path_id(request, "course_id")
    return await _render_exam(request, scope, course_id, EXAM_DEFAULTS)


async def create_exam(request: web.Request, scope: Scope) -> web.Response:
    course_id = path_id(request, "banked_course_id")
    values = _form_values(await request.post())
    try:
        await admin.create_exam(request.app[DB], scope, course_id, values, request.app[CLOCK]())
    except InvalidInput as refused:
        return await _render_exam(request, scope, course_id, values, errors=refused.fields)
    raise flash_redirect(f"/admin/banks/{course_id}/exams", "考试已创建")


EXAM_STATES = (("open", "未结束"), ("closed", "已结束"))


async def all_exams_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("q", "state"))
    page = await admin.all_exams(
        request.app[DB],
        scope,
        request.app[CLOCK](),
        query=values["q"],
        state=values["state"],
        page=requested_page(request),
    )
    context = {"page": page, "values": values, "states": EXAM_STATES}
    return render_admin(request, scope, "admin/all_exams.html", context)


async def exam_page(request: web.Request, scope: Scope) -> web.Response:
    exam, course = await admin.exam(request.app[DB], scope, path_id(request, "exam_id"))
    return await _render_exam(request, scope, course.id, exam_fields(exam.rules), exam=exam)


async def save_exam(request: web.Request, scope: Scope) -> web.Response:
    db = request.app[DB]
    exam_id = path_id(request, "exam_id")
    values = _form_values(await request.post())
    try:
        await admin.edit_exam(db, scope, exam_id, values)
    except (InvalidInput, Conflict) as refused:
        exam, course = await admin.exam(db, scope, exam_id)
        if isinstance(refused, InvalidInput):
            return await _render_exam(
                request, scope, course.id, values, exam=exam, errors=refused.fields
            )
        return await _render_exam(
            request, scope, course.id, values, exam=exam, error=refused.message
        )
    exam, course = await admin.exam(db, scope, exam_id)
    raise flash_redirect(f"/admin/banks/{course.id}/exams", "考试已保存")


async def delete_exam(request: web.Request, scope: Scope) -> web.Response:
    db = request.app[DB]
    exam_id = path_id(request, "exam_id")
    _, course = await admin.exam(db, scope, exam_id)
    await admin.delete_exam(db, scope, exam_id)
    raise flash_redirect(f"/admin/banks/{course.id}/exams", "考试已删除")


async def results(request: web.Request, scope: Scope) -> web.StreamResponse:
    """成绩导出: streamed as the cursor reads the learners, never held whole."""
    db = request.app[DB]
    exam_id = path_id(request, "exam_id")
    export = await result_export.results_export(db, scope, exam_id)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(export.filename)}",
        }
    )
    await response.prepare(request)
    chunk = bytearray()
    async for line in result_export.result_lines(db, scope, exam_id):
        chunk += line
        if len(chunk) >= EXPORT_CHUNK:
            await response.write(bytes(chunk))
            chunk.clear()
    await response.write(bytes(chunk))
    await response.write_eof()
    return response


EXAMPLE_BANK = (
    "题型,题干,选项A,选项B,答案,分值\r\n单选题,继续教育证书由谁验证盖章？,本人,人力资源部门,B,5\r\n"
).encode()
EXAMPLE_QUESTION = {
    "kind": "单选题",
    "stem": "修改后的题干",
    "option_a": "甲",
    "option_b": "乙",
    "answer": "B",
    "score": "5",
}
EXAMPLE_EXAM = {
    "title": "课程考试（修改）",
    "plan_id": "",
    "opens_at": "2000-01-01T08:00",
    "closes_at": "2100-01-01T08:00",
    "duration_min": "60",
    "total_score": "5",
    "pass_score": "3",
    "attempts_allowed": "2",
    "recipe_single": "1",
    "recipe_multiple": "0",
    "recipe_true_false": "0",
}

SECTION = Section(
    title="考试",
    order=30,
    links=(
        NavLink("题库与考试", "/admin/banks", "admin", also=("/admin/questions",)),
        NavLink("考试安排", "/admin/exams", "admin"),
    ),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/banks",
            handler=banks_page,
            role="admin",
            example={"q": "course", "page": "1"},
        ),
        AdminRoute(method="GET", path="/admin/bank-template.xlsx", handler=template, role="admin"),
        AdminRoute(method="GET", path="/admin/bank-template.csv", handler=template, role="admin"),
        AdminRoute(
            method="GET",
            path="/admin/banks/{course_id}",
            handler=bank_page,
            role="admin",
            example={"kind": "single", "q": "题", "page": "1"},
        ),
        AdminRoute(
            method="POST",
            path="/admin/banks/{course_id}/import",
            handler=import_bank,
            role="admin",
            upload=True,
            example={"file": Upload("题库.csv", "text/csv", EXAMPLE_BANK)},
        ),
        AdminRoute(
            method="GET", path="/admin/questions/{question_id}", handler=question_page, role="admin"
        ),
        AdminRoute(
            method="POST",
            path="/admin/questions/{question_id}",
            handler=save_question,
            role="admin",
            example=EXAMPLE_QUESTION,
        ),
        AdminRoute(
            method="POST",
            path="/admin/questions/{question_id}/delete",
            handler=delete_question,
            role="admin",
        ),
        AdminRoute(
            method="GET", path="/admin/banks/{course_id}/exams", handler=exams_page, role="admin"
        ),
        AdminRoute(
            method="GET",
            path="/admin/banks/{course_id}/exams/new",
            handler=new_exam_page,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/banks/{banked_course_id}/exams",
            handler=create_exam,
            role="admin",
            example=EXAMPLE_EXAM,
        ),
        AdminRoute(
            method="GET",
            path="/admin/exams",
            handler=all_exams_page,
            role="admin",
            example={"q": "考试", "state": "open", "page": "1"},
        ),
        AdminRoute(method="GET", path="/admin/exams/{exam_id}", handler=exam_page, role="admin"),
        AdminRoute(
            method="POST",
            path="/admin/exams/{exam_id}",
            handler=save_exam,
            role="admin",
            example=EXAMPLE_EXAM,
        ),
        AdminRoute(
            method="POST", path="/admin/exams/{exam_id}/delete", handler=delete_exam, role="admin"
        ),
        AdminRoute(
            method="GET", path="/admin/exams/{exam_id}/results.csv", handler=results, role="admin"
        ),
    ),
)
