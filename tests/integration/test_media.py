"""Chapter videos (issue 14, F11): only to a learner who may watch them, 试看 only its part."""

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import msgspec
import pytest
from aiohttp.test_utils import TestClient

from engine import db
from engine.catalog import uploads
from engine.settings import Settings
from tests.conftest import build_course, enrol
from tests.integration.test_learning_pages import Payload, log_in

CLIP = Path(__file__).resolve().parents[2] / "media" / "demo" / "clip1.mp4"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test plans' year."""
    return msgspec.structs.replace(settings, current_year=2018)


async def test_an_enrolled_learner_gets_the_video_with_ranges(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner_id = await log_in(client, registration)
    course = await build_course(database_url)
    await enrol(database_url, learner_id, course)
    url = f"/media/chapters/{course.chapters[1]}"

    whole = await client.get(url)
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "video/mp4"
    assert await whole.read() == CLIP.read_bytes()

    part = await client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 0-99/{CLIP.stat().st_size}"
    assert await part.read() == CLIP.read_bytes()[:100]


async def test_anonymous_visitors_get_no_video(client: TestClient, database_url: str) -> None:
    course = await build_course(database_url)
    response = await client.get(f"/media/chapters/{course.chapters[0]}")
    assert response.status == 403
    assert "请先登录" in await response.text()


async def test_a_learner_without_the_course_gets_only_the_preview_chapter(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    await log_in(client, registration)
    course = await build_course(database_url)
    refused = await client.get(f"/media/chapters/{course.chapters[1]}")
    assert refused.status == 403
    assert "该章节所属课程未选或培训计划未开放，无法学习" in await refused.text()
    missing = await client.get("/media/chapters/999999999")
    assert missing.status == 404
    assert "章节不存在" in await missing.text()


async def test_preview_serves_only_the_first_part_of_a_long_chapter(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    """试看 is 3 minutes: of a 30-minute chapter, the first tenth of the file's bytes."""
    await log_in(client, registration)
    course = await build_course(database_url, durations=(1800.0, 60.0))
    url = f"/media/chapters/{course.chapters[0]}"
    size = CLIP.stat().st_size
    allowed = -(-size // 10)

    opening = await client.get(url, headers={"Range": "bytes=0-"})
    assert opening.status == 206
    assert opening.headers["Content-Range"] == f"bytes 0-{allowed - 1}/{size}"
    assert await opening.read() == CLIP.read_bytes()[:allowed]

    beyond = await client.get(url, headers={"Range": f"bytes={allowed}-"})
    assert beyond.status == 403
    assert "试看" in await beyond.text()


async def test_the_player_pages_use_the_guarded_urls(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner_id = await log_in(client, registration)
    course = await build_course(database_url)
    preview = await client.get(f"/courses/{course.course_id}/preview")
    assert f'src="/media/chapters/{course.chapters[0]}"' in await preview.text()
    await enrol(database_url, learner_id, course)
    player = await client.get(f"/courses/{course.course_id}/chapters/{course.chapters[1]}")
    assert f'<video src="/media/chapters/{course.chapters[1]}"' in await player.text()


async def test_an_uploaded_video_is_served_from_the_data_folder(
    client: TestClient, registration: Payload, database_url: str, settings: Settings
) -> None:
    learner_id = await log_in(client, registration)
    course = await build_course(database_url)
    await enrol(database_url, learner_id, course)
    clip2 = CLIP.with_name("clip2.mp4").read_bytes()

    async def chunks() -> AsyncIterator[bytes]:
        yield clip2

    video = await uploads.receive(chunks(), settings.data_dir, 1024 * 1024)
    uploaded, escaping = course.chapters
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE chapters SET media = $2 WHERE id = $1", uploaded, video.media
        )
        await connection.execute(
            "UPDATE chapters SET media = 'uploads/../../pg/postgresql.conf' WHERE id = $1",
            escaping,
        )
    finally:
        await connection.close()
    response = await client.get(f"/media/chapters/{uploaded}")
    assert response.status == 200
    assert await response.read() == clip2
    assert (await client.get(f"/media/chapters/{escaping}")).status == 404


async def test_static_no_longer_serves_the_videos(client: TestClient) -> None:
    response = await client.get("/static/media/demo/clip1.mp4")
    assert response.status == 404


class TestBehindAProxy:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """JIXU_MEDIA_ACCEL on: the proxy sends the file once the portal has said yes."""
        return msgspec.structs.replace(settings, media_accel=True)

    async def test_a_proxy_serves_the_file_when_told(
        self, client: TestClient, registration: Payload, database_url: str, settings: Settings
    ) -> None:
        learner_id = await log_in(client, registration)
        course = await build_course(database_url)
        await enrol(database_url, learner_id, course)
        response = await client.get(f"/media/chapters/{course.chapters[0]}")
        assert response.status == 200
        assert response.headers["X-Accel-Redirect"] == "/protected-media/demo/clip1.mp4"
        assert await response.read() == b""
        # An upload: under the same internal prefix, which nginx maps to the data folder's.
        folder = uploads.upload_folder(settings.data_dir)
        folder.mkdir(exist_ok=True)
        (folder / "ab12.webm").write_bytes(b"\x1a\x45\xdf\xa3")
        await asyncpg_execute(
            database_url,
            "UPDATE chapters SET media = 'uploads/ab12.webm' WHERE id = $1",
            course.chapters[0],
        )
        response = await client.get(f"/media/chapters/{course.chapters[0]}")
        assert response.headers["X-Accel-Redirect"] == "/protected-media/uploads/ab12.webm"


async def test_the_migration_moves_stored_paths_off_static(database_url: str) -> None:
    course = await build_course(database_url)
    old, kept = course.chapters
    sql = dict(db.migration_files())["0005_media_paths"]
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE chapters SET media = '/static/media/demo/clip2.mp4' WHERE id = $1", old
        )
        await connection.execute(sql)
        rows = await connection.fetch(
            "SELECT id, media FROM chapters WHERE id = ANY($1::bigint[])", [old, kept]
        )
    finally:
        await connection.close()
    assert {row["id"]: row["media"] for row in rows} == {
        old: "demo/clip2.mp4",
        kept: "demo/clip1.mp4",
    }


async def asyncpg_execute(database_url: str, sql: str, *arguments: object) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(sql, *arguments)
    finally:
        await connection.close()
