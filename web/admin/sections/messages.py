"""消息管理: 系统通知 to chosen learners, 公告 and 调查问卷 to an organisation subtree, the sends
and a survey's results (CSV too); the queues of 问答 questions 待回答 and of reported
messages, worked through the rooms service so that room members see the outcome live."""

from typing import Annotated

import msgspec
from aiohttp import web

from engine.accounts.admin import scope_orgs
from engine.admin.scope import Scope
from engine.appkeys import CLOCK, DB, HUB, ROOMS
from engine.errors import InvalidInput
from engine.messages import admin, queues, survey_text
from engine.messages.types import KINDS, SurveyDraft
from engine.sessions.rooms_feed import publish_hidden, publish_message
from web.admin.orgs import org_choices
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute, NavLink, Section
from web.decoding import Id, parse_id, path_id, read_form
from web.flash import flash_redirect

SENT_KINDS = [(kind, KINDS[kind]) for kind in ("system", "announcement", "survey")]
Text = Annotated[str, msgspec.Meta(max_length=20_000)]
CHOOSE_ORG = "请选择发送范围"


class NoticeForm(msgspec.Struct, frozen=True):
    to: Text
    title: Text
    body: Text


class AnnouncementForm(msgspec.Struct, frozen=True):
    title: Text
    body: Text
    org_id: Id | None = None
    everyone: bool = False  # every organisation's learners (super administrators only)


class SurveyForm(msgspec.Struct, frozen=True):
    title: Text
    questions: Text
    intro: Text = ""
    org_id: Id | None = None
    everyone: bool = False


def audience(form: AnnouncementForm | SurveyForm) -> int | None:
    """The organisation a form sends to; every one only when asked for in so many words."""
    if form.everyone:
        return None
    if form.org_id is None:
        raise InvalidInput({"org_id": CHOOSE_ORG}, CHOOSE_ORG)
    return form.org_id


class AnswerForm(msgspec.Struct, frozen=True):
    text: Text


class ReasonForm(msgspec.Struct, frozen=True):
    reason: Text


async def sent_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("kind",))
    kind = values["kind"] if values["kind"] in KINDS else None
    page = await admin.sent(request.app[DB], scope, kind, requested_page(request))
    context = {"page": page, "values": values, "kinds": SENT_KINDS}
    return render_admin(request, scope, "admin/messages.html", context)


async def notice_page(request: web.Request, scope: Scope) -> web.Response:
    return render_admin(request, scope, "admin/message_form.html", {"form": "notice"})


async def audience_page(request: web.Request, scope: Scope) -> web.Response:
    """The form of a 公告 or a 调查问卷: to an organisation of the scope."""
    form = "survey" if request.path.endswith("/survey") else "announcement"
    orgs = org_choices(await scope_orgs(request.app[DB], scope))
    context = {"form": form, "orgs": orgs, "example": survey_text.EXAMPLE}
    return render_admin(request, scope, "admin/message_form.html", context)


async def send_notice(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, NoticeForm)
    names = admin.usernames(form.to)
    _, sent = await admin.send_notice(request.app[DB], scope, names, form.title, form.body)
    raise flash_redirect("/admin/messages", f"系统通知已发送给{sent}位学员")


async def announce(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, AnnouncementForm)
    _, sent = await admin.announce(request.app[DB], scope, form.title, form.body, audience(form))
    raise flash_redirect("/admin/messages", f"公告已发布给{sent}位学员")


async def post_survey(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, SurveyForm)
    draft = SurveyDraft(form.title, survey_text.questions(form.questions), form.intro)
    survey_id, sent = await admin.post_survey(request.app[DB], scope, draft, audience(form))
    raise flash_redirect(f"/admin/messages/surveys/{survey_id}", f"问卷已发给{sent}位学员")


async def survey_page(request: web.Request, scope: Scope) -> web.Response:
    results = await admin.survey_results(request.app[DB], scope, path_id(request, "survey_id"))
    return render_admin(request, scope, "admin/survey_results.html", {"results": results})


async def survey_csv(request: web.Request, scope: Scope) -> web.Response:
    survey_id = path_id(request, "survey_id")
    text = await admin.survey_csv(request.app[DB], scope, survey_id)
    return web.Response(
        # A byte-order mark: spreadsheets then read the file as UTF-8.
        body=("\ufeff" + text).encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="survey-{survey_id}.csv"'},
    )


async def questions_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("course_id",))
    course_id = parse_id(values["course_id"])
    page = await queues.waiting_questions(
        request.app[DB], scope, course_id, requested_page(request)
    )
    return render_admin(request, scope, "admin/questions.html", {"page": page, "values": values})


async def answer(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, AnswerForm)
    app = request.app
    stored = await queues.answer(
        app[DB], app[ROOMS], scope, path_id(request, "question_id"), form.text, app[CLOCK]()
    )
    await publish_message(app[HUB], stored)
    raise flash_redirect("/admin/questions", "已回答，提问的学员会收到系统通知")


async def reports_page(request: web.Request, scope: Scope) -> web.Response:
    db, number = request.app[DB], requested_page(request)
    context = {
        "rooms": await queues.reported_room_messages(db, scope, None, number),
        "letters": await queues.reported_letters(db, scope, number)
        if scope.role != "teacher"
        else None,
    }
    return render_admin(request, scope, "admin/reports.html", context)


async def hide_room_message(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, ReasonForm)
    app = request.app
    hidden = await queues.hide_room_message(
        app[DB],
        app[ROOMS],
        scope,
        path_id(request, "room_message_id"),
        form.reason,
        app[CLOCK](),
    )
    if hidden is not None:
        await publish_hidden(app[HUB], hidden)
    raise flash_redirect("/admin/reports", "消息已隐藏")


async def dismiss_room_reports(request: web.Request, scope: Scope) -> web.StreamResponse:
    await queues.dismiss_room_reports(request.app[DB], scope, path_id(request, "room_message_id"))
    raise flash_redirect("/admin/reports", "已驳回举报")


async def hide_letter(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, ReasonForm)
    report_id = path_id(request, "letter_report_id")
    await queues.hide_letter(request.app[DB], scope, report_id, form.reason)
    raise flash_redirect("/admin/reports", "站内信已隐藏")


async def dismiss_letter_report(request: web.Request, scope: Scope) -> web.StreamResponse:
    report_id = path_id(request, "letter_report_id")
    await queues.dismiss_letter_report(request.app[DB], scope, report_id)
    raise flash_redirect("/admin/reports", "已驳回举报")


TEXT = {"title": "课程安排调整", "body": "下周起开放新课程。"}
SECTION = Section(
    title="消息",
    order=50,
    links=(
        NavLink("消息发布", "/admin/messages", "admin"),
        NavLink("问答待回答", "/admin/questions", "teacher"),
        NavLink("举报处理", "/admin/reports", "teacher"),
    ),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/messages",
            handler=sent_page,
            role="admin",
            example={"kind": "survey", "page": "1"},
        ),
        AdminRoute(method="GET", path="/admin/messages/notice", handler=notice_page, role="admin"),
        AdminRoute(
            method="POST",
            path="/admin/messages/notice",
            handler=send_notice,
            role="admin",
            example={"to": "{learner_username}"} | TEXT,
        ),
        AdminRoute(
            method="GET", path="/admin/messages/announcement", handler=audience_page, role="admin"
        ),
        AdminRoute(
            method="POST",
            path="/admin/messages/announcement",
            handler=announce,
            role="admin",
            example={"org_id": "{org_id}"} | TEXT,
        ),
        AdminRoute(
            method="GET", path="/admin/messages/survey", handler=audience_page, role="admin"
        ),
        AdminRoute(
            method="POST",
            path="/admin/messages/survey",
            handler=post_survey,
            role="admin",
            example={
                "org_id": "{org_id}",
                "title": "学习体验调查",
                "intro": "请花一分钟填写",
                "questions": survey_text.EXAMPLE,
            },
        ),
        AdminRoute(
            method="GET",
            path="/admin/messages/surveys/{survey_id}",
            handler=survey_page,
            role="admin",
        ),
        AdminRoute(
            method="GET",
            path="/admin/messages/surveys/{survey_id}/results.csv",
            handler=survey_csv,
            role="admin",
        ),
        AdminRoute(
            method="GET",
            path="/admin/questions",
            handler=questions_page,
            role="teacher",
            example={"page": "1"},
        ),
        AdminRoute(
            method="POST",
            path="/admin/questions/{question_id}/answer",
            handler=answer,
            role="teacher",
            example={"text": "请看第二章第三节。"},
        ),
        AdminRoute(method="GET", path="/admin/reports", handler=reports_page, role="teacher"),
        AdminRoute(
            method="POST",
            path="/admin/reports/rooms/{room_message_id}/hide",
            handler=hide_room_message,
            role="teacher",
            example={"reason": "广告信息"},
        ),
        AdminRoute(
            method="POST",
            path="/admin/reports/rooms/{room_message_id}/dismiss",
            handler=dismiss_room_reports,
            role="teacher",
        ),
        AdminRoute(
            method="POST",
            path="/admin/reports/letters/{letter_report_id}/hide",
            handler=hide_letter,
            role="admin",
            example={"reason": "骚扰信息"},
        ),
        AdminRoute(
            method="POST",
            path="/admin/reports/letters/{letter_report_id}/dismiss",
            handler=dismiss_letter_report,
            role="admin",
        ),
    ),
)
