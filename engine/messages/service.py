"""我的消息 (F24): system notices the engine sends, announcements, the inbox of every kind,
reading and unread counts.

Unread counts are a query, not a counter: `count(*)` over a partial index of the learner's
unread rows (`messages_unread_idx`), exact under any mix of sends and reads, and cheap for
the few dozen unread messages a learner has.
"""

from collections.abc import Sequence

from engine.db import Executor
from engine.errors import InvalidInput, NotFound
from engine.messages import store
from engine.messages.types import KINDS, Message, NewNotice

NOTICES_CHANNEL = store.NOTICES_CHANNEL
PAGE_SIZE = 20
TITLE_MAX_LENGTH = 100
BODY_MAX_LENGTH = 5000
NOT_FOUND = "消息不存在"
BAD_KIND = "消息类型不正确"


def check_text(title: str, body: str) -> None:
    """A title and body within the limits; InvalidInput naming the field otherwise."""
    if not title.strip():
        raise InvalidInput({"title": "请填写标题"}, "请填写标题")
    if len(title) > TITLE_MAX_LENGTH:
        message = f"标题不能超过{TITLE_MAX_LENGTH}个字"
        raise InvalidInput({"title": message}, message)
    if not body.strip():
        raise InvalidInput({"body": "请填写内容"}, "请填写内容")
    if len(body) > BODY_MAX_LENGTH:
        message = f"内容不能超过{BODY_MAX_LENGTH}个字"
        raise InvalidInput({"body": message}, message)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput({"kind": BAD_KIND}, BAD_KIND)
    return kind


async def notify(db: Executor, learner_id: int, title: str, body: str) -> None:
    """Send the learner a 系统通知. Pass the connection of the transaction that makes it true
    (a payment, a grading): it is stored with it, and pushed live to the learner's sockets on
    every node when, and only if, that transaction commits."""
    await notify_many(db, [NewNotice(learner_id, title, body)])


async def notify_many(db: Executor, notices: Sequence[NewNotice]) -> None:
    """`notify` for many learners in one statement."""
    for notice in notices:
        check_text(notice.title, notice.body)
    await store.insert_many(
        db,
        [
            (notice.learner_id, "system", notice.title, notice.body, None, None)
            for notice in notices
        ],
    )


async def announce(db: Executor, title: str, body: str, org_id: int | None = None) -> int:
    """A 公告 to every learner (of one organisation); how many received it."""
    check_text(title, body)
    return await store.insert_for_learners(db, "announcement", title, body, None, org_id)


async def inbox(
    db: Executor, learner_id: int, kind: str, page: int = 1
) -> tuple[list[Message], bool]:
    """One page of a tab of 消息中心, newest first, and whether more pages follow."""
    check_kind(kind)
    page = max(1, page)
    rows = await store.inbox(db, learner_id, kind, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


async def read(db: Executor, learner_id: int, message_id: int) -> Message:
    """Open one of the learner's messages, marking it read."""
    message = await store.message(db, learner_id, message_id)
    if message is None:
        raise NotFound(NOT_FOUND)
    if message.read_at is None:
        await store.mark_read(db, learner_id, message_id)
    return message


async def mark_all_read(db: Executor, learner_id: int, kind: str | None = None) -> int:
    """全部标为已读 (of one tab, or all); how many were unread."""
    if kind is not None:
        check_kind(kind)
    return await store.mark_all_read(db, learner_id, kind)


async def unread_count(db: Executor, learner_id: int) -> int:
    """The header's count."""
    return (await store.unread_counts(db, [learner_id])).get(learner_id, 0)


async def unread_counts(db: Executor, learner_ids: Sequence[int]) -> dict[int, int]:
    """Each learner's unread count (0 included), in one query."""
    counts = await store.unread_counts(db, learner_ids)
    return {learner_id: counts.get(learner_id, 0) for learner_id in learner_ids}


async def unread_by_kind(db: Executor, learner_id: int) -> dict[str, int]:
    """The unread count of each tab."""
    counts = await store.unread_by_kind(db, learner_id)
    return {kind: counts.get(kind, 0) for kind in KINDS}
