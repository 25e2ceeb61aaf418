"""Whatever order an attempt's frames arrive in, each answer and flag stored is the one of
the frame with the highest seq; a frame is stale exactly when a later one came first."""

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.exams import keys, scripts
from engine.kv import Batcher, create_redis
from engine.scripts import SCRIPTS
from tests.conftest import run_in_thread

LEARNER, ATTEMPT, NOW = 434343, 9, 1_700_000_000_000


@dataclass(frozen=True)
class Frame:
    question: int
    operation: scripts.Operation
    answer: str  # JSON as the service encodes it; "" unless answering
    seq: int


def frames_of(question: int, seqs: list[int], flagging: bool) -> st.SearchStrategy[list[Frame]]:
    """A question's frames, one per seq (a client numbers each frame anew)."""
    if flagging:
        operation = st.sampled_from(["flag", "unflag"])
        return st.tuples(*[operation for _ in seqs]).map(
            lambda ops: [Frame(question, op, "", seq) for op, seq in zip(ops, seqs, strict=True)]
        )
    answer = st.sampled_from(['["A"]', '["B"]', '["A","C"]', "[]"])
    return st.tuples(*[answer for _ in seqs]).map(
        lambda answers: [
            Frame(question, "answer", text, seq) for text, seq in zip(answers, seqs, strict=True)
        ]
    )


@st.composite
def arrivals(draw: st.DrawFn) -> list[Frame]:
    """Frames for a few questions' answers and flags, some sent twice, in any order."""
    sent: list[Frame] = []
    for question in (1, 2, 3):
        for flagging in (False, True):
            seqs = draw(st.lists(st.integers(0, 2**53), min_size=0, max_size=6, unique=True))
            sent += draw(frames_of(question, seqs, flagging))
    resent = draw(st.lists(st.sampled_from(sent), max_size=4)) if sent else []
    return draw(st.permutations(sent + resent))


async def scenario(redis_url: str, frames: list[Frame]) -> None:
    redis = create_redis(redis_url)
    attempt_keys = keys.attempt_keys(LEARNER, ATTEMPT)
    try:
        await SCRIPTS.load(redis)
        batcher = Batcher(redis, SCRIPTS)
        await redis.delete(*attempt_keys)
        await redis.hset(attempt_keys[0], mapping={"status": "in_progress", "deadline": NOW + 1})
        latest: dict[tuple[int, bool], Frame] = {}
        for frame in frames:
            outcome = await scripts.save(
                batcher,
                learner_id=LEARNER,
                attempt_id=ATTEMPT,
                question=frame.question,
                operation=frame.operation,
                answer_json=frame.answer,
                seq=frame.seq,
                now_ms=NOW,
            )
            slot = (frame.question, frame.operation == "answer")
            before = latest.get(slot)
            assert outcome == ("stale" if before and before.seq > frame.seq else "ok")
            if before is None or before.seq < frame.seq:
                latest[slot] = frame
        answers = await redis.hgetall(attempt_keys[1])
        flags = await redis.smembers(attempt_keys[2])
        assert answers == {
            str(question): frame.answer
            for (question, answering), frame in latest.items()
            if answering
        }
        assert flags == {
            str(question)
            for (question, answering), frame in latest.items()
            if not answering and frame.operation == "flag"
        }
        await redis.delete(*attempt_keys)
    finally:
        await redis.aclose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=arrivals())
def test_the_highest_seq_is_what_is_stored(
    server_urls: tuple[str, str], frames: list[Frame]
) -> None:
    run_in_thread(lambda: scenario(server_urls[1], frames))
