"""Notes at a moment of a chapter (F17) and 我的笔记 (F27); a learner sees only their own."""

from engine.db import Executor
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.notes import store
from engine.notes.types import Note, NoteEntry
from engine.progress.service import NOT_WATCHABLE, may_watch

MAX_LENGTH = 1000
NOT_FOUND = "笔记不存在"
EMPTY = "请填写笔记内容"
TOO_LONG = f"笔记不能超过{MAX_LENGTH}个字"
SEARCH_MAX_LENGTH = 50


def check_body(body: str) -> str:
    """The note as written (stored as given); InvalidInput when empty or too long."""
    if not body.strip():
        raise InvalidInput({"body": EMPTY}, EMPTY)
    if len(body) > MAX_LENGTH:
        raise InvalidInput({"body": TOO_LONG}, TOO_LONG)
    return body


async def chapter_notes(db: Executor, learner_id: int, chapter_id: int) -> list[Note]:
    """The learner's notes of one chapter, in the order of the video."""
    return await store.chapter_notes(db, learner_id, chapter_id)


async def create(
    db: Executor, learner_id: int, chapter_id: int, position_s: float, body: str, now_ms: int
) -> Note:
    """A note at `position_s` of a chapter the learner may watch now."""
    check_body(body)
    if not await may_watch(db, learner_id, chapter_id, now_ms):
        raise Forbidden(NOT_WATCHABLE)
    return await store.insert(db, learner_id, chapter_id, position_s, body)


async def edit(db: Executor, learner_id: int, note_id: int, body: str) -> Note:
    """Rewrite a note; another learner's is NotFound, exactly like a missing one."""
    check_body(body)
    note = await store.update(db, learner_id, note_id, body)
    if note is None:
        raise NotFound(NOT_FOUND)
    return note


async def delete(db: Executor, learner_id: int, note_id: int) -> None:
    if not await store.delete(db, learner_id, note_id):
        raise NotFound(NOT_FOUND)


async def my_notes(db: Executor, learner_id: int, search: str = "") -> list[NoteEntry]:
    """我的笔记: every note by plan, course, chapter and moment; `search` matches any part of
    a note, its course's or its chapter's title."""
    search = search.strip()[:SEARCH_MAX_LENGTH]
    return await store.entries(db, learner_id, search or None)
