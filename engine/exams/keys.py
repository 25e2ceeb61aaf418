"""Redis keys of exam attempts (the convention: engine/keys.py); all of a learner's keys
share the `{u:<id>}` hash tag, so one script takes them together."""

from engine.keys import user_tag

# Answers this late after the deadline are still taken: the network's share of the clock.
GRACE_MS = 2_000
# How long the drafts outlive the deadline in Redis.
KEEP_MS = 24 * 60 * 60 * 1000


def attempt_key(learner_id: int, attempt_id: int) -> str:
    """`{u:<id>}:exam:<attempt>` HASH {status, deadline, exam, answer_seq:<question>,
    flag_seq:<question>}: the attempt's state, written when it starts, and the seq of each
    answer and flag stored (a frame with a lower one is stale). TTL: until a day after the deadline plus grace (`KEEP_MS`); by then the
    attempt is graded and PostgreSQL holds its answers."""
    return f"{user_tag(learner_id)}:exam:{attempt_id}"


def answers_key(learner_id: int, attempt_id: int) -> str:
    """`{u:<id>}:exam:<attempt>:answers` HASH question id → JSON list of shown option keys:
    the drafts, each acknowledged only once written here. TTL: as the attempt hash, set by
    each write."""
    return f"{user_tag(learner_id)}:exam:{attempt_id}:answers"


def flags_key(learner_id: int, attempt_id: int) -> str:
    """`{u:<id>}:exam:<attempt>:flags` SET of flagged question ids (标记). TTL: as the
    answers."""
    return f"{user_tag(learner_id)}:exam:{attempt_id}:flags"


def sockets_key(learner_id: int, attempt_id: int) -> str:
    """`{u:<id>}:exam:<attempt>:sockets` HASH connection id → node id: the sockets that
    joined the attempt, to push an auto-submitted result to whichever node holds them.
    TTL: as the attempt hash; stale entries are harmless (the hub ignores connections that
    are gone)."""
    return f"{user_tag(learner_id)}:exam:{attempt_id}:sockets"


def attempt_keys(learner_id: int, attempt_id: int) -> tuple[str, str, str]:
    """The keys every exam script takes, in its KEYS order: the attempt HASH, the answers
    HASH and the flags SET (TTLs as above)."""
    return (
        attempt_key(learner_id, attempt_id),
        answers_key(learner_id, attempt_id),
        flags_key(learner_id, attempt_id),
    )
