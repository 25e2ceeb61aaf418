"""The fault harness: under a steady load of learners, a running exam and a payment, kill
with SIGKILL in turn an engine process, the node holding the flusher's pending entries, the
node grading due attempts, Redis and PostgreSQL; after each, nothing acknowledged is lost or
doubled, and the clients carry on on a live node. The figures go to artifacts/faults.json."""

import asyncio
import json
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.faults.harness import Figures, Harness, running

pytestmark = [pytest.mark.faults, pytest.mark.timeout(280)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
STEADY_S = 3
# Another node claims a dead consumer's entries after 30 s idle; its successor, at once.
PENDING_TIMEOUT_S = 45


async def kill_an_engine(harness: Harness) -> None:
    victim = harness.nodes[0]

    async def kill() -> None:
        await harness.notify_during(victim.kill(), victim)
        # As `jixu serve --workers`' parent does: started again at once, same node id.
        await victim.start()
        await victim.wait_ready(harness.session)

    await harness.round(Figures("engine process", victim.name), kill)


async def kill_the_pending_holder(harness: Harness) -> None:
    figures = Figures("node holding the flusher's pending entries", "")

    async def kill() -> None:
        chapter = harness.players[0].chapter
        async with harness.pool.acquire() as lock, lock.transaction():
            # The flushers block on these rows with the entries they read unacknowledged.
            await lock.execute(
                "SELECT 1 FROM chapter_progress WHERE chapter_id = $1 FOR UPDATE", chapter
            )
            victim = await harness.pending_holder()
            held = await harness.pending_of(victim)
            await harness.notify_during(victim.kill(), victim)
        killed_at = harness.last_kill
        await victim.start()
        await victim.wait_ready(harness.session)
        while await harness.pending_of(victim):
            if time.monotonic() - killed_at > PENDING_TIMEOUT_S:
                figures.problems.append(f"{victim.name}'s pending entries not flushed")
                break
            await asyncio.sleep(0.1)
        figures.victim = (
            f"{victim.name} ({held} entries pending, flushed"
            f" {time.monotonic() - killed_at:.1f} s after the kill)"
        )

    await harness.round(figures, kill)


async def kill_the_grading_node(harness: Harness) -> None:
    figures = Figures("node grading the due attempts", "")

    async def kill() -> None:
        async with harness.pool.acquire() as lock, lock.transaction():
            # Grading stops at its first insert naming a learner (the best result: a key
            # share on the learner's row): the node has claimed the attempts, closed their
            # drafts in Redis and written their grades, uncommitted.
            await lock.execute(
                "SELECT 1 FROM users WHERE id = ANY($1::bigint[]) FOR UPDATE",
                [examinee.learner_id for examinee in harness.examinees],
            )
            victim = await harness.grading_node(lock)
            statuses = await lock.fetch(
                "SELECT status FROM exam_attempts WHERE id = ANY($1::bigint[])",
                [examinee.attempt for examinee in harness.examinees],
            )
            # Mid-grading: the drafts closed in Redis, the grades not committed.
            figures.victim = (
                f"{victim.name}; attempts in PostgreSQL {sorted({row[0] for row in statuses})},"
                f" in Redis {sorted(set(await harness.drafts_closed()))}"
            )
            await harness.notify_during(victim.kill(), victim)
        await victim.start()
        await victim.wait_ready(harness.session)

    await harness.round(figures, kill, deadline_in_s=3)


async def kill_redis(harness: Harness) -> None:
    async def kill() -> None:
        await harness.notify_during(asyncio.to_thread(harness.redis.kill), harness.nodes[1])
        started = time.monotonic()
        await asyncio.to_thread(harness.redis.start)  # from its append-only file
        figures.victim = f"redis-server (restarted in {time.monotonic() - started:.1f} s)"

    figures = Figures("Redis (single, AOF appendfsync always)", "")

    await harness.round(figures, kill)


async def kill_postgres(harness: Harness) -> None:
    async def kill() -> None:
        await harness.notify_during(asyncio.to_thread(harness.postgres.kill), harness.nodes[2])
        started = time.monotonic()
        await asyncio.to_thread(harness.postgres.start)  # recovers from its WAL
        figures.victim = (
            f"postmaster and backends (restarted in {time.monotonic() - started:.1f} s)"
        )
        await harness.pool.expire_connections()

    figures = Figures("PostgreSQL", "")
    await harness.round(figures, kill)


async def test_killing_each_part_under_load_loses_nothing() -> None:
    # Short: PostgreSQL's socket path must fit in 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="jixu-faults-"))
    async with running(folder) as harness:
        await asyncio.sleep(STEADY_S)
        for kill in (
            kill_an_engine,
            kill_the_pending_holder,
            kill_the_grading_node,
            kill_redis,
            kill_postgres,
        ):
            await kill(harness)
        final = await harness.final_problems()
    ARTIFACTS.mkdir(exist_ok=True)
    report = {"kills": [asdict(figures) for figures in harness.figures], "final": final}
    (ARTIFACTS / "faults.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    assert [(f.kill, f.problems) for f in harness.figures if f.problems] == []
    assert final == []
    assert all(figures.recovered_s is not None for figures in harness.figures)
