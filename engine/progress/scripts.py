"""The progress core's scripts (lua/play.lua, lua/beat.lua) as typed calls through the Batcher."""

from collections.abc import Sequence
from typing import Any

from engine.kv import Batcher, Command
from engine.progress import keys
from engine.progress.types import BeatOutcome, Heartbeat, Lease, Rules
from engine.scripts import SCRIPTS

_PLAY = SCRIPTS["progress/play"]
_BEAT = SCRIPTS["progress/beat"]


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
    also: Sequence[Command] = (),
) -> tuple[Lease, list[Any]]:
    """Take the learner's lease on a chapter and restart its state from what PostgreSQL
    stored (`position` None: resume); `also` goes in the same round trip, its replies after."""
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
            ),
            *also,
        ]
    )
    previous_conn, previous_node, hwm, position_s, complete = replies[0]
    lease = Lease(
        previous_conn=previous_conn,
        previous_node=previous_node,
        hwm_s=float(hwm),
        position_s=float(position_s),
        complete=bool(int(complete)),
    )
    return lease, replies[1:]


async def beat(
    batcher: Batcher,
    rules: Rules,
    *,
    learner_id: int,
    conn_id: str,
    chapter_id: int,
    max_rate: float,
    beat: Heartbeat,
) -> BeatOutcome:
    """Validate one heartbeat and queue its chapter for the flusher, in one round trip."""
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
