"""站内信 between learners of one organisation: sending at a bounded rate, blocking a sender,
reporting a letter to the administrators."""

import asyncpg

from engine.db import Executor
from engine.errors import Conflict, InvalidInput, NotFound
from engine.kv import Batcher
from engine.messages import keys, store
from engine.messages.service import check_text
from engine.throttle import FailureThrottle

# Letters a learner may send in one window: enough for a conversation, too few for spam.
LETTERS_PER_WINDOW = 10
WINDOW_S = 600
TOO_MANY = "发送站内信过于频繁，请{minutes}分钟后再试"
NO_RECIPIENT = "收信人不存在"
OTHER_ORG = "只能给同一组织机构的学员发送站内信"
TO_SELF = "不能给自己发送站内信"
REFUSED = "对方已拒收您的站内信"
REASON_MAX_LENGTH = 500
NOT_A_LETTER = "只能举报站内信"


class LetterThrottle:
    """Counts every letter sent (not only failures) against its sender, across nodes."""

    def __init__(self, batcher: Batcher) -> None:
        self.throttle = FailureThrottle(
            batcher, WINDOW_S, {"letters": LETTERS_PER_WINDOW}, TOO_MANY
        )

    async def reserve(self, learner_id: int) -> None:
        await self.throttle.reserve({"letters": keys.letters_sent_key(learner_id)})

    async def release(self, learner_id: int) -> None:
        await self.throttle.release({"letters": keys.letters_sent_key(learner_id)})


async def send(
    pool: asyncpg.Pool,
    throttle: LetterThrottle,
    sender_id: int,
    recipient: str,
    title: str,
    body: str,
) -> None:
    """Send a 站内信 to the learner named `recipient` (their username)."""
    check_text(title, body)
    found = await store.learner_by_username(pool, recipient.strip()) if recipient.strip() else None
    if found is None or found["role"] != "learner":
        raise InvalidInput({"recipient": NO_RECIPIENT}, NO_RECIPIENT)
    if found["id"] == sender_id:
        raise InvalidInput({"recipient": TO_SELF}, TO_SELF)
    if found["org_id"] != await store.org_of(pool, sender_id):
        raise InvalidInput({"recipient": OTHER_ORG}, OTHER_ORG)
    if await store.is_blocked(pool, found["id"], sender_id):
        raise Conflict(REFUSED, field="recipient", code="blocked")
    await throttle.reserve(sender_id)
    try:
        await store.insert_many(pool, [(found["id"], "letter", title, body, sender_id, None)])
    except BaseException:
        await throttle.release(sender_id)
        raise


async def block(db: Executor, learner_id: int, sender_id: int) -> None:
    """屏蔽: the sender's letters are refused from now on."""
    if sender_id == learner_id:
        raise InvalidInput({}, "不能屏蔽自己")
    await store.block(db, learner_id, sender_id)


async def unblock(db: Executor, learner_id: int, sender_id: int) -> None:
    await store.unblock(db, learner_id, sender_id)


async def blocked(db: Executor, learner_id: int) -> list[tuple[int, str]]:
    """(id, username) of the learners one blocked."""
    return [(row["id"], row["username"]) for row in await store.blocked(db, learner_id)]


async def report(db: Executor, learner_id: int, message_id: int, reason: str) -> bool:
    """举报 a 站内信 the learner received; False when reported already."""
    if not reason.strip():
        raise InvalidInput({"reason": "请填写举报原因"}, "请填写举报原因")
    if len(reason) > REASON_MAX_LENGTH:
        too_long = f"举报原因不能超过{REASON_MAX_LENGTH}个字"
        raise InvalidInput({"reason": too_long}, too_long)
    letter = await store.message(db, learner_id, message_id)
    if letter is None:
        raise NotFound("消息不存在")
    if letter.kind != "letter":
        raise InvalidInput({}, NOT_A_LETTER)
    return await store.insert_report(db, learner_id, message_id, reason)
