"""The learner's study record (学习记录): timeline segments as Redis holds them.

Each beat extends its chapter's open segment or, with another outcome, closes it onto the
state's `closed` field (lua/beat.lua); the flusher writes both with the progress, keyed by
(learner, chapter, start) and with GREATEST, so writing one twice changes nothing, then
trims what it wrote (lua/trim.lua). Pages read PostgreSQL, overtaken by Redis.
"""

from engine.progress.types import Segment

# The chapter state's fields that hold its timeline (lua/beat.lua); the open segment ends at `at`.
LIVE_FIELDS = ("sf", "sc", "sr", "at", "closed")


def live_segments(fields: list[str | None]) -> list[Segment]:
    """The segments a chapter's state holds (HMGET of LIVE_FIELDS): closed, then open."""
    start, credited, reason, at, closed = fields
    segments = [_parse(item) for item in closed.split(";") if item] if closed else []
    # Credit without length: beats at one instant, spending credit banked before.
    if start and at and (int(at) > int(start) or float(credited or 0) > 0):
        segments.append(Segment(int(start), int(at), float(credited or 0), reason or None))
    return segments


def merge(stored: list[Segment], live: list[Segment]) -> list[Segment]:
    """PostgreSQL's segments, overtaken by Redis's (the flusher lags), in order."""
    by_start = {segment.from_ms: segment for segment in stored}
    for segment in live:
        known = by_start.get(segment.from_ms)
        if known is None or segment.to_ms >= known.to_ms:
            by_start[segment.from_ms] = segment
    return [by_start[start] for start in sorted(by_start)]


def _parse(item: str) -> Segment:
    start, end, credited, reason = item.split(",")
    return Segment(int(start), int(end), float(credited), reason or None)
