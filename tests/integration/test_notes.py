"""Notes (F17, F27): create, edit and delete at a moment of a chapter, 我的笔记 by plan,
course and chapter, and the jump back to a note's moment within what was watched."""

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Course, Learner, build_course, enrol, new_learner

Payload = Any


@pytest.fixture
async def learner(client: TestClient, registration: Payload) -> Learner:
    return await new_learner(client, registration)


@pytest.fixture
async def course(database_url: str, learner: Learner) -> Course:
    """A selected course of two chapters; 40 s of the first watched."""
    course = await build_course(database_url, durations=(60.0, 30.0))
    await enrol(database_url, learner.id, course)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s, position_s)"
            " VALUES ($1, $2, 40, 40)",
            learner.id,
            course.chapters[0],
        )
    finally:
        await connection.close()
    return course


async def note_count(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM notes")
        return count
    finally:
        await connection.close()


async def add_note(
    client: TestClient, learner: Learner, chapter: int, position_s: float, body: str
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/chapters/{chapter}/notes",
        json={"position_s": position_s, "body": body},
        headers=learner.headers,
    )
    assert response.status == 201, await response.text()
    note: dict[str, Any] = (await response.json())["note"]
    return note


async def test_notes_are_created_listed_edited_and_deleted(
    client: TestClient, learner: Learner, course: Course
) -> None:
    chapter = course.chapters[0]
    later = await add_note(client, learner, chapter, 35.5, "第二条：<b>原样保存</b>")
    first = await add_note(client, learner, chapter, 12.0, "  第一条  ")
    assert (first["position_s"], first["body"]) == (12.0, "  第一条  ")  # stored as given

    listed = await client.get(f"/api/v1/chapters/{chapter}/notes", headers=learner.headers)
    notes = (await listed.json())["notes"]
    assert [(note["id"], note["body"]) for note in notes] == [
        (first["id"], "  第一条  "),
        (later["id"], "第二条：<b>原样保存</b>"),
    ]  # in the order of the video

    edited = await client.patch(
        f"/api/v1/notes/{first['id']}", json={"body": "改过的"}, headers=learner.headers
    )
    assert edited.status == 200
    assert (await edited.json())["note"]["body"] == "改过的"

    deleted = await client.delete(f"/api/v1/notes/{later['id']}", headers=learner.headers)
    assert deleted.status == 204
    again = await client.delete(f"/api/v1/notes/{later['id']}", headers=learner.headers)
    assert again.status == 404
    listed = await client.get(f"/api/v1/chapters/{chapter}/notes", headers=learner.headers)
    assert [note["body"] for note in (await listed.json())["notes"]] == ["改过的"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"position_s": 3, "body": "   "}, "请填写笔记内容"),
        ({"position_s": 3, "body": "长" * 1001}, "笔记不能超过1000个字"),
        ({"position_s": -1, "body": "x"}, "请检查填写的信息"),
        ({"body": "x"}, "请检查填写的信息"),
    ],
)
async def test_bad_notes_are_refused_in_chinese_and_not_stored(
    client: TestClient,
    learner: Learner,
    course: Course,
    database_url: str,
    payload: dict[str, Any],
    message: str,
) -> None:
    response = await client.post(
        f"/api/v1/chapters/{course.chapters[0]}/notes", json=payload, headers=learner.headers
    )
    assert response.status == 400
    assert (await response.json())["error"]["message"] == message
    assert await note_count(database_url) == 0


async def test_notes_belong_to_their_learner_and_their_courses(
    client: TestClient, learner: Learner, course: Course, registration: Payload, database_url: str
) -> None:
    note = await add_note(client, learner, course.chapters[0], 5, "我的")
    other = await new_learner(client, registration)
    for method, path, body in (
        ("PATCH", f"/api/v1/notes/{note['id']}", {"body": "别人的"}),
        ("DELETE", f"/api/v1/notes/{note['id']}", None),
    ):
        response = await client.request(method, path, json=body, headers=other.headers)
        assert response.status == 404
    listed = await client.get(f"/api/v1/chapters/{course.chapters[0]}/notes", headers=other.headers)
    assert (await listed.json())["notes"] == []
    # A course the other learner did not select takes no note.
    refused = await client.post(
        f"/api/v1/chapters/{course.chapters[0]}/notes",
        json={"position_s": 1, "body": "x"},
        headers=other.headers,
    )
    assert refused.status == 403
    assert "无法学习" in (await refused.json())["error"]["message"]
    assert await note_count(database_url) == 1


async def test_my_notes_groups_searches_and_links_back_to_the_moment(
    client: TestClient, learner: Learner, course: Course
) -> None:
    await add_note(client, learner, course.chapters[1], 3, "第二节的笔记")
    await add_note(client, learner, course.chapters[0], 12.5, "<script>alert(1)</script>")
    response = await client.get("/notes", headers=learner.headers)
    html = await response.text()
    assert response.status == 200
    assert "我的笔记" in html
    assert "测试计划" in html
    assert "测试课程" in html
    # By chapter, in the course's order; text rendered as text.
    assert html.index("第1节") < html.index("第2节")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    link = f"/courses/{course.course_id}/chapters/{course.chapters[0]}?start=12.5"
    assert f'href="{link}"' in html
    assert ">00:12<" in html

    found = await (await client.get("/notes?q=第二节", headers=learner.headers)).text()
    assert "第二节的笔记" in found
    assert "alert" not in found
    none = await (await client.get("/notes?q=没有这样的笔记", headers=learner.headers)).text()
    assert "没有符合条件的笔记" in none

    # The link opens the player at that moment; the server keeps playback within what was
    # watched (40 s here).
    player = await (await client.get(link, headers=learner.headers)).text()
    assert 'data-start="12.5"' in player
    assert 'id="notes"' in player
    for garbage in ("abc", "-3", "nan", "inf", "1e99"):
        page = await client.get(f"{link.split('?')[0]}?start={garbage}", headers=learner.headers)
        assert 'data-start=""' in await page.text()

    async with client.ws_connect("/ws", headers=learner.headers) as ws:
        await ws.send_json({"type": "play", "chapter": course.chapters[0], "position": 12.5})
        playing = await ws.receive_json(timeout=5)
        assert (playing["type"], playing["position"]) == ("playing", 12.5)
        await ws.send_json({"type": "play", "chapter": course.chapters[0], "position": 55})
        beyond = await ws.receive_json(timeout=5)
        assert beyond["position"] == 40  # not beyond what was watched
