"""Whatever a client sends, credit stays within what the server's clock allows."""

import random
from dataclasses import dataclass
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.kv import Batcher, create_redis
from engine.progress import keys, scripts, timeline
from engine.progress.service import Progress
from engine.progress.types import Heartbeat, Rules
from engine.scripts import SCRIPTS
from tests.conftest import run_in_thread

# Check-ins and the blur grace on: neither may let credit pass the clock.
RULES = Rules(5.0, 2.0, 2.0, attention_interval_s=20, blur_grace_ms=1500)


@dataclass(frozen=True)
class Step:
    after_s: float
    move_s: float
    playing: bool
    focused: bool
    rate: float
    seq_step: int


steps = st.builds(
    Step,
    after_s=st.floats(0, 40, allow_nan=False),
    move_s=st.one_of(st.floats(-30, 60, allow_nan=False), st.just(5.0)),
    playing=st.booleans(),
    focused=st.booleans(),
    rate=st.sampled_from([0.5, 1.0, 1.5, 2.0, 4.0]),
    seq_step=st.sampled_from([1, 1, 1, 1, 0, -1, 3]),
)


async def scenario(redis_url: str, duration: float, max_rate: float, plan: list[Step]) -> None:
    redis = create_redis(redis_url)
    try:
        await SCRIPTS.load(redis)
        batcher = Batcher(redis, SCRIPTS)
        progress = Progress(batcher, RULES, random.Random(0))
        learner, chapter, now = 424242, 7, 1_700_000_000_000
        await redis.delete(keys.lease_key(learner), keys.state_key(learner, chapter))
        started, _ = await scripts.play(
            batcher,
            learner_id=learner,
            conn_id="conn",
            node_id="node",
            chapter_id=chapter,
            duration_s=duration,
            max_rate=max_rate,
            stored_hwm_s=0,
            stored_position_s=0,
            position=0,
            now_ms=now,
            rules=RULES,
            next_check_s=15.0,
            check_id="first",
        )
        assert started.hwm_s == 0
        start, position, seq, credited, hwm = now, 0.0, 0, 0.0, 0.0
        for step in plan:
            now += round(step.after_s * 1000)
            position = max(0.0, position + step.move_s)
            seq = max(0, seq + step.seq_step)
            outcome = await progress.beat(
                learner_id=learner,
                conn_id="conn",
                chapter_id=chapter,
                max_rate=max_rate,
                beat=Heartbeat(seq, position, step.playing, step.focused, step.rate, now),
            )
            assert outcome.credited_s >= 0
            assert outcome.hwm_s >= hwm - 1e-9
            assert outcome.hwm_s <= duration + 1e-9
            credited += outcome.credited_s
            hwm = outcome.hwm_s
            assert hwm == credited or abs(hwm - credited) < 1e-6
            elapsed_s = (now - start) / 1000
            assert credited <= elapsed_s * max_rate + RULES.seek_tolerance_s + 1e-6
            if outcome.seek_to is not None:
                position = outcome.seek_to
        # The study record accounts for every second credited, in order, without overlaps.
        fields = await redis.hmget(keys.state_key(learner, chapter), timeline.LIVE_FIELDS)
        segments = timeline.live_segments(fields)
        assert abs(sum(segment.credited_s for segment in segments) - credited) < 1e-6
        for earlier, later in pairwise(segments):
            assert earlier.from_ms < earlier.to_ms <= later.from_ms
        await redis.delete(keys.lease_key(learner), keys.state_key(learner, chapter))
    finally:
        await redis.aclose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    duration=st.floats(20, 900, allow_nan=False),
    max_rate=st.sampled_from([1.0, 1.5, 2.0]),
    plan=st.lists(steps, min_size=1, max_size=40),
)
def test_credit_never_exceeds_server_time(
    server_urls: tuple[str, str], duration: float, max_rate: float, plan: list[Step]
) -> None:
    run_in_thread(lambda: scenario(server_urls[1], duration, max_rate, plan))
