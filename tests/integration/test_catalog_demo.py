"""The demo catalogue against the manual (§2), its clips, reruns and speed."""

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest

from engine import db
from engine.demo import DemoReport, seed_demo, seed_demo_if_empty

DEMO_MEDIA = Path(__file__).resolve().parents[2] / "media" / "demo"
CHINA = timezone(timedelta(hours=8))

# Written out from the manual rather than imported, so the data is checked, not echoed.
MANUAL = {
    "public-2018": (104, 172),
    "public-2017": (83, 254),
    "public-2016": (72, 229),
    "public-2015": (59, 226),
    "public-2014": (46, 224),
    "professional-2018-engineering": (278, 614),
    "professional-2018-economics": (141, 656),
    "professional-2018-accounting": (30, 78),
    "professional-2018-law": (54, 186),
    "professional-2018-human-resources": (72, 277),
    "professional-2018-culture": (62, 107),
}
COMPULSORY = {
    "public-2018": "学习十九大精神，贯彻习近平新时代中国特色社会主义思想",
    "public-2017": "国家和天津市“十三五”规划纲要解读",
    "public-2016": "专业技术人员创新创业能力建设",
    "public-2015": "十八届四中全会——弘扬社会主义法治精神全面推进依法治国",
    "public-2014": "技术创新的方法",
}
CATEGORIES = {"工程技术类", "经济类", "会计审计类", "法律类", "人力资源管理", "群众文化"}
TABLES = ("plans", "teachers", "courses", "chapters", "plan_courses")


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
async def seeded(pool: asyncpg.Pool) -> DemoReport:
    return await seed_demo(pool)


def clip_durations() -> dict[str, float]:
    manifest = json.loads((DEMO_MEDIA / "clips.json").read_text(encoding="utf-8"))
    return {f"demo/{clip['file']}": clip["duration_s"] for clip in manifest["clips"]}


async def table_counts(pool: asyncpg.Pool) -> dict[str, int]:
    return {table: await pool.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}


async def test_every_plan_has_the_manuals_course_count_and_hours(
    pool: asyncpg.Pool, seeded: DemoReport
) -> None:
    rows = await pool.fetch(
        """SELECT p.code, count(*) AS courses, sum(c.hour_tenths) AS tenths
           FROM plans p JOIN plan_courses pc ON pc.plan_id = p.id
           JOIN courses c ON c.id = pc.course_id GROUP BY p.code"""
    )
    assert {row["code"]: (row["courses"], row["tenths"] / 10) for row in rows} == MANUAL
    assert seeded.plans_created == 11
    assert seeded.courses_created == sum(courses for courses, _ in MANUAL.values())


async def test_plan_requirements_prices_and_open_periods(
    pool: asyncpg.Pool, seeded: DemoReport
) -> None:
    for plan in await pool.fetch("SELECT * FROM plans"):
        assert plan["price_per_hour_fen"] == 500
        assert plan["opens_at"] == datetime(plan["year"], 1, 1, tzinfo=CHINA)
        assert plan["closes_at"] == datetime(2035, 12, 31, 23, 59, 59, tzinfo=CHINA)
        assert plan["max_rate"] == 1.0
        if plan["kind"] == "public":
            assert plan["title"] == f"{plan['year']}年天津市专业技术人员继续教育公需科目"
            assert (plan["compulsory_tenths"], plan["elective_tenths"]) == (60, 260)
        else:
            assert plan["year"] == 2018
            assert plan["category"] in CATEGORIES
            assert plan["title"] == f"2018年专业科目（{plan['category']}）"
            assert plan["compulsory_tenths"] == 0
            assert plan["elective_tenths"] > 0
    categories = await pool.fetch("SELECT category FROM plans WHERE kind = 'professional'")
    assert {row["category"] for row in categories} == CATEGORIES


async def test_compulsory_courses_and_exams(pool: asyncpg.Pool, seeded: DemoReport) -> None:
    rows = await pool.fetch(
        """SELECT p.code, c.title, c.hour_tenths, pc.examined,
                  (SELECT count(*) FROM chapters ch WHERE ch.course_id = c.id) AS chapters
           FROM plan_courses pc JOIN plans p ON p.id = pc.plan_id
           JOIN courses c ON c.id = pc.course_id WHERE pc.compulsory"""
    )
    assert {row["code"]: row["title"] for row in rows} == COMPULSORY
    assert all(row["examined"] and row["hour_tenths"] == 60 for row in rows)
    assert all(row["chapters"] == 3 for row in rows)
    examined_electives = await pool.fetch(
        """SELECT p.code, count(*) AS examined FROM plan_courses pc
           JOIN plans p ON p.id = pc.plan_id
           WHERE pc.examined AND NOT pc.compulsory GROUP BY p.code"""
    )
    # Only 2014 examines some electives; professional plans examine nothing.
    assert {row["code"]: row["examined"] for row in examined_electives} == {"public-2014": 5}


async def test_titles_are_distinct_and_every_course_has_a_teacher(
    pool: asyncpg.Pool, seeded: DemoReport
) -> None:
    titles = await pool.fetchrow(
        "SELECT count(*) AS all, count(DISTINCT title) AS distinct FROM courses"
    )
    assert titles["all"] == titles["distinct"]
    orphans = await pool.fetchval(
        """SELECT count(*) FROM courses c LEFT JOIN teachers t ON t.id = c.teacher_id
           WHERE t.id IS NULL OR t.profile = '' OR c.description = ''"""
    )
    assert orphans == 0


async def test_chapters_play_the_demo_clips_for_their_real_duration(
    pool: asyncpg.Pool, seeded: DemoReport
) -> None:
    durations = clip_durations()
    chapters = await pool.fetch("SELECT course_id, position, media, duration_s FROM chapters")
    assert chapters
    for chapter in chapters:
        assert chapter["duration_s"] == durations[chapter["media"]]
    per_course = await pool.fetch(
        """SELECT count(*) AS n, min(position) AS first, max(position) AS last
           FROM courses c LEFT JOIN chapters ch ON ch.course_id = c.id GROUP BY c.id"""
    )
    assert all(1 <= row["n"] <= 4 for row in per_course)
    assert all((row["first"], row["last"]) == (1, row["n"]) for row in per_course)


def test_demo_clips_are_small_mp4_files_of_one_to_two_minutes() -> None:
    files = [DEMO_MEDIA / path.rsplit("/", 1)[1] for path in clip_durations()]
    assert len(files) == 4
    for file in files:
        head = file.read_bytes()[:12]
        assert head[4:8] == b"ftyp", file
    assert sum(file.stat().st_size for file in files) < 3 * 1024 * 1024
    assert all(60 <= seconds <= 120 for seconds in clip_durations().values())


async def test_seeding_again_changes_nothing(pool: asyncpg.Pool, seeded: DemoReport) -> None:
    before = await table_counts(pool)
    courses = await pool.fetch("SELECT * FROM courses ORDER BY id")
    again = await seed_demo(pool)
    assert (again.plans_created, again.teachers_created, again.courses_created) == (0, 0, 0)
    assert (again.chapters_created, again.links_created) == (0, 0)
    assert await table_counts(pool) == before
    assert await pool.fetch("SELECT * FROM courses ORDER BY id") == courses


async def test_seeding_takes_seconds_not_minutes(pool: asyncpg.Pool) -> None:
    started = time.perf_counter()
    await seed_demo(pool)
    assert time.perf_counter() - started < 10  # ~0.3 s on a laptop; loose for slow CI


async def test_run_seeds_only_an_empty_catalogue(pool: asyncpg.Pool) -> None:
    report = await seed_demo_if_empty(pool)
    assert report is not None
    assert report.plans_created == 11
    assert await seed_demo_if_empty(pool) is None


async def test_run_leaves_a_real_catalogue_alone(pool: asyncpg.Pool) -> None:
    await pool.execute(
        """INSERT INTO plans (code, title, kind, year, opens_at, closes_at)
           VALUES ('real-2019', '2019年公需科目', 'public', 2019, now(), now() + interval '1 year')"""
    )
    assert await seed_demo_if_empty(pool) is None
    assert await pool.fetchval("SELECT count(*) FROM plans") == 1
