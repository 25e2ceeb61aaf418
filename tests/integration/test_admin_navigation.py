"""The side navigation marks the section of the page shown, detail pages under another
address included (a chapter is 课程管理's, a bank question 题库与考试's)."""

import re

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.admin_client import Browser
from tests.admin_world import Objects, build_world, load_factories


def current_link(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]*)</a>', html)


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/admin", "管理首页"),
        ("/admin/courses", "课程管理"),
        ("/admin/chapters/{chapter_id}", "课程管理"),
        ("/admin/questions/{question_id}", "题库与考试"),
        ("/admin/banks/{course_id}/exams", "题库与考试"),
        ("/admin/exams", "考试安排"),
    ],
)
async def test_the_page_shown_marks_its_section(
    client: TestClient, database_url: str, path: str, section: str
) -> None:
    load_factories()
    connection = await asyncpg.connect(database_url)
    try:
        world = await build_world(connection)
        objects = Objects(connection, world, world.a)
        for name in re.findall(r"\{(\w+)\}", path):
            path = path.replace(f"{{{name}}}", str(await objects.get(name)))
    finally:
        await connection.close()
    admin = await Browser.of(client, world.users["admin_a"])
    response = await admin.get(path)
    assert response.status == 200
    assert current_link(await response.text()) == [section]


async def test_the_home_page_lists_the_other_pages(client: TestClient, database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        world = await build_world(connection)
    finally:
        await connection.close()
    teacher = await Browser.of(client, world.users["teacher"])
    html = await (await teacher.get("/admin")).text()
    main = html[html.index('id="admin-main"') :]
    assert '<a href="/admin/qa">问答待回答</a>' in main
    assert "概览" not in main
    assert '<a href="/admin">' not in main


async def test_an_admin_error_page_leads_back_to_the_administration(
    client: TestClient, database_url: str
) -> None:
    load_factories()
    connection = await asyncpg.connect(database_url)
    try:
        world = await build_world(connection)
        course_id = await Objects(connection, world, world.a).get("course_id")
    finally:
        await connection.close()
    back = '<a href="/admin">返回管理首页</a>'
    admin_b = await Browser.of(client, world.users["admin_b"])
    missing = await admin_b.get(f"/admin/courses/{course_id}")
    assert missing.status == 404
    assert back in await missing.text()
    learner = await Browser.of(client, world.users["learner"])
    refused = await learner.get("/admin")
    assert refused.status == 403
    assert back not in await refused.text()
    assert back not in await (await admin_b.get("/no-such-page")).text()
