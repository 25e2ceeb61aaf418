"""The progress core's scripts (lua/play.lua, beat.lua, answer.lua, trim.lua) as typed calls
through the Batcher."""

from collections.abc import Sequence
from typing import Any

from engine.kv import Batcher, Command
from engine.progress import keys
from engine.progress.attention import ANSWER_MS
from engine.progress.types import BeatOutcome, Check, Heartbeat, Lease, Rules
from engine.scripts import SCRIPTS

_PLAY = SCRIPTS["progress/play"]
_BEAT = SCRIPTS["progress/beat"]
_ANSWER = SCRIPTS["progress/answer"]
_TRIM = SCRIPTS["progress/trim"]


async def play(
    batcher: Batcher,
    *,
    learner_id: int,
    conn_id: str,
    node_id: str,
    chapter_id: int,
    duration_s: float,
    max_rate: float,
    stored_hwm_s: float,
    stored_position_s: float,
    position: float | None,
    now_ms: int,
    rules: Rules,
    next_check_s: float | None = None,
    check_id: str = "",
    also: Sequence[Command] = (),
) -> tuple[Lease, list[Any]]:
    """Take the learner's lease on a chapter and restart its state from what PostgreSQL
    stored (`position` None: resume), the next check-in `next_check_s` of playback away (None:
    none); `check_id` renames a pending check-in that expired. The timeline segment the
    previous playback left open is closed and queued for the flusher. `also` goes in the
    same round trip, its replies after."""
    replies = await batcher.call(
        [
            _PLAY.command(
                (keys.lease_key(learner_id), keys.state_key(learner_id, chapter_id)),
                conn_id,
                node_id,
                chapter_id,
                duration_s,
                max_rate,
                stored_hwm_s,
                stored_position_s,
                -1 if position is None else max(0.0, position),
                now_ms,
                keys.STATE_TTL_MS,
                rules.completion_tolerance_s,
                "" if next_check_s is None else next_check_s,
                check_id,
                ANSWER_MS,
            ),
            ("XADD", keys.STREAM, "*", "l", learner_id, "c", chapter_id),
            *also,
        ]
    )
    previous_conn, previous_node, hwm, position_s, complete, check, expires = replies[0]
    lease = Lease(
        previous_conn=previous_conn,
        previous_node=previous_node,
        hwm_s=float(hwm),
        position_s=float(position_s),
        complete=bool(int(complete)),
        check=Check.of(check, expires),
    )
    return lease, replies[2:]


async def beat(
    batcher: Batcher,
    rules: Rules,
    *,
    learner_id: int,
    conn_id: str,
    chapter_id: int,
    max_rate: float,
    beat: Heartbeat,
    check_id: str = "",
) -> BeatOutcome:
    """Validate one heartbeat and queue its chapter for the flusher, in one round trip;
    should the beat ask for a check-in, it is `check_id`."""
    replies = await batcher.call(
        [
            _BEAT.command(
                (keys.lease_key(learner_id), keys.state_key(learner_id, chapter_id)),
                conn_id,
                chapter_id,
                beat.seq,
                beat.position,
                int(beat.playing),
                int(beat.focused),
                beat.rate,
                beat.now_ms,
                rules.seek_tolerance_s,
                rules.gap_cap_s,
                rules.budget_cap_s(max_rate),
                rules.completion_tolerance_s,
                keys.STATE_TTL_MS,
                int(beat.release),
                check_id,
                ANSWER_MS,
                rules.blur_grace_ms,
                rules.grace_window_ms,
            ),
            ("XADD", keys.STREAM, "*", "l", learner_id, "c", chapter_id),
        ]
    )
    reason, credited, hwm, position_s, seek_to, complete, duration, check, expires = replies[0]
    return BeatOutcome(
        reason=reason,
        credited_s=float(credited),
        hwm_s=float(hwm),
        position_s=float(position_s),
        seek_to=float(seek_to) if seek_to != "" else None,
        complete=bool(complete),
        duration_s=float(duration),
        check=Check.of(check, expires) if check else None,
    )


async def answer(
    batcher: Batcher,
    *,
    learner_id: int,
    conn_id: str,
    chapter_id: int,
    check_id: str,
    now_ms: int,
    next_check_s: float | None,
) -> str:
    """Answer the learner's check-in from this socket: `ok`, `unknown` or `expired`; the
    chapter's timeline changed, so it is queued for the flusher in the same round trip."""
    replies = await batcher.call(
        [
            _ANSWER.command(
                (keys.lease_key(learner_id), keys.state_key(learner_id, chapter_id)),
                conn_id,
                check_id,
                now_ms,
                "" if next_check_s is None else next_check_s,
            ),
            ("XADD", keys.STREAM, "*", "l", learner_id, "c", chapter_id),
        ]
    )
    result: str = replies[0]
    return result


def trim(learner_id: int, chapter_id: int, closed: str) -> Command:
    """The call that forgets the closed timeline segments `closed` once they are stored."""
    return _TRIM.command((keys.state_key(learner_id, chapter_id),), closed)
