"""A report's CSV export of 100,000 learners is streamed in bounded memory: what the export
holds at its peak is a small part of what it writes, and the page sends it in chunks as it
reads (no length known in advance)."""

import tracemalloc
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.reports import exports
from tests.admin_client import Browser
from tests.admin_world import insert_org, insert_user

LEARNERS = 100_000
YEAR = 2026


@pytest.fixture
async def crowd(database_url: str) -> int:
    """An organisation of 100,000 learners, each with some hours of a plan of YEAR; returns
    its administrator."""
    connection = await asyncpg.connect(database_url)
    try:
        org = await insert_org(connection, "大单位", None)
        plan = await connection.fetchval(
            """INSERT INTO plans (code, title, kind, year, opens_at, closes_at)
               VALUES ('big', '公需科目', 'public', $1, '2026-01-01', '2027-01-01') RETURNING id""",
            YEAR,
        )
        await connection.execute(
            """INSERT INTO users (username, password_hash, org_id, real_name, phone, id_type,
                                  id_number, title_level)
               SELECT 'crowd' || i, 'x', $1, '学员' || i, '13800000000', 'passport', 'P' || i,
                      CASE WHEN i % 7 = 0 THEN 'senior' END
               FROM generate_series(1, $2) AS i""",
            org,
            LEARNERS,
        )
        await connection.execute(
            """INSERT INTO enrolments (learner_id, plan_id, earned_tenths)
               SELECT id, $1, id % 1500 FROM users WHERE org_id = $2""",
            plan,
            org,
        )
        return await insert_user(connection, org, role="admin")
    finally:
        await connection.close()


async def test_an_export_of_100000_learners_holds_a_batch_at_a_time(
    database_url: str, crowd: int
) -> None:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as pool:
        org = await pool.fetchval("SELECT org_id FROM users WHERE id = $1", crowd)
        lines: AsyncIterator[bytes] = exports.hours_lines(pool, org, YEAR)
        rows = written = 0
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            async for line in lines:
                rows += 1
                written += len(line)
            peak = tracemalloc.get_traced_memory()[1] - baseline
        finally:
            tracemalloc.stop()
    assert rows == LEARNERS + 1
    assert written > 5_000_000
    # One batch of 1,000 rows and the driver's buffers (about 1.3 MB measured), where the
    # 100,000 rows held at once would take their 5 MB of text and many times that as rows.
    assert peak < 3_000_000, (peak, written)


async def test_the_export_page_streams_in_chunks(client: TestClient, crowd: int) -> None:
    admin = await Browser.of(client, crowd)
    chunks = lines = 0
    async with client.get(
        "/admin/reports/hours.csv", params={"year": str(YEAR)}, headers=admin.headers
    ) as response:
        assert response.status == 200
        assert "Content-Length" not in response.headers
        assert response.headers["Transfer-Encoding"] == "chunked"
        async for chunk in response.content.iter_chunked(64 * 1024):
            chunks += 1
            lines += chunk.count(b"\n")
    assert lines == LEARNERS + 1
    assert chunks > 10
