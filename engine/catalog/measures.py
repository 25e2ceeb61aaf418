"""A course's measures: its 学时, stored in tenths of an hour, its price in a plan, and how
much of its first chapter 试看 shows."""

import math

# 试看: the first minutes of a course's first chapter, to a learner who has not selected it.
PREVIEW_S = 180


def hours(tenths: int) -> float:
    """学时 as people count them: 15 tenths → 1.5."""
    return tenths / 10


def tenths(hours: float) -> int:
    """学时 as stored: 1.5 → 15 tenths."""
    return round(hours * 10)


def price_fen(hour_tenths: int, price_per_hour_fen: int) -> int:
    """A course's hours at its plan's price per hour, rounded down to the fen."""
    return hour_tenths * price_per_hour_fen // 10


def preview_bytes(size: int, duration_s: float) -> int:
    """How much of a chapter's file 试看 may send: the first PREVIEW_S seconds' share at the
    file's average bitrate (seconds do not map to bytes exactly; the share is close)."""
    if duration_s <= PREVIEW_S:
        return size
    return math.ceil(size * PREVIEW_S / duration_s)
