"""Use cases of the progress core: play, beat, stop, check-ins, and course progress and the
study record for pages."""

import random

import msgspec

from engine.catalog.types import ChapterView, CourseDetail
from engine.clock import utc_time
from engine.db import Executor
from engine.errors import DomainError, Forbidden, NotFound
from engine.kv import Batcher
from engine.progress import attention, keys, scripts, store, timeline
from engine.progress.types import (
    BeatOutcome,
    ChapterState,
    CourseTally,
    Heartbeat,
    Playing,
    Rules,
    Segment,
    percent,
)

NOT_WATCHABLE = "该章节所属课程未选或培训计划未开放，无法学习"
ANSWER_REFUSED = {
    "unknown": "没有需要确认的在线学习提示",
    "expired": "在线学习确认已超时，请重新开始播放",
}


async def may_watch(db: Executor, learner_id: int, chapter_id: int, now_ms: int) -> bool:
    """Whether the learner may watch the chapter now: the rule `play` holds to."""
    return await store.watchable(db, learner_id, chapter_id, utc_time(now_ms)) is not None


async def watchable_courses(
    db: Executor, learner_id: int, course_ids: list[int], now_ms: int
) -> set[int]:
    """Those of the courses the learner may watch now: `may_watch`'s rule, for many at once."""
    return await store.watchable_courses(db, learner_id, course_ids, utc_time(now_ms))


class Progress:
    """The progress core of one node: its batcher (and so its scripts) and rules."""

    def __init__(self, batcher: Batcher, rules: Rules, rng: random.Random) -> None:
        self.batcher = batcher
        self.rules = rules
        self.rng = rng  # check-in moments and ids: unpredictable in production

    async def play(
        self,
        db: Executor,
        *,
        learner_id: int,
        conn_id: str,
        node_id: str,
        chapter_id: int,
        position: float | None,
        now_ms: int,
    ) -> Playing:
        """Take the playback lease for a chapter the learner may watch; Forbidden otherwise."""
        chapter = await store.watchable(db, learner_id, chapter_id, utc_time(now_ms))
        if chapter is None:
            raise Forbidden(NOT_WATCHABLE)
        stored = await store.course_chapters(db, learner_id, chapter.course_id)
        this = next(state for state in stored if state.chapter_id == chapter_id)
        others = [state for state in stored if state.chapter_id != chapter_id]
        lease, live = await scripts.play(
            self.batcher,
            learner_id=learner_id,
            conn_id=conn_id,
            node_id=node_id,
            chapter_id=chapter_id,
            duration_s=chapter.duration_s,
            max_rate=chapter.max_rate,
            stored_hwm_s=this.hwm_s,
            stored_position_s=this.position_s,
            position=position,
            now_ms=now_ms,
            rules=self.rules,
            next_check_s=attention.next_check_s(self.rng, self.rules.attention_interval_s),
            check_id=attention.check_id(self.rng),
            also=[
                ("HMGET", keys.state_key(learner_id, other.chapter_id), *LIVE_FIELDS)
                for other in others
            ],
        )
        others_live = [_merge(other, reply) for other, reply in zip(others, live, strict=True)]
        return Playing(
            chapter_id=chapter_id,
            hwm_s=lease.hwm_s,
            position_s=lease.position_s,
            duration_s=chapter.duration_s,
            max_rate=chapter.max_rate,
            complete=lease.complete,
            previous_conn=lease.previous_conn,
            previous_node=lease.previous_node,
            course=msgspec.structs.replace(
                CourseTally.of(others_live), total_s=sum(state.duration_s for state in stored)
            ),
            check=lease.check,
        )

    async def beat(
        self, *, learner_id: int, conn_id: str, chapter_id: int, max_rate: float, beat: Heartbeat
    ) -> BeatOutcome:
        """Validate one heartbeat; its outcome is in Redis, and queued for PostgreSQL, on return."""
        return await scripts.beat(
            self.batcher,
            self.rules,
            learner_id=learner_id,
            conn_id=conn_id,
            chapter_id=chapter_id,
            max_rate=max_rate,
            beat=beat,
            check_id=attention.check_id(self.rng) if self.rules.attention_interval_s else "",
        )

    async def answer(
        self, *, learner_id: int, conn_id: str, chapter_id: int, check_id: str, now_ms: int
    ) -> None:
        """Answer the learner's check-in from the socket playing `chapter_id`, and draw the
        next; DomainError `unknown` or `expired` when refused."""
        result = await scripts.answer(
            self.batcher,
            learner_id=learner_id,
            conn_id=conn_id,
            chapter_id=chapter_id,
            check_id=check_id,
            now_ms=now_ms,
            next_check_s=attention.next_check_s(self.rng, self.rules.attention_interval_s),
        )
        if result != "ok":
            raise DomainError(ANSWER_REFUSED[result], code=result)

    async def timelines(
        self, db: Executor, learner_id: int, chapter_ids: list[int]
    ) -> dict[int, list[Segment]]:
        """The learner's study record of each chapter: PostgreSQL's, overtaken by Redis's."""
        stored = await store.segments(db, learner_id, chapter_ids)
        live = await self.batcher.call(
            [
                ("HMGET", keys.state_key(learner_id, chapter_id), *timeline.LIVE_FIELDS)
                for chapter_id in chapter_ids
            ]
        )
        return {
            chapter_id: timeline.merge(stored[chapter_id], timeline.live_segments(fields))
            for chapter_id, fields in zip(chapter_ids, live, strict=True)
        }

    async def timeline(self, db: Executor, learner_id: int, chapter_id: int) -> list[Segment]:
        """The learner's own study record of one chapter; NotFound for no such chapter."""
        if not await store.chapter_exists(db, chapter_id):
            raise NotFound("章节不存在")
        return (await self.timelines(db, learner_id, [chapter_id]))[chapter_id]

    async def course_detail(self, db: Executor, learner_id: int, course_id: int) -> CourseDetail:
        """A course with its 目录: each chapter's progress as Redis knows it right now."""
        course = await store.course_info(db, learner_id, course_id)
        if course is None:
            raise NotFound("课程不存在")
        stored = await store.course_chapters(db, learner_id, course_id)
        live = await self.batcher.call(
            [("HMGET", keys.state_key(learner_id, c.chapter_id), *LIVE_FIELDS) for c in stored]
        )
        states = [_merge(state, reply) for state, reply in zip(stored, live, strict=True)]
        return CourseDetail(
            **course,
            # Every chapter is among the "others": nothing is being played here.
            progress=CourseTally.of(states).progress(0.0, complete=True),
            chapters=[
                ChapterView(
                    id=state.chapter_id,
                    title=state.title,
                    duration_s=state.duration_s,
                    hwm=min(state.hwm_s, state.duration_s),
                    position=state.position_s,
                    complete=state.complete,
                    progress=percent(state.hwm_s, state.duration_s, state.complete),
                )
                for state in states
            ],
        )


# What Redis knows of a chapter ahead of PostgreSQL (the flusher lags by up to a batch).
LIVE_FIELDS = ("hwm", "complete", "pos")


def _merge(stored: ChapterState, live: list[str | None]) -> ChapterState:
    """PostgreSQL's state of a chapter, overtaken by Redis's: it holds the latest beat."""
    hwm, complete, position = live
    if hwm is None or position is None:
        return stored
    return msgspec.structs.replace(
        stored,
        hwm_s=max(stored.hwm_s, float(hwm)),
        position_s=float(position),
        complete=stored.complete or complete == "1",
    )
