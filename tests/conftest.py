"""Fixtures: real PostgreSQL and Redis, a migrated template database, one database per test.

TEST_DATABASE_URL / TEST_REDIS_URL point the suite at existing servers; without them it
starts embedded ones once per session in a temporary folder. JIXU_TEST_REDIS_CLUSTER=1 runs
it on a 3-master Redis Cluster started for the session instead (tests/redis_cluster.py).
"""

import asyncio
import contextlib
import itertools
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine import db
from engine.accounts.validation import id_card_check_character
from engine.commerce import cart
from engine.commerce.types import Order
from engine.embedded import embedded_servers
from engine.kv import create_redis
from engine.settings import Settings, load_settings
from tests.redis_cluster import redis_cluster
from web.app import create_portal

T = TypeVar("T")


def run_in_thread(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a private loop, leaving the test loop alone."""

    async def main() -> T:
        return await factory()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def server_urls() -> Iterator[tuple[str, str]]:
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    # Private to this session, so concurrent runs never stop each other's servers.
    with (
        tempfile.TemporaryDirectory(prefix="jixu-test-") as data_dir,
        embedded_servers(Path(data_dir)) as servers,
        contextlib.ExitStack() as stack,
    ):
        if os.environ.get("JIXU_TEST_REDIS_CLUSTER") == "1":
            redis_url = stack.enter_context(redis_cluster(Path(data_dir) / "cluster"))
        yield database_url or servers.database_url, redis_url or servers.redis_url


@pytest.fixture(scope="session")
def template_database(server_urls: tuple[str, str]) -> Iterator[str]:
    """A database migrated once per session; each test gets a copy of it."""
    admin_url = with_database(server_urls[0], "postgres")
    name = f"jixu_template_{os.getpid()}"

    async def create() -> None:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name}")
            await admin.execute(f"CREATE DATABASE {name}")
        finally:
            await admin.close()
        connection = await asyncpg.connect(with_database(server_urls[0], name))
        try:
            await db.migrate(connection)
        finally:
            await connection.close()

    async def drop() -> None:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()

    run_in_thread(create)
    yield name
    run_in_thread(drop)


@pytest.fixture
async def database_url(server_urls: tuple[str, str], template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own."""
    admin_url = with_database(server_urls[0], "postgres")
    name = f"jixu_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template_database}")
        yield with_database(server_urls[0], name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def redis_url(server_urls: tuple[str, str]) -> str:
    """The test Redis, flushed."""
    client = create_redis(server_urls[1])
    await client.flushdb()
    await client.aclose()
    return server_urls[1]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engine's data folder: the sandbox gateway's and our keys, generated once a session."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def settings(database_url: str, redis_url: str, data_dir: Path) -> Settings:
    return load_settings(
        {},
        env="test",
        database_url=database_url,
        redis_url=redis_url,
        log_format="console",
        data_dir=str(data_dir),
        # Check-ins come at random moments: only the tests of them turn them on.
        attention_interval_s=0,
    )


@pytest.fixture
async def client(
    settings: Settings, clock: "Clock", aiohttp_client: Any
) -> AsyncIterator[TestClient]:
    # Closed here, before the test's database is dropped.
    portal = await aiohttp_client(create_portal(settings, clock=clock))
    yield portal
    await portal.close()


def origin_of(client: TestClient) -> dict[str, str]:
    """The Origin header a browser on the portal's own pages would send."""
    return {"Origin": f"http://{client.host}:{client.port}"}


_serial = itertools.count(1)


def id_card_number(birth: str = "19850612", male: bool = True) -> str:
    """A valid, unique resident ID number (Tianjin Heping district)."""
    sequence = next(_serial) % 500 * 2 + (1 if male else 0)
    first17 = f"120101{birth}{sequence:03d}"
    return first17 + id_card_check_character(first17)


@pytest.fixture
async def org_id(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval(
            "INSERT INTO orgs (code, name) VALUES ('test-org', '测试组织') RETURNING id"
        )
    finally:
        await connection.close()


@pytest.fixture
def registration(org_id: int) -> Callable[..., dict[str, Any]]:
    """A valid registration payload; keyword arguments override fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        payload = {
            "username": f"learner_{uuid.uuid4().hex[:8]}",
            "password": "Study2018go",
            "password_confirm": "Study2018go",
            "org_id": org_id,
            "real_name": "李华",
            "phone": "13812345678",
            "id_type": "id_card",
            "id_number": id_card_number(),
        }
        payload.update(overrides)
        return payload

    return make


class Clock:
    """An injectable server clock, in epoch milliseconds, moved by the test."""

    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, seconds: float) -> None:
        self.now_ms += round(seconds * 1000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Course:
    """A plan with one course of chapters, built directly in PostgreSQL."""

    def __init__(self, plan_id: int, course_id: int, chapters: list[int]) -> None:
        self.plan_id = plan_id
        self.course_id = course_id
        self.chapters = chapters


async def build_course(
    database_url: str,
    *,
    durations: tuple[float, ...] = (60.0, 30.0),
    hour_tenths: int = 20,
    elective_tenths: int = 20,
    examined: bool = False,
    compulsory: bool = False,
    max_rate: float = 1.0,
    code: str | None = None,
) -> Course:
    code = code or uuid.uuid4().hex[:8]
    connection = await asyncpg.connect(database_url)
    try:
        plan_id = await connection.fetchval(
            """INSERT INTO plans (code, title, kind, year, elective_tenths, opens_at, closes_at,
                                  max_rate)
               VALUES ($1, '测试计划', 'public', 2018, $2, '2000-01-01', '2100-01-01', $3)
               RETURNING id""",
            f"plan-{code}",
            elective_tenths,
            max_rate,
        )
        course_id = await connection.fetchval(
            "INSERT INTO courses (code, title, hour_tenths) VALUES ($1, '测试课程', $2) RETURNING id",
            f"course-{code}",
            hour_tenths,
        )
        await connection.execute(
            "INSERT INTO plan_courses (plan_id, course_id, compulsory, examined) VALUES ($1, $2, $3, $4)",
            plan_id,
            course_id,
            compulsory,
            examined,
        )
        chapters = [
            await connection.fetchval(
                """INSERT INTO chapters (course_id, position, title, media, duration_s)
                   VALUES ($1, $2, $3, 'demo/clip1.mp4', $4) RETURNING id""",
                course_id,
                index,
                f"第{index}节",
                duration,
            )
            for index, duration in enumerate(durations, 1)
        ]
    finally:
        await connection.close()
    return Course(plan_id, course_id, chapters)


async def enrol(database_url: str, learner_id: int, course: Course) -> None:
    """Activate the course's plan for the learner and select the course."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            learner_id,
            course.plan_id,
        )
        await connection.execute(
            "INSERT INTO selections (learner_id, plan_id, course_id, source) VALUES ($1, $2, $3, 'purchase')",
            learner_id,
            course.plan_id,
            course.course_id,
        )
    finally:
        await connection.close()


async def unpaid_order(database_url: str, learner_id: int, course: Course) -> Order:
    """An unpaid order of the course: its plan activated, the course in the cart, checked out."""
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        await pool.execute(
            "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            learner_id,
            course.plan_id,
        )
        now = datetime.now(UTC)
        await cart.add(pool, learner_id, course.plan_id, course.course_id, now)
        return await cart.checkout(pool, learner_id, now)
    finally:
        await pool.close()


class Learner:
    def __init__(self, user_id: int, token: str) -> None:
        self.id = user_id
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def new_learner(client: TestClient, registration: Callable[..., dict[str, Any]]) -> Learner:
    """Register and log in through the API; the learner authenticates with a bearer token."""
    payload = registration()
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status == 201, await response.text()
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": payload["username"], "password": payload["password"]},
        headers=origin_of(client),
    )
    body = await login.json()
    client.session.cookie_jar.clear()
    return Learner(body["user"]["id"], body["token"])
