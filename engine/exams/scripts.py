"""The exam scripts (lua/save.lua, lua/close.lua) as typed calls through the Batcher."""

from collections.abc import Sequence
from typing import Literal, cast

from engine.exams import keys
from engine.kv import Batcher
from engine.scripts import SCRIPTS

_SAVE = SCRIPTS["exams/save"]
_CLOSE = SCRIPTS["exams/close"]

SaveOutcome = Literal["ok", "stale", "missing", "submitted", "deadline_passed"]
Operation = Literal["answer", "flag", "unflag"]
# An attempt's drafts as Redis holds them: question id → JSON answer, flagged question ids.
RedisDrafts = tuple[dict[str, str], list[str]]


async def save(
    batcher: Batcher,
    *,
    learner_id: int,
    attempt_id: int,
    question: int,
    operation: Operation,
    answer_json: str,
    seq: int | None,
    now_ms: int,
) -> SaveOutcome:
    """Store an answer (JSON, "" unless answering) or a flag while the attempt is open;
    "stale" when a frame of it with a higher `seq` is stored (None: no order to keep)."""
    [outcome] = await batcher.call(
        [
            _SAVE.command(
                keys.attempt_keys(learner_id, attempt_id),
                question,
                operation,
                answer_json,
                now_ms,
                keys.GRACE_MS,
                keys.KEEP_MS,
                "" if seq is None else seq,
            )
        ]
    )
    return cast(SaveOutcome, outcome)


async def close(batcher: Batcher, attempts: Sequence[tuple[int, int]]) -> list[RedisDrafts | None]:
    """Close each (learner id, attempt id) to answers and read its drafts, in one round trip
    of its own; None for an attempt Redis no longer knows."""
    replies = await batcher.execute(
        [_CLOSE.command(keys.attempt_keys(learner, attempt)) for learner, attempt in attempts]
    )
    return [
        (dict(zip(answers[::2], answers[1::2], strict=True)), flags) if found else None
        for found, answers, flags in replies
    ]
