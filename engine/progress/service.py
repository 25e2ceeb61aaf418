"""Use cases of the progress core: play, beat, stop, and course progress for pages."""

from datetime import UTC, datetime

import msgspec

from engine.catalog.types import ChapterView, CourseDetail
from engine.db import Executor
from engine.errors import Forbidden, NotFound
from engine.kv import Batcher
from engine.progress import keys, store
from engine.progress.types import (
    BeatOutcome,
    ChapterState,
    CourseTally,
    Playing,
    percent,
)
from engine.settings import Settings

NOT_WATCHABLE = "该章节所属课程未选或培训计划未开放，无法学习"


class Rules(msgspec.Struct, frozen=True):
    """The validation tolerances, from the settings."""

    interval_s: float
    seek_tolerance_s: float
    completion_tolerance_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "Rules":
        return cls(
            settings.beat_interval_ms / 1000,
            settings.seek_tolerance_s,
            settings.completion_tolerance_s,
        )

    @property
    def gap_cap_s(self) -> float:
        """A silence longer than this earns nothing: three missed beats."""
        return 3 * self.interval_s

    def budget_cap_s(self, max_rate: float) -> float:
        """Credit banked while the video stalls, so a missed beat can be caught up."""
        return 2 * self.interval_s * max_rate + self.seek_tolerance_s


class Progress:
    """The progress core of one node: its scripts, batcher and rules."""

    def __init__(self, batcher: Batcher, play_sha: str, beat_sha: str, rules: Rules) -> None:
        self.batcher = batcher
        self.play_sha = play_sha
        self.beat_sha = beat_sha
        self.rules = rules

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
        at = datetime.fromtimestamp(now_ms / 1000, UTC)
        chapter = await store.watchable(db, learner_id, chapter_id, at)
        if chapter is None:
            raise Forbidden(NOT_WATCHABLE)
        stored = await store.course_chapters(db, learner_id, chapter.course_id)
        this = next(state for state in stored if state.chapter_id == chapter_id)
        others = [state for state in stored if state.chapter_id != chapter_id]
        commands = [
            (
                "EVALSHA",
                self.play_sha,
                2,
                keys.lease_key(learner_id),
                keys.state_key(learner_id, chapter_id),
                conn_id,
                node_id,
                chapter_id,
                chapter.duration_s,
                chapter.max_rate,
                this.hwm_s,
                this.position_s,
                -1 if position is None else max(0.0, position),
                now_ms,
                keys.STATE_TTL_MS,
                self.rules.completion_tolerance_s,
            ),
            *(
                ("HMGET", keys.state_key(learner_id, other.chapter_id), *LIVE_FIELDS)
                for other in others
            ),
        ]
        replies = await self.batcher.call(commands)
        previous_conn, previous_node, hwm, position_s, complete = replies[0]
        others_live = [
            _merge(other, reply) for other, reply in zip(others, replies[1:], strict=True)
        ]
        return Playing(
            chapter_id=chapter_id,
            hwm_s=float(hwm),
            position_s=float(position_s),
            duration_s=chapter.duration_s,
            max_rate=chapter.max_rate,
            complete=bool(int(complete)),
            previous_conn=previous_conn,
            previous_node=previous_node,
            course=msgspec.structs.replace(
                CourseTally.of(others_live), total_s=sum(state.duration_s for state in stored)
            ),
        )

    async def beat(
        self,
        *,
        learner_id: int,
        conn_id: str,
        chapter_id: int,
        max_rate: float,
        seq: int,
        position: float,
        playing: bool,
        focused: bool,
        rate: float,
        now_ms: int,
        release: bool = False,
    ) -> BeatOutcome:
        """Validate one heartbeat; its outcome is in Redis, and queued for PostgreSQL, on return."""
        rules = self.rules
        replies = await self.batcher.call(
            [
                (
                    "EVALSHA",
                    self.beat_sha,
                    2,
                    keys.lease_key(learner_id),
                    keys.state_key(learner_id, chapter_id),
                    conn_id,
                    chapter_id,
                    seq,
                    position,
                    int(playing),
                    int(focused),
                    rate,
                    now_ms,
                    rules.seek_tolerance_s,
                    rules.gap_cap_s,
                    rules.budget_cap_s(max_rate),
                    rules.completion_tolerance_s,
                    keys.STATE_TTL_MS,
                    int(release),
                ),
                ("XADD", keys.STREAM, "*", "l", learner_id, "c", chapter_id),
            ]
        )
        reason, credited, hwm, position_s, seek_to, complete, duration = replies[0]
        return BeatOutcome(
            reason=reason,
            credited_s=float(credited),
            hwm_s=float(hwm),
            position_s=float(position_s),
            seek_to=float(seek_to) if seek_to != "" else None,
            complete=bool(complete),
            duration_s=float(duration),
        )

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
