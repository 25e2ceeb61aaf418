"""我的消息 (F24): 消息中心's four tabs, one message, 站内信 (write, block, report) and
调查问卷 (answer once)."""

import re
from typing import Any

from aiohttp import web

from engine.appkeys import DB, LETTER_THROTTLE
from engine.errors import DomainError, InvalidInput, NotFound
from engine.messages import letters, surveys
from engine.messages import service as messages
from engine.messages.types import KINDS
from web.bodies import Blocking, Letter, LetterReport, ReadAll
from web.decoding import parse_id, path_id, read_form
from web.flash import flash_redirect
from web.pages import page_user
from web.render import json_response, render_page
from web.replies import UnreadReply
from web.requests import UNREAD_COUNT, require_user

_QUESTION_FIELD = re.compile(r"q([0-9]{1,18})")


def _tab(kind: str | None) -> str:
    return kind if kind in KINDS else "system"


async def messages_page(request: web.Request) -> web.Response:
    """消息中心: one tab's messages, newest first, with each tab's unread count."""
    user = page_user(request)
    kind = _tab(request.query.get("kind"))
    page = parse_id(request.query.get("page")) or 1
    found, more = await messages.inbox(request.app[DB], user.id, kind, page)
    context = {
        "active": "messages",
        "kinds": KINDS,
        "kind": kind,
        "messages": found,
        "page": page,
        "more": more,
        "unread": await messages.unread_by_kind(request.app[DB], user.id),
    }
    return render_page(request, "messages.html", context)


async def message_page(request: web.Request) -> web.Response:
    """One message, now read; a survey shows its questions until answered."""
    user = page_user(request)
    return await _message_view(request, user.id, path_id(request, "message_id"))


async def _message_view(
    request: web.Request,
    learner_id: int,
    message_id: int,
    *,
    answers: dict[int, list[str]] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    message = await messages.read(request.app[DB], learner_id, message_id)
    if message.read_at is None and request.get(UNREAD_COUNT):
        # The header's count was taken before this read: show the count after it.
        request[UNREAD_COUNT] -= 1
    context: dict[str, Any] = {
        "active": "messages",
        "kinds": KINDS,
        "message": message,
        "answers": answers or {},
        "errors": errors or {},
        "error": error,
        "survey": None,
        "sender_blocked": False,
    }
    if message.survey_id is not None:
        context["survey"] = await surveys.show(request.app[DB], learner_id, message.survey_id)
    if message.sender_id is not None:
        blocked = await letters.blocked(request.app[DB], learner_id)
        context["sender_blocked"] = any(id_ == message.sender_id for id_, _ in blocked)
    return render_page(request, "message.html", context, status=status)


async def read_all(request: web.Request) -> web.StreamResponse:
    user = page_user(request)
    body = await read_form(request, ReadAll)
    kind = _tab(body.kind)
    await messages.mark_all_read(request.app[DB], user.id, kind)
    raise flash_redirect(f"/messages?kind={kind}", f"{KINDS[kind]}已全部标为已读")


async def letter_page(request: web.Request) -> web.Response:
    """写站内信, to a learner of one's organisation; and the senders one blocked."""
    user = page_user(request)
    values = {
        "recipient": request.query.get("to", "")[:20],
        "title": request.query.get("title", "")[:100],
    }
    return await _letter_form(request, user.id, values, {})


async def _letter_form(
    request: web.Request,
    learner_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "active": "messages",
        "kinds": KINDS,
        "values": values,
        "errors": errors,
        "error": error,
        "kind": "write",
        "unread": await messages.unread_by_kind(request.app[DB], learner_id),
        "blocked": await letters.blocked(request.app[DB], learner_id),
    }
    return render_page(request, "letter.html", context, status=status)


async def send_letter(request: web.Request) -> web.StreamResponse:
    user = page_user(request)
    letter = await read_form(request, Letter)
    try:
        await letters.send(
            request.app[DB],
            request.app[LETTER_THROTTLE],
            user.id,
            letter.recipient,
            letter.title,
            letter.body,
        )
    except DomainError as exc:
        values = {"recipient": letter.recipient, "title": letter.title, "body": letter.body}
        fields = getattr(exc, "fields", {})
        return await _letter_form(request, user.id, values, fields, exc.message, exc.status)
    raise flash_redirect("/messages?kind=letter", f"站内信已发送给{letter.recipient.strip()}")


async def report_letter(request: web.Request) -> web.StreamResponse:
    user = page_user(request)
    message_id = path_id(request, "message_id")
    back = f"/messages/{message_id}"
    try:
        report = await read_form(request, LetterReport)
        first = await letters.report(request.app[DB], user.id, message_id, report.reason)
    except DomainError as exc:
        raise flash_redirect(back, exc.message, error=True) from None
    raise flash_redirect(back, "举报已提交，管理员会尽快处理" if first else "您已举报过这条站内信")


async def block(request: web.Request) -> web.StreamResponse:
    user = page_user(request)
    body = await read_form(request, Blocking)
    await letters.block(request.app[DB], user.id, body.learner_id)
    raise flash_redirect("/messages?kind=letter", "已屏蔽该学员，对方的站内信将被拒收")


async def unblock(request: web.Request) -> web.StreamResponse:
    user = page_user(request)
    body = await read_form(request, Blocking)
    await letters.unblock(request.app[DB], user.id, body.learner_id)
    raise flash_redirect("/messages/letters/new", "已取消屏蔽")


async def answer_survey(request: web.Request) -> web.StreamResponse:
    """提交问卷: every question answered, once; what is missing is shown by its question."""
    user = page_user(request)
    message_id = path_id(request, "message_id")
    message = await messages.read(request.app[DB], user.id, message_id)
    if message.survey_id is None:
        raise NotFound("问卷不存在")
    form = await request.post()
    answers: dict[int, list[str]] = {}
    for key, value in form.items():
        found = _QUESTION_FIELD.fullmatch(key)
        if found and isinstance(value, str):
            answers.setdefault(int(found[1]), []).append(value)
    try:
        await surveys.answer(request.app[DB], user.id, message.survey_id, answers)
    except InvalidInput as exc:
        return await _message_view(
            request,
            user.id,
            message_id,
            answers=answers,
            errors=exc.fields,
            error=exc.message,
            status=exc.status,
        )
    except DomainError as exc:
        raise flash_redirect(f"/messages/{message_id}", exc.message, error=True) from None
    raise flash_redirect(f"/messages/{message_id}", "问卷已提交，感谢您的反馈")


async def unread(request: web.Request) -> web.Response:
    """The header's count, for a page coming back to the front (its socket was closed)."""
    user = require_user(request)
    return json_response(UnreadReply(await messages.unread_count(request.app[DB], user.id)))
