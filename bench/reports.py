"""统计报表 at scale: every report's queries timed, 20 runs each, as the super administrator and
as the administrator of one district, on a population of 100,000 generated learners.

    PYTHONPATH=$PWD .venv/bin/python bench/reports.py                  # seeds a fresh portal
    DATABASE_URL=postgresql://… PYTHONPATH=$PWD .venv/bin/python bench/reports.py   # reuses one

Without DATABASE_URL it seeds `jixu seed --demo` and `jixu seed --learners N` into a data
folder of its own (embedded PostgreSQL; a few minutes) and keeps it for the next run
(`--data-dir`). It prints the median and p95 of each report's use case (all the queries its
page runs) and the load average: the host is shared, so say how busy it was.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from engine import db
from engine.admin.scope import Scope
from engine.embedded import EmbeddedPostgres
from engine.reports import service

RUNS = 20


def seed(data_dir: Path, learners: int) -> None:
    """Seed the demo catalogue and `learners` generated learners into `data_dir` (once: a
    data folder that has them already is reused)."""
    marker = data_dir / f"reports-bench-{learners}.seeded"
    if not marker.exists():
        environment = os.environ | {"JIXU_DATA_DIR": str(data_dir), "JIXU_ENV": "development"}
        for arguments in (["seed", "--demo"], ["seed", "--learners", str(learners)]):
            subprocess.run(
                [sys.executable, "-c", f"from web.cli import main; main({arguments!r})"],
                env=environment,
                check=True,
            )
        marker.touch()


async def district(connection: asyncpg.Connection, name: str) -> tuple[int, str, int]:
    """(id, name, learners) of the district named (an organisation right below the root,
    with organisations below it)."""
    rows = await connection.fetch(
        """SELECT o.id, o.name,
                  (SELECT count(*) FROM users u
                   WHERE u.org_id IN (SELECT org_subtree(o.id))) AS learners
           FROM orgs o JOIN orgs root ON root.id = o.parent_id AND root.parent_id IS NULL
           WHERE EXISTS (SELECT 1 FROM orgs c WHERE c.parent_id = o.id)
             AND o.name = $1
           ORDER BY learners DESC, o.id""",
        name,
    )
    if not rows:
        sys.exit(f"no district {name!r}")
    return rows[0]["id"], rows[0]["name"], rows[0]["learners"]


def cases(year: int) -> dict[str, Callable[[asyncpg.Pool, Scope], Awaitable[Any]]]:
    """Each report as its page asks for it (the hours page: its first page of short learners)."""
    return {
        "完成情况 completion (all years)": lambda pool, scope: service.completion(
            pool, scope, None, None, None
        ),
        f"完成情况 completion ({year})": lambda pool, scope: service.completion(
            pool, scope, None, year, None
        ),
        f"学时达标 hours ({year}, page 1)": lambda pool, scope: service.hours(
            pool, scope, None, year, 1
        ),
        f"学时达标 hours ({year}, page 200)": lambda pool, scope: service.hours(
            pool, scope, None, year, 200
        ),
        "考试统计 exams (rates + bins)": lambda pool, scope: service.exams(pool, scope, None, None),
        f"收入统计 revenue ({year})": lambda pool, scope: service.revenue(pool, scope, None, year),
    }


async def measure(url: str, year: int, district_name: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await db.migrate(connection)
        await connection.execute("ANALYZE")
        learners = await connection.fetchval("SELECT count(*) FROM users WHERE role = 'learner'")
        org_id, org_name, org_learners = await district(connection, district_name)
    finally:
        await connection.close()
    scopes = {
        f"super ({learners:,} learners)": Scope(user_id=0, name="bench", role="super", org_id=None),
        f"admin of {org_name} ({org_learners:,})": Scope(
            user_id=0, name="bench", role="admin", org_id=org_id
        ),
    }
    print(f"load average before: {os.getloadavg()}")
    async with asyncpg.create_pool(url, min_size=1, max_size=2) as pool:
        print(f"{'report':40} {'scope':34} {'median ms':>10} {'p95 ms':>8}")
        for label, scope in scopes.items():
            for name, run in cases(year).items():
                await run(pool, scope)  # warm: the first read of a cold cache is not the figure
                times = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    await run(pool, scope)
                    times.append((time.perf_counter() - started) * 1000)
                times.sort()
                p95 = times[max(0, -(-len(times) * 95 // 100) - 1)]
                print(f"{name:40} {label:34} {statistics.median(times):10.0f} {p95:8.0f}")
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/jixu-bench-reports"))
    parser.add_argument("--year", type=int, default=2018, help="the demo catalogue's newest")
    parser.add_argument("--district", default="和平区", help="the district measured")
    args = parser.parse_args()
    if url := os.environ.get("DATABASE_URL"):
        asyncio.run(measure(url, args.year, args.district))
        return
    server = EmbeddedPostgres(args.data_dir / "pg")
    seed(args.data_dir, args.learners)
    try:
        asyncio.run(measure(server.start(), args.year, args.district))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
