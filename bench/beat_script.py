"""What a beat costs Redis: the heartbeat script of this checkout against an earlier one's.

    .venv/bin/python bench/beat_script.py --before 0e99759 --beats 200000

Runs both scripts, in turns, on the same simulated learners (honest playback, a beat every
5 s of the test's clock) against an embedded Redis (or REDIS_URL) and reports Redis's own
CPU time per call (INFO `used_cpu_user` + `used_cpu_sys`): the script's work alone, which a
busy host disturbs far less than wall time. Each script is called with the arguments of
its own version, the earlier one without the check-in and grace arguments it ignores.
"""

import argparse
import asyncio
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from processes import stores  # noqa: E402

from engine.kv import create_redis  # noqa: E402
from engine.progress import keys  # noqa: E402
from engine.scripts import SCRIPTS, Script, Scripts  # noqa: E402

BATCH = 500
LEARNERS = 2000


def earlier_script(revision: str) -> Script:
    source = subprocess.run(
        ["git", "show", f"{revision}:engine/progress/lua/beat.lua"],
        cwd=BENCH_DIR.parent,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Script(
        "before", source, hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
    )


async def cpu_s(redis: object) -> float:
    info = await redis.info("cpu")  # type: ignore[attr-defined]
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def run(
    redis: object, script: Script, learners: range, beats: int, now: int, extra: tuple[object, ...]
) -> float:
    """Redis CPU seconds per beat of `script`, `beats` of them spread over the learners."""
    execute = redis.execute_command  # type: ignore[attr-defined]
    for learner in learners:  # a fresh lease and state, as `play` leaves them
        await execute("HSET", keys.lease_key(learner), "conn", "c", "node", "n", "chapter", 1)
        await execute(
            "HSET", keys.state_key(learner, 1), "hwm", 0, "pos", 0, "dur", 1e6, "rate", 1,
            "seq", 0, "at", now, "budget", 0, "active", 1, "idle", "", "complete", 0,
            "due", 1e9, "sf", "",
        )  # fmt: skip
    before = await cpu_s(redis)
    rounds = beats // len(learners)
    for seq in range(1, rounds + 1):
        at = now + seq * 5000
        for first in range(0, len(learners), BATCH):
            pipe = redis.pipeline(transaction=False)  # type: ignore[attr-defined]
            for learner in learners[first : first + BATCH]:
                pipe.execute_command(
                    *script.command(
                        (keys.lease_key(learner), keys.state_key(learner, 1)),
                        "c", 1, seq, seq * 5.0, 1, 1, 1.0, at, 2, 15, 22, 2, 86_400_000, 0, *extra,
                    )
                )  # fmt: skip
            replies = await pipe.execute()
            assert all(reply[1] == "5" for reply in replies), replies[:1]
    return (await cpu_s(redis) - before) / (rounds * len(learners))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the git revision to compare with")
    parser.add_argument("--beats", type=int, default=200_000, help="beats per script and turn")
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="jixu-bench-") as folder,
        stores(Path(folder)) as (
            _,
            redis_url,
            _,
        ),
    ):
        redis = create_redis(os.environ.get("REDIS_URL") or redis_url)
        before, after = earlier_script(args.before), SCRIPTS["progress/beat"]
        await Scripts([before, after]).load(redis)
        # The check-in id, its answer window, the grace and its window: check-ins on.
        after_extra = ("0123456789abcdef", 300_000, 1_500, 900_000)
        costs: dict[str, list[float]] = {"before": [], "after": []}
        for turn in range(args.turns):
            now = 1_700_000_000_000 + turn * 10**9
            costs["before"].append(await run(redis, before, range(LEARNERS), args.beats, now, ()))
            costs["after"].append(
                await run(redis, after, range(LEARNERS, 2 * LEARNERS), args.beats, now, after_extra)
            )
        await redis.aclose()
    for name, values in costs.items():
        cells = " ".join(f"{1e6 * value:.1f}" for value in values)
        print(
            f"{name:7} Redis CPU per beat (us): {cells}; median {1e6 * statistics.median(values):.1f}"
        )
    ratio = statistics.median(costs["after"]) / statistics.median(costs["before"])
    print(f"after / before: {ratio:.1%}")


if __name__ == "__main__":
    asyncio.run(main())
