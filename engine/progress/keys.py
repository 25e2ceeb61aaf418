"""Redis keys of the progress core (the convention: engine/keys.py)."""

from engine.keys import user_tag

# `progress` STREAM of {l: learner, c: chapter}: "this state changed", appended in the same
# round trip as each beat; the flusher's consumer group reads the state and writes it to
# PostgreSQL. Entries are deleted once acknowledged (no TTL). Not a learner's key: it names
# learners but holds no state of theirs, so no script touches it together with theirs.
STREAM = "progress"
FLUSH_GROUP = "flushers"
STATE_TTL_MS = 24 * 60 * 60 * 1000


def lease_key(learner_id: int) -> str:
    """`{u:<id>}:lease` HASH {conn, node, chapter, check, check_exp, graced}: the learner's
    single playback lease, the check-in waiting for its answer (id, expiry ms) and when a
    blur was last forgiven (ms). TTL: a day (`STATE_TTL_MS`), renewed by every beat; a new
    `play` takes the lease over whatever it holds, and `stop` gives up the lease alone: the
    check-in and the grace stay with the learner, across sockets, nodes and chapters."""
    return f"{user_tag(learner_id)}:lease"


def state_key(learner_id: int, chapter_id: int) -> str:
    """`{u:<id>}:play:<chapter>` HASH {hwm, pos, dur, rate, seq, at, budget, active, idle,
    complete, due, blur, sf, sc, sr, closed}: validated playback state of one chapter, the
    playback seconds until the next check-in, when the current blur began, the timeline's
    open segment (from ms, credited s, reason; it ends at `at`) and the segments closed since
    the flusher last wrote them (`from,to,credited,reason;`…). TTL: a day after the last beat
    (`STATE_TTL_MS`); the flusher has long since written it to PostgreSQL, and `play`
    rebuilds it from there."""
    return f"{user_tag(learner_id)}:play:{chapter_id}"
