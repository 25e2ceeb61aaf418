"""The moderation queues of the administration: 问答 questions 待回答 (answered through the
rooms service, so the live room, the pinned answers and the asker's 系统通知 happen as in the
room), reported room messages and reported 站内信, hidden or dismissed. Teachers work the
queues of the courses granted to them; administrators those of their subtree's courses.

The caller publishes what a room's members must see live (engine/sessions/rooms_feed.py):
the answer, or the hidden message."""

import asyncpg

from engine.admin import audit
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.db import Executor
from engine.errors import Conflict, InvalidInput, NotFound
from engine.messages import queue_store
from engine.messages.types import ReportedLetter, ReportedRoomMessage, WaitingQuestion
from engine.rooms.service import Rooms
from engine.rooms.types import Hidden, Room, StoredMessage

REASON_MAX_LENGTH = 200
QUESTION_NOT_FOUND = "问题不存在"
REPORT_NOT_FOUND = "举报不存在"
HANDLED = "该举报已处理"


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput({"reason": "请填写原因"}, "请填写原因")
    if len(reason) > REASON_MAX_LENGTH:
        too_long = f"原因不能超过{REASON_MAX_LENGTH}个字"
        raise InvalidInput({"reason": too_long}, too_long)
    return reason


async def waiting_questions(
    db: Executor, scope: Scope, course_id: int | None = None, page: int = 1
) -> Page[WaitingQuestion]:
    """A page of the questions 待回答 in the scope's courses (one course's), oldest first."""
    require(scope, "teacher")
    return await queue_store.waiting_questions(db, scope, course_id, max(1, page))


async def answer(
    pool: asyncpg.Pool, rooms: Rooms, scope: Scope, question_id: int, text: str, now_ms: int
) -> StoredMessage:
    """Answer a question of the queue as in its room: stored and numbered there, pinned,
    the asker notified; audited in the same transaction. Publish the result to the room."""
    require(scope, "teacher")
    room = await queue_store.question_room(pool, scope, question_id)
    if room is None:
        raise NotFound(QUESTION_NOT_FOUND)
    seat = await rooms.seat(pool, scope.user_id, room)
    async with pool.acquire() as connection, connection.transaction():
        stored = await rooms.answer(connection, seat, text, now_ms, question_id)
        await audit.record(
            connection,
            scope,
            "question.answer",
            kind="room_message",
            object_id=question_id,
            org_id=await queue_store.course_org(connection, seat.room.course_id),
            before={"answered": False},
            after={"answered": True, "answer_id": stored.id, "text": text},
        )
    return stored


async def reported_room_messages(
    db: Executor, scope: Scope, course_id: int | None = None, page: int = 1
) -> Page[ReportedRoomMessage]:
    """A page of the scope's visible room messages with open reports, earliest first."""
    require(scope, "teacher")
    return await queue_store.reported_room_messages(db, scope, course_id, max(1, page))


async def hide_room_message(
    pool: asyncpg.Pool, rooms: Rooms, scope: Scope, message_id: int, reason: str, now_ms: int
) -> Hidden | None:
    """Hide a reported room message through the rooms service (who and why stored with it)
    and close its reports; None when it was hidden already. Publish the result to the room."""
    require(scope, "teacher")
    reason = _reason(reason)
    found = await queue_store.reported_room_message(pool, scope, message_id)
    if found is None:
        raise NotFound("消息不存在")
    seat = await rooms.seat(pool, scope.user_id, found["room"])
    async with pool.acquire() as connection, connection.transaction():
        hidden = await rooms.hide(connection, seat, message_id, reason, now_ms)
        closed = await queue_store.close_room_reports(
            connection, message_id, scope.user_id, "hidden"
        )
        if hidden is None and not closed:
            return None
        await audit.record(
            connection,
            scope,
            "room_message.hide",
            kind="room_message",
            object_id=message_id,
            org_id=await queue_store.course_org(connection, seat.room.course_id),
            before={
                "hidden": found["hidden"],
                "author": found["author_name"],
                "text": found["text"],
            },
            after={"hidden": True, "reason": reason if hidden else found["hidden_reason"]},
        )
    return hidden


async def dismiss_room_reports(pool: asyncpg.Pool, scope: Scope, message_id: int) -> None:
    """Close a room message's open reports, leaving it shown."""
    require(scope, "teacher")
    found = await queue_store.reported_room_message(pool, scope, message_id)
    if found is None:
        raise NotFound("消息不存在")
    async with pool.acquire() as connection, connection.transaction():
        closed = await queue_store.close_room_reports(
            connection, message_id, scope.user_id, "dismissed"
        )
        if not closed:
            raise Conflict(HANDLED, code="handled")
        await audit.record(
            connection,
            scope,
            "room_report.dismiss",
            kind="room_message",
            object_id=message_id,
            org_id=await queue_store.course_org(connection, Room.parse(found["room"]).course_id),
            before={"open_reports": closed},
            after={"open_reports": 0, "outcome": "dismissed"},
        )


async def reported_letters(db: Executor, scope: Scope, page: int = 1) -> Page[ReportedLetter]:
    """A page of the open reports of 站内信 received within the scope, newest first."""
    require(scope, "admin")
    return await queue_store.reported_letters(db, scope.org_id, max(1, page))


async def hide_letter(pool: asyncpg.Pool, scope: Scope, report_id: int, reason: str) -> None:
    """Take a reported 站内信 out of its recipient's inbox (who and why stored) and close
    its reports."""
    await _handle_letter(pool, scope, report_id, "hidden", _reason(reason))


async def dismiss_letter_report(pool: asyncpg.Pool, scope: Scope, report_id: int) -> None:
    """Close a 站内信's report, leaving the letter where it is."""
    await _handle_letter(pool, scope, report_id, "dismissed", None)


async def _handle_letter(
    pool: asyncpg.Pool, scope: Scope, report_id: int, outcome: str, reason: str | None
) -> None:
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        found = await queue_store.letter_report(connection, scope.org_id, report_id, lock=True)
        if found is None:
            raise NotFound(REPORT_NOT_FOUND)
        if found["handled_at"] is not None:
            raise Conflict(HANDLED, code="handled")
        if reason is not None:
            await queue_store.hide_letter(connection, found["message_id"], scope.user_id, reason)
        await queue_store.close_letter_reports(
            connection, found["message_id"], scope.user_id, outcome
        )
        await audit.record(
            connection,
            scope,
            "letter_report.hide" if reason is not None else "letter_report.dismiss",
            kind="message_report",
            object_id=report_id,
            org_id=found["org_id"],
            before={"outcome": None, "hidden": found["hidden_at"] is not None},
            after={"outcome": outcome, "hidden": reason is not None, "reason": reason},
        )
