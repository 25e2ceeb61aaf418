"""The demo data: the catalogue of the manual (§2) and the exams of its examined courses
(§2.4, §3), seeded together in one transaction. Safe to rerun: only what is missing is added.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

from engine.catalog import store as catalog_store
from engine.catalog.demo import MANIFEST, build_catalogue, load_clips
from engine.db import advisory_xact_lock
from engine.exams import demo as exams_demo
from engine.exams import store as exams_store

log = structlog.get_logger(__name__)

# Serialises concurrent demo seeders (two `jixu run` on one database).
DEMO_LOCK_ID = 0x4A495844  # "JIXD"


@dataclass
class DemoReport:
    plans_created: int
    teachers_created: int
    courses_created: int
    chapters_created: int
    links_created: int
    questions_created: int
    exams_created: int
    seconds: float


async def seed_demo(pool: asyncpg.Pool, manifest: Path = MANIFEST) -> DemoReport:
    """Create what is missing of the demo; never changes what exists."""
    started = time.perf_counter()
    catalogue = build_catalogue(load_clips(manifest))
    exams = exams_demo.build_exams(catalogue.courses, catalogue.links)
    async with pool.acquire() as connection, connection.transaction():
        await advisory_xact_lock(connection, DEMO_LOCK_ID)
        # Order matters: each insert finds the rows it refers to by their codes.
        report = DemoReport(
            plans_created=await catalog_store.insert_plans(connection, catalogue.plans),
            teachers_created=await catalog_store.insert_teachers(connection, catalogue.teachers),
            courses_created=await catalog_store.insert_courses(connection, catalogue.courses),
            chapters_created=await catalog_store.insert_chapters(connection, catalogue.chapters),
            links_created=await catalog_store.insert_plan_courses(connection, catalogue.links),
            questions_created=await exams_store.insert_questions(connection, exams.questions),
            exams_created=await exams_store.insert_exams(
                connection,
                exams.exams,
                duration_s=exams_demo.DURATION_S,
                total_score=exams_demo.TOTAL_SCORE,
                pass_score=exams_demo.PASS_SCORE,
                attempts_allowed=exams_demo.ATTEMPTS_ALLOWED,
                recipe=exams_demo.RECIPE,
            ),
            seconds=0.0,
        )
    report.seconds = round(time.perf_counter() - started, 3)
    log.info("demo seeded", **vars(report))
    return report


async def seed_demo_if_empty(pool: asyncpg.Pool, manifest: Path = MANIFEST) -> DemoReport | None:
    """Seed the demo only into a database that has no plan at all."""
    if await catalog_store.any_plan(pool):
        return None
    return await seed_demo(pool, manifest)
