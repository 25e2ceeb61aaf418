"""Playback state as the progress core sees it."""

import math

import msgspec

from engine.settings import DEFAULT_ATTENTION_INTERVAL_S, Settings


def percent(covered_s: float, total_s: float, complete: bool) -> int:
    """Whole percent of a chapter or a course covered; 100 only once it is complete.

    Something without length (a course without chapters) has nothing to complete: 0.
    """
    if not total_s:
        return 0
    if complete:
        return 100
    return min(99, math.floor(100 * covered_s / total_s))


class Rules(msgspec.Struct, frozen=True):
    """The validation tolerances, from the settings; check-ins and the blur grace off unless
    set."""

    interval_s: float
    seek_tolerance_s: float
    completion_tolerance_s: float
    attention_interval_s: float = 0.0
    blur_grace_ms: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> "Rules":
        return cls(
            settings.beat_interval_ms / 1000,
            settings.seek_tolerance_s,
            settings.completion_tolerance_s,
            settings.attention_interval_s,
            settings.blur_grace_ms,
        )

    @property
    def grace_window_ms(self) -> int:
        """At most one blur is forgiven in this long: one check-in interval (900 s when
        check-ins are off), so graces add up to 1.5 s in 15 minutes by default."""
        return round(1000 * (self.attention_interval_s or DEFAULT_ATTENTION_INTERVAL_S))

    @property
    def gap_cap_s(self) -> float:
        """A silence longer than this earns nothing: three missed beats."""
        return 3 * self.interval_s

    def budget_cap_s(self, max_rate: float) -> float:
        """Credit banked while the video stalls, so a missed beat can be caught up."""
        return 2 * self.interval_s * max_rate + self.seek_tolerance_s


class Heartbeat(msgspec.Struct, frozen=True):
    """One beat as the player sent it, at the server's time; `release` ends the playback."""

    seq: int
    position: float
    playing: bool
    focused: bool
    rate: float
    now_ms: int
    release: bool = False


class Passed(msgspec.Struct, frozen=True):
    """A learner's plan that became 已通过."""

    learner_id: int
    plan_id: int
    title: str


class Watchable(msgspec.Struct, frozen=True):
    """A chapter a learner may watch now, with what validating it needs."""

    chapter_id: int
    course_id: int
    duration_s: float
    max_rate: float


class ChapterState(msgspec.Struct, frozen=True):
    chapter_id: int
    title: str
    duration_s: float
    hwm_s: float
    position_s: float
    complete: bool


class CourseTally(msgspec.Struct, frozen=True):
    """The course around the chapter being played: what the other chapters contribute."""

    total_s: float
    others_covered_s: float
    others_complete: bool

    @classmethod
    def of(cls, chapters: list[ChapterState]) -> "CourseTally":
        return cls(
            total_s=sum(state.duration_s for state in chapters),
            others_covered_s=sum(min(state.hwm_s, state.duration_s) for state in chapters),
            others_complete=all(state.complete for state in chapters),
        )

    def progress(self, hwm_s: float, complete: bool) -> int:
        """Whole percent of the course covered; 100 only when every chapter is complete."""
        return percent(
            self.others_covered_s + hwm_s, self.total_s, self.others_complete and complete
        )


class Check(msgspec.Struct, frozen=True):
    """A check-in the learner must answer before playback earns again."""

    id: str
    expires_ms: int

    @classmethod
    def of(cls, check_id: str, expires_ms: str) -> "Check | None":
        """From a script's reply: '' when there is none."""
        return cls(check_id, int(expires_ms)) if check_id else None


class Playing(msgspec.Struct, frozen=True):
    chapter_id: int
    hwm_s: float
    position_s: float
    duration_s: float
    max_rate: float
    complete: bool
    previous_conn: str
    previous_node: str
    course: CourseTally
    check: Check | None = None  # still waiting for its answer


class BeatOutcome(msgspec.Struct, frozen=True):
    reason: str
    credited_s: float
    hwm_s: float
    position_s: float
    seek_to: float | None
    complete: bool
    duration_s: float
    check: Check | None = None  # asked for by this beat

    def chapter_progress(self) -> int:
        return percent(self.hwm_s, self.duration_s, self.complete)


class Lease(msgspec.Struct, frozen=True):
    """A chapter's lease just taken: who held it before, and where playback starts."""

    previous_conn: str
    previous_node: str
    hwm_s: float
    position_s: float
    complete: bool
    check: Check | None


class Segment(msgspec.Struct, frozen=True):
    """A stretch of the learner's study record (学习记录): from one beat to another with one
    outcome; `reason` None where the time was credited."""

    from_ms: int
    to_ms: int
    credited_s: float
    reason: str | None
