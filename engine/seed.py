"""Base data: the organisation tree, an administrator and a demo learner. Safe to rerun."""

import secrets
from dataclasses import dataclass
from datetime import date

import asyncpg
import structlog

from engine.accounts import store
from engine.accounts.passwords import hash_password
from engine.accounts.types import PersonalDetails
from engine.accounts.validation import id_card_check_character

log = structlog.get_logger(__name__)

ROOT = ("tj", "天津市")
DISTRICTS = [
    "和平区",
    "河东区",
    "河西区",
    "南开区",
    "河北区",
    "红桥区",
    "东丽区",
    "西青区",
    "津南区",
    "北辰区",
    "武清区",
    "宝坻区",
    "滨海新区",
    "宁河区",
    "静海区",
    "蓟州区",
]
DISTRICT_UNITS = ("人力资源和社会保障局", "教育局", "卫生健康委员会", "住房和建设委员会")
CITY_UNITS = (
    "天津市人力资源和社会保障局", "天津大学", "南开大学", "天津医科大学总医院",
    "天津市第一中心医院", "天津市建筑设计研究院", "天津市群众艺术馆", "天津市审计局",
)  # fmt: skip
TEST_ORG = ("test", "测试组织")

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "Jixu@2018"
ADMIN_USERNAME = "admin"


@dataclass
class SeedReport:
    orgs_created: int
    demo_username: str
    demo_password: str
    admin_password: str | None  # set only when the administrator was created just now


def _id_number(first17: str) -> str:
    return first17 + id_card_check_character(first17)


def org_rows() -> list[tuple[str, str, str | None, int]]:
    """(code, name, parent code, order) for the whole tree, parents first."""
    rows: list[tuple[str, str, str | None, int]] = [(ROOT[0], ROOT[1], None, 0)]
    rows.append(("tj-city", "市直单位", ROOT[0], 0))
    rows += [(f"tj-city-{i}", name, "tj-city", i) for i, name in enumerate(CITY_UNITS, 1)]
    for index, district in enumerate(DISTRICTS, 1):
        code = f"tj-{index:02d}"
        rows.append((code, district, ROOT[0], index))
        rows += [
            (f"{code}-{j}", f"{district}{unit}", code, j)
            for j, unit in enumerate(DISTRICT_UNITS, 1)
        ]
    rows.append((TEST_ORG[0], TEST_ORG[1], None, 1))
    return rows


async def seed_base(pool: asyncpg.Pool, admin_password: str | None = None) -> SeedReport:
    """Create what is missing of the base data; never changes what exists."""
    async with pool.acquire() as connection, connection.transaction():
        created = 0
        for code, name, parent, order in org_rows():
            created += await store.insert_org(connection, code, name, parent, order)
        root_id = await store.org_id(connection, ROOT[0])
        test_id = await store.org_id(connection, TEST_ORG[0])
        # Both are among org_rows(), inserted above if they were missing.
        assert root_id is not None
        assert test_id is not None
        new_admin_password = None
        if await store.credentials(connection, ADMIN_USERNAME) is None:
            new_admin_password = admin_password or secrets.token_urlsafe(12)
            await store.insert_user(
                connection,
                username=ADMIN_USERNAME,
                password_hash=await hash_password(new_admin_password),
                role="super",
                details=PersonalDetails(
                    org_id=root_id,
                    real_name="平台管理员",
                    phone="13800000000",
                    id_type="id_card",
                    id_number=_id_number("12010119800101001"),
                ),
            )
        if await store.credentials(connection, DEMO_USERNAME) is None:
            await store.insert_user(
                connection,
                username=DEMO_USERNAME,
                password_hash=await hash_password(DEMO_PASSWORD),
                details=PersonalDetails(
                    org_id=test_id,
                    real_name="张明",
                    phone="13912345678",
                    id_type="id_card",
                    id_number=_id_number("12010319900315203"),
                    birth_date=date(1990, 3, 15),
                    gender="male",
                    ethnicity="01",
                    title_status="obtained",
                    title_level="intermediate",
                    professional_title="工程师",
                    education="bachelor",
                    political_status="13",
                ),
            )
    log.info("base data seeded", orgs_created=created)
    return SeedReport(created, DEMO_USERNAME, DEMO_PASSWORD, new_admin_password)
