"""The learner's study record (学习记录): merged timeline segments, flushed with the progress."""

import asyncio
from collections.abc import AsyncIterator, Callable
from itertools import pairwise
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import FLUSHER, REDIS
from engine.progress import keys
from engine.settings import Settings
from tests.conftest import Clock, Learner, build_course, enrol, new_learner
from tests.integration.test_attention import beat_until_checked, settle
from tests.integration.test_progress_ws import Player, connect, own_node

Payload = Callable[..., dict[str, Any]]


@pytest.fixture
async def node(aiohttp_client: Any, settings: Settings, clock: Clock) -> AsyncIterator[TestClient]:
    node = await own_node(
        aiohttp_client, settings, clock, attention_interval_s=20, ws_messages_per_s=1000
    )
    yield node
    await node.close()


async def flush(node: TestClient) -> None:
    while await node.app[FLUSHER].run_once() > 0:
        pass


async def timeline(node: TestClient, learner: Learner, chapter: int) -> list[dict[str, Any]]:
    response = await node.get(f"/api/v1/chapters/{chapter}/timeline", headers=learner.headers)
    assert response.status == 200, await response.text()
    segments: list[dict[str, Any]] = (await response.json())["segments"]
    return segments


async def totals(database_url: str, learner_id: int) -> list[asyncpg.Record]:
    """Per chapter: the stored hwm, the stored timeline's credit and its segments."""
    connection = await asyncpg.connect(database_url)
    try:
        rows: list[asyncpg.Record] = await connection.fetch(
            """SELECT p.chapter_id, p.hwm_s, sum(s.credited_s) AS credited, count(*) AS segments
               FROM chapter_progress p
               JOIN study_segments s USING (learner_id, chapter_id)
               WHERE p.learner_id = $1 GROUP BY p.chapter_id, p.hwm_s ORDER BY p.chapter_id""",
            learner_id,
        )
    finally:
        await connection.close()
    return rows


async def hwm(node: TestClient, learner: Learner, course_id: int) -> list[float]:
    response = await node.get(f"/api/v1/courses/{course_id}", headers=learner.headers)
    return [chapter["hwm"] for chapter in (await response.json())["course"]["chapters"]]


async def step(player: Player, **beat: Any) -> dict[str, Any]:
    """A beat; a check-in it brings is answered at once, which leaves no trace in the record."""
    ack = await player.beat(**beat)
    for frame in await settle(player):
        if frame["type"] == "attention.check":
            answer = {"type": "attention.answer", "id": frame["id"]}
            assert (await player.send(answer))["type"] == "attention.ok"
    return ack


async def study(player: Player, first: int, second: int) -> None:
    """Everything that earns and that does not: playing, a check-in left waiting, a pause, a
    forward seek, a silence, a stop, another chapter, and back."""
    await player.play(first)
    _, check = await beat_until_checked(player, 25)
    for _ in range(2):
        assert (await player.beat())["reason"] == "check_pending"
    player.clock.advance(2)
    answer = {"type": "attention.answer", "id": check["id"]}
    assert (await player.send(answer))["type"] == "attention.ok"
    await step(player)
    await step(player, playing=False)  # paused after playing on: the interval counts
    await step(player, advance=0.0, playing=False)
    await step(player, advance=0.0)  # resumed
    assert (await step(player, advance=60.0))["reason"] == "seek"
    assert (await step(player, after=120.0, advance=0.0))["reason"] == "gap"
    await step(player)
    player.clock.advance(1)
    player.seq += 1
    stop = {"type": "stop", "seq": player.seq, "position": player.position + 1}
    assert (await player.send(stop))["credited_s"] == pytest.approx(1.0)
    player.clock.advance(600)
    await player.play(second)
    for _ in range(2):
        await step(player)
    player.clock.advance(60)
    await player.play(first)
    for _ in range(2):
        await step(player)


async def test_the_timeline_accounts_for_every_second_credited(
    node: TestClient, registration: Payload, database_url: str, clock: Clock
) -> None:
    learner = await new_learner(node, registration)
    course = await build_course(database_url, durations=(300.0, 60.0))
    await enrol(database_url, learner.id, course)
    await study(await connect(node, learner, clock), *course.chapters)

    # Before the flusher: what Redis holds.
    live = [await timeline(node, learner, chapter) for chapter in course.chapters]
    reached = await hwm(node, learner, course.course_id)
    for segments, chapter_hwm in zip(live, reached, strict=True):
        assert sum(s["credited_s"] for s in segments) == pytest.approx(chapter_hwm)
    first = live[0]
    assert [s["reason"] for s in first] == [
        None, "check_pending", None, "paused", "seek", "gap", None, None
    ]  # fmt: skip
    for earlier, later in pairwise(first):
        assert earlier["from_ms"] < earlier["to_ms"] <= later["from_ms"]
    assert first[0]["credited_s"] >= 15  # three beats or more, one segment
    assert all(s["credited_s"] == 0 for s in first if s["reason"])
    assert set(first[0]) == {"from_ms", "to_ms", "credited_s", "reason"}

    # Written by the flusher with the progress: the same record, and the same totals.
    await flush(node)
    assert [await timeline(node, learner, chapter) for chapter in course.chapters] == live
    # The node's own flusher may still be writing what it read before ours: wait for it.
    for _ in range(20):
        stored = await totals(database_url, learner.id)
        if [row["segments"] for row in stored] == [len(segments) for segments in live]:
            break
        await asyncio.sleep(0.1)
    assert [row["chapter_id"] for row in stored] == course.chapters
    for row, segments in zip(stored, live, strict=True):
        assert row["credited"] == pytest.approx(row["hwm_s"])
        assert row["segments"] == len(segments)
    # What was written is forgotten in Redis; flushing again changes nothing.
    redis = node.app[REDIS]
    assert await redis.hget(keys.state_key(learner.id, course.chapters[0]), "closed") == ""
    await redis.xadd(keys.STREAM, {"l": learner.id, "c": course.chapters[0]})
    await flush(node)
    assert await timeline(node, learner, course.chapters[0]) == live[0]


async def test_the_record_is_the_learners_own_and_shown_on_the_course_page(
    node: TestClient, registration: Payload, database_url: str, clock: Clock
) -> None:
    learner = await new_learner(node, registration)
    other = await new_learner(node, registration)
    course = await build_course(database_url, durations=(300.0, 60.0))
    await enrol(database_url, learner.id, course)
    await study(await connect(node, learner, clock), *course.chapters)
    await flush(node)
    assert await timeline(node, other, course.chapters[0]) == []
    assert (await node.get(f"/api/v1/chapters/{course.chapters[0]}/timeline")).status == 401
    missing = await node.get("/api/v1/chapters/999999/timeline", headers=learner.headers)
    assert missing.status == 404
    assert (await missing.json())["error"]["message"] == "章节不存在"
    bad = await node.get("/api/v1/chapters/abc/timeline", headers=learner.headers)
    assert bad.status in (400, 404)

    node.session.cookie_jar.update_cookies({"jixu_session": learner.token})
    page = await node.get(f"/courses/{course.course_id}")
    html = await page.text()
    assert page.status == 200
    assert html.count('class="record-bar"') == 2
    for words in ("学习记录", "计入学时", "视频暂停", "未确认在线学习提示", "拖动了播放进度"):
        assert words in html
