"""Page handlers of exams (F20–F22): 我的考试, the paper, the result."""

from aiohttp import web

from engine.accounts.types import User
from engine.appkeys import CLOCK, DB, EXAMS
from engine.errors import DomainError
from engine.exams.keys import GRACE_MS
from engine.exams.types import KINDS
from web.decoding import path_id
from web.flash import flash_redirect
from web.pages import page_user
from web.render import render_page

KIND_LABELS = {"single": "单选题", "multiple": "多选题", "true_false": "判断题"}
SUBMITTED_BY = {"learner": "考生交卷", "deadline": "考试时间到，系统自动交卷"}


async def exams_page(request: web.Request) -> web.Response:
    """我的考试 (F20): every exam of the learner's courses, and why one cannot start (F22)."""
    user = page_user(request)
    exams, db = request.app[EXAMS], request.app[DB]
    context = {
        "active": "exams",
        "exams": await exams.list_for(db, user.id, request.app[CLOCK]()),
        "unscheduled": await exams.unscheduled(db, user.id),
    }
    return render_page(request, "exams.html", context)


async def start(request: web.Request) -> web.StreamResponse:
    """去考试 (after its confirmation dialog): a new attempt, or back to the open one."""
    user = page_user(request)
    try:
        attempt = await request.app[EXAMS].start(
            request.app[DB], user.id, path_id(request, "exam_id"), request.app[CLOCK]()
        )
    except DomainError as exc:
        raise flash_redirect("/exams", exc.message, error=True) from None
    raise web.HTTPFound(f"/exams/attempts/{attempt.id}")


async def paper_page(request: web.Request) -> web.Response:
    """The exam page (F21), laid out like a paper; answers travel over the websocket."""
    user = page_user(request)
    attempt_id = path_id(request, "attempt_id")
    view = await request.app[EXAMS].view(request.app[DB], user.id, attempt_id, with_paper=True)
    if view.submitted:
        raise web.HTTPFound(f"/exams/attempts/{attempt_id}/result")
    sections = [
        (KIND_LABELS[kind], [question for question in view.questions if question.type == kind])
        for kind in KINDS
    ]
    context = {
        "active": "exams",
        "attempt": view,
        "sections": [(label, questions) for label, questions in sections if questions],
        "examinee": examinee(user),
        "now_ms": request.app[CLOCK](),
        "grace_ms": GRACE_MS,
        "own_socket": True,
    }
    return render_page(request, "exam.html", context)


async def result_page(request: web.Request) -> web.Response:
    user = page_user(request)
    attempt_id = path_id(request, "attempt_id")
    view = await request.app[EXAMS].view(request.app[DB], user.id, attempt_id, with_paper=False)
    if view.taking_answers(request.app[CLOCK](), GRACE_MS):
        raise web.HTTPFound(f"/exams/attempts/{attempt_id}")
    context = {"active": "exams", "attempt": view, "submitted_by": SUBMITTED_BY}
    return render_page(request, "exam_result.html", context)


def examinee(user: User) -> list[tuple[str, str]]:
    """考生信息 as the paper's head shows it; the document number only in part."""
    number = user.id_number
    masked = number[:4] + "*" * max(0, len(number) - 8) + number[-4:] if len(number) > 8 else number
    return [("姓名", user.real_name), ("证件号码", masked), ("工作单位", user.org_name)]
