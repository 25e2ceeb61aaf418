"""`make run`'s demo learner has passed a plan and can print its certificate (F23)."""

from datetime import UTC, datetime

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.demo import seed_demo
from engine.demo_history import PASSED_PLAN, seed_demo_history
from engine.seed import DEMO_PASSWORD, DEMO_USERNAME, seed_base
from engine.settings import Settings
from tests.conftest import origin_of


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, public_url="https://jixu.example")


async def test_the_demo_learner_prints_the_certificate_of_a_passed_plan(
    client: TestClient, settings: Settings
) -> None:
    pool = client.app[DB]
    await seed_base(pool)
    await seed_demo(pool)
    now = datetime.now(UTC)
    report = await seed_demo_history(pool, settings, now)
    assert report is not None
    assert 60 <= report.earned_hours < 70
    # Once only: the learner has a plan now.
    assert await seed_demo_history(pool, settings, now) is None

    login = await client.post(
        "/api/v1/auth/login",
        json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
        headers=origin_of(client),
    )
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    archive = await (await client.get("/api/v1/archive", headers=headers)).json()
    [plan] = archive["plans"]
    assert (plan["title"], plan["state"]) == (PASSED_PLAN, "passed")
    assert plan["earned_hours"] == report.earned_hours
    assert all(course["progress"] == 100 and course["earned"] for course in plan["courses"])
    assert len(plan["courses"]) == report.courses
    assert sum(course["hours"] for course in plan["courses"]) == plan["earned_hours"]
    orders = await (await client.get("/api/v1/orders", headers=headers)).json()
    assert [order["status"] for order in orders["orders"]] == ["paid"]

    certificate = await client.get(plan["certificate"], headers=headers)
    assert certificate.status == 200
    assert (await certificate.read()).startswith(b"%PDF-")
