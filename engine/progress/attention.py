"""Check-ins: when the next one falls due, and their ids.

Drawn here, with the node's unpredictable generator, and handed to the scripts, which stay
deterministic. The moment is measured in seconds of playback, uniform between 15 s and
2 x interval - 15 s: the mean is the interval, a learner who walks away stops earning within
that maximum, and no moment after the first 15 s is safe to leave at.
"""

import random

# No check-in within this much playback of a `play` (nor of an answer).
FIRST_AFTER_S = 15.0
# How long a check-in may be answered; after that `attention.answer` is refused (`expired`)
# and the next `play` asks again, under a new id. Unanswered, it blocks credit either way.
ANSWER_MS = 5 * 60 * 1000


def next_check_s(rng: random.Random, interval_s: float) -> float | None:
    """Seconds of playback until the next check-in; None when check-ins are off."""
    if not interval_s:
        return None
    latest = max(FIRST_AFTER_S, 2 * interval_s - FIRST_AFTER_S)
    return rng.uniform(FIRST_AFTER_S, latest)


def check_id(rng: random.Random) -> str:
    """A fresh check-in id: 64 random bits."""
    return f"{rng.getrandbits(64):016x}"
