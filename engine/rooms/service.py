"""Use cases of the rooms: who may join, history, sending (questions and answers), and
moderation. Delivery to the members is the websocket layer's (engine/sessions/rooms_feed.py)."""

from datetime import datetime

import asyncpg
import structlog

from engine.accounts import service as accounts
from engine.clock import utc_time
from engine.db import Executor
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.kv import Batcher
from engine.messages import service as messages
from engine.progress.enrolments import has_selected
from engine.rooms import keys, store
from engine.rooms.types import Hidden, History, Room, Seat, StoredMessage
from engine.settings import Settings
from engine.throttle import FailureThrottle

log = structlog.get_logger(__name__)

MAX_TEXT = 500  # characters, as the room_messages check says
MAX_REASON = 200
HISTORY_SIZE = 50  # `chat.join` and each page of older messages
CATCH_UP_SIZE = 500  # a reconnect's catch-up; the client asks again from where it ends
PINNED_ANSWERS = 20

NOT_A_MEMBER = "只有选择了本课程的学员、本课程的教师和管理员可以进入"
SENT_TOO_OFTEN = "发言过于频繁，请稍后再试"
EMPTY = "消息不能为空"
TOO_LONG = f"消息不能超过{MAX_TEXT}字"
ANSWERED_TITLE = "您的提问已有解答"
ONLY_MODERATORS_ANSWER = "只有本课程的教师和管理员可以在问答中回答"


class Rooms:
    """The rooms of one node: its send throttle."""

    def __init__(self, batcher: Batcher, settings: Settings) -> None:
        self.throttle = FailureThrottle(
            batcher, settings.chat_send_window_s, {"user": settings.chat_max_sends}, SENT_TOO_OFTEN
        )

    async def seat(self, db: Executor, user_id: int, room_name: str) -> Seat:
        """The user's seat in the room: learners who selected the course, its teachers and
        administrators; Forbidden for anyone else."""
        room = Room.parse(room_name)
        standing = await accounts.course_standing(db, user_id, room.course_id)
        if standing.role == "learner" and not await has_selected(db, user_id, room.course_id):
            raise Forbidden(NOT_A_MEMBER)
        return Seat(room, user_id, standing.name, standing.role)

    async def history(self, db: Executor, seat: Seat, after_seq: int | None) -> History:
        """The last messages, or those after `after_seq` (a reconnect's catch-up)."""
        name = seat.room.name
        # Read first: every message up to it is stored (a room's sends are numbered one
        # after another's commit), so what follows includes them all.
        last = await store.last_seq(db, name)
        if after_seq is None:
            messages = await store.messages_before(db, name, last + 1, HISTORY_SIZE)
        else:
            messages = await store.messages_after(db, name, after_seq, CATCH_UP_SIZE)
        pinned = []
        if seat.room.kind == "qa":
            pinned = await store.pinned(db, name, PINNED_ANSWERS)
        return History(messages=messages, last_seq=last, pinned=pinned)

    async def missed(self, db: Executor, room_name: str, after_seq: int) -> list[StoredMessage]:
        """A room's messages after `after_seq`, for a node that missed them (its members
        joined already)."""
        return await store.messages_after(db, room_name, after_seq, CATCH_UP_SIZE)

    async def older(
        self, db: Executor, user_id: int, room_name: str, before_seq: int
    ) -> list[StoredMessage]:
        """A page of the messages before `before_seq` (the API's paging), for a member."""
        seat = await self.seat(db, user_id, room_name)
        return await store.messages_before(db, seat.room.name, before_seq, HISTORY_SIZE)

    async def send(
        self,
        pool: asyncpg.Pool,
        seat: Seat,
        text: str,
        client_id: str,
        now_ms: int,
        answer_to: int | None = None,
    ) -> StoredMessage:
        """Store a message, numbered in its room; an answer (a teacher's or administrator's,
        in 问答) also marks its question answered and sends the asker a 系统通知, in the same
        transaction."""
        _check_text(text)
        if answer_to is not None and (seat.room.kind != "qa" or not seat.moderates):
            raise Forbidden(ONLY_MODERATORS_ANSWER)
        await self.throttle.reserve({"user": keys.send_counter_key(seat.user_id)})
        at = utc_time(now_ms)
        if answer_to is None:
            return await store.insert_message(pool, seat, text, client_id, at)
        async with pool.acquire() as connection, connection.transaction():
            return await _answer(connection, seat, text, client_id, at, answer_to)

    async def answer(
        self, connection: Executor, seat: Seat, text: str, now_ms: int, question_id: int
    ) -> StoredMessage:
        """`send` of an answer on the caller's transaction: the administration's 问答 queue,
        which records its audit row with it. Not throttled: it answers only questions
        waiting, one answer each, so it cannot flood a room."""
        _check_text(text)
        if seat.room.kind != "qa" or not seat.moderates:
            raise Forbidden(ONLY_MODERATORS_ANSWER)
        return await _answer(connection, seat, text, "", utc_time(now_ms), question_id)

    async def hide(
        self, db: Executor, seat: Seat, message_id: int, reason: str, now_ms: int
    ) -> Hidden | None:
        """A moderator hides a message for everyone; it stays stored with who and why.
        None when it was already hidden."""
        if not seat.moderates:
            raise Forbidden("只有本课程的教师和管理员可以隐藏消息")
        reason = _reason(reason)
        if await store.hide(db, seat.room.name, message_id, seat.user_id, reason, utc_time(now_ms)):
            log.info("message hidden", message=message_id, room=seat.room.name, by=seat.user_id)
            return Hidden(seat.room.name, message_id)
        if not await store.message_exists(db, seat.room.name, message_id):
            raise NotFound("消息不存在")
        return None

    async def report(
        self, db: Executor, seat: Seat, message_id: int, reason: str, now_ms: int
    ) -> None:
        """A member reports a message to the moderators."""
        reason = _reason(reason)
        if not await store.message_exists(db, seat.room.name, message_id):
            raise NotFound("消息不存在")
        await store.report(db, message_id, seat.user_id, reason, utc_time(now_ms))


async def _answer(
    connection: Executor, seat: Seat, text: str, client_id: str, at: datetime, question_id: int
) -> StoredMessage:
    """Store the answer, mark its question answered and send the asker a 系统通知."""
    question = await store.question_to_answer(connection, seat.room.name, question_id)
    if question is None:
        raise Conflict("该问题不存在、已被隐藏或已回答", code="not_answerable")
    message = await store.insert_message(connection, seat, text, client_id, at, question_id)
    await store.mark_answered(connection, question_id, at)
    asker, question_text = question
    await messages.notify(
        connection,
        asker,
        ANSWERED_TITLE,
        f"您在课程问答中的提问“{question_text}”已由{seat.name}解答：{text}"
        "（可在该课程播放页的「问答」中查看）",
    )
    log.info("question answered", question=question_id, room=seat.room.name, by=seat.user_id)
    return message


def _check_text(text: str) -> None:
    if not text.strip():
        raise InvalidInput({"text": EMPTY}, EMPTY)
    if len(text) > MAX_TEXT:
        raise InvalidInput({"text": TOO_LONG}, TOO_LONG)


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput({"reason": "请填写原因"}, "请填写原因")
    if len(reason) > MAX_REASON:
        message = f"原因不能超过{MAX_REASON}字"
        raise InvalidInput({"reason": message}, message)
    return reason
