"""The catalogue's pages as an administrator uses them: a plan built through its form, a
course with a chapter uploaded through the browser's multipart form, its key points shown
by the player, and refusals said in Chinese with nothing stored."""

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote

import asyncpg
import msgspec
import pytest
from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient

from engine.appkeys import SETTINGS
from engine.catalog import uploads
from engine.settings import Settings
from tests.admin_client import Browser
from tests.admin_world import insert_org, insert_user
from web.flash import FLASH_COOKIE
from web.requests import CSRF_FIELD, session_csrf_token

DEMO = Path(__file__).resolve().parents[2] / "media" / "demo"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Uploads up to 1 MB, into a data folder of the test's own."""
    return msgspec.structs.replace(settings, upload_max_mb=1, data_dir=str(tmp_path))


class Setup(msgspec.Struct):
    connection: asyncpg.Connection
    org: int
    admin: int
    learner: int


@pytest.fixture
async def setup(database_url: str) -> AsyncIterator[Setup]:
    """An organisation with an administrator and a learner."""
    connection = await asyncpg.connect(database_url)
    try:
        org = await insert_org(connection, "财政局", None)
        admin = await insert_user(connection, org, role="admin")
        learner = await insert_user(connection, org)
        yield Setup(connection, org, admin, learner)
    finally:
        await connection.close()


def flash(response: ClientResponse) -> str:
    """The message a redirect leaves for the next page ('!' first: an error)."""
    return unquote(response.cookies[FLASH_COOKIE].value)


async def upload(
    browser: Browser, path: str, video: bytes, title: str | None = None
) -> ClientResponse:
    """A multipart form as the page's own: the CSRF token first, then the title, the file."""
    form = FormData()
    form.add_field(CSRF_FIELD, session_csrf_token(browser.token))
    if title is not None:
        form.add_field("title", title)
    form.add_field("video", io.BytesIO(video), filename="第一节.mp4", content_type="video/mp4")
    response = await browser.client.post(
        path, data=form, headers=browser.headers, allow_redirects=False
    )
    await response.read()
    return response


async def test_a_plan_is_built_through_its_form(client: TestClient, setup: Setup) -> None:
    admin = await Browser.of(client, setup.admin)
    course_id = await setup.connection.fetchval(
        "INSERT INTO courses (code, title, hour_tenths, org_id) VALUES ('kj-01', '会计准则', 15, $1)"
        " RETURNING id",
        setup.org,
    )
    form = await (await admin.get("/admin/plans/new")).text()
    assert '<input id="compulsory_hours" name="compulsory_hours" type="number"' in form
    assert "财政局" in form

    fields = {
        "title": "2026年会计专业科目",
        "kind": "professional",
        "year": "2026",
        "compulsory_hours": "10",
        "elective_hours": "14.5",
        "price_per_hour": "5.5",
        "opens_on": "2026-01-01",
        "closes_on": "2026-12-31",
        "org_id": str(setup.org),
    }
    refused = await admin.post("/admin/plans", **{**fields, "year": "1999", "add_codes": "nope"})
    assert refused.status == 400
    page = await refused.text()
    assert "课程编号不存在：nope" in page
    assert 'value="2026年会计专业科目"' in page  # what was typed comes back
    assert await setup.connection.fetchval("SELECT count(*) FROM plans") == 0

    created = await admin.post("/admin/plans", **fields, add_codes="kj-01")
    assert created.status == 302
    plan_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert flash(created) == "培训计划已创建"
    row = await setup.connection.fetchrow("SELECT * FROM plans WHERE id = $1", plan_id)
    assert (row["elective_tenths"], row["price_per_hour_fen"], row["org_id"]) == (
        145,
        550,
        setup.org,
    )
    # The open period is China's days: from 2026-01-01 00:00 to the end of 2026-12-31.
    assert row["opens_at"].isoformat() == "2025-12-31T16:00:00+00:00"
    assert row["closes_at"].isoformat() == "2026-12-31T16:00:00+00:00"

    edit = await (await admin.get(f"/admin/plans/{plan_id}")).text()
    assert 'value="2026-12-31"' in edit
    assert f'name="course_id" value="{course_id}" checked' in edit
    saved = await admin.post(
        f"/admin/plans/{plan_id}",
        **fields,
        course_id=str(course_id),
        compulsory=str(course_id),
        examined=str(course_id),
    )
    assert saved.status == 302
    link = await setup.connection.fetchrow("SELECT * FROM plan_courses WHERE plan_id = $1", plan_id)
    assert (link["compulsory"], link["examined"]) == (True, True)

    listed = await (await admin.get("/admin/plans", kind="professional", q="会计")).text()
    assert f'<a href="/admin/plans/{plan_id}">2026年会计专业科目</a>' in listed
    assert "共 1 条" in listed
    assert "<td>2026-01-01 至 2026-12-31</td>" in listed
    assert "共 0 条" in await (await admin.get("/admin/plans", year="2025")).text()


async def test_a_course_gets_a_chapter_uploaded_and_its_key_points(
    client: TestClient, setup: Setup, settings: Settings
) -> None:
    admin = await Browser.of(client, setup.admin)
    created = await admin.post(
        "/admin/courses", code="kj-02", title="内部控制", hours="2", org_id=str(setup.org)
    )
    assert created.status == 302
    course_url = created.headers["Location"]

    added = await upload(admin, f"{course_url}/chapters", (DEMO / "clip2.mp4").read_bytes(), "导学")
    assert (added.status, added.headers["Location"], flash(added)) == (
        302,
        course_url,
        "章节已添加",
    )
    page = await (await admin.get(course_url)).text()
    [chapter_id] = re.findall(r'<a href="/admin/chapters/(\d+)">导学</a>', page)
    assert "<td>01:00</td>" in page

    for video, message in (
        ((DEMO / "clip1.mp4").read_bytes() * 3, "视频文件超过1MB，无法上传"),
        (b"<html>not a video</html>", "只能上传MP4或WebM格式的视频"),
    ):
        refused = await upload(admin, f"{course_url}/chapters", video, "第二节")
        assert flash(refused) == "!" + message
    assert await setup.connection.fetchval("SELECT count(*) FROM chapters") == 1
    assert len(list(uploads.upload_folder(settings.data_dir).iterdir())) == 1

    chapter_url = f"/admin/chapters/{chapter_id}"
    bad = await admin.post(f"{chapter_url}/key-points", key_points="01:30 超出")
    assert flash(bad) == "!时间01:30超出视频时长01:00"
    saved = await admin.post(f"{chapter_url}/key-points", key_points="00:05 课程导入\n00:40 案例")
    assert flash(saved) == "关键目录已保存"
    assert "00:05 课程导入\n00:40 案例</textarea>" in await (await admin.get(chapter_url)).text()


async def test_a_chapter_learners_are_in_is_kept(client: TestClient, setup: Setup) -> None:
    admin = await Browser.of(client, setup.admin)
    course_id = await setup.connection.fetchval(
        "INSERT INTO courses (code, title, hour_tenths, org_id) VALUES ('kj-03', '税法', 10, $1)"
        " RETURNING id",
        setup.org,
    )
    first, second = [
        await setup.connection.fetchval(
            """INSERT INTO chapters (course_id, position, title, media, duration_s)
               VALUES ($1, $2, $3, 'demo/clip1.mp4', 90) RETURNING id""",
            course_id,
            position,
            f"第{position}节",
        )
        for position in (1, 2)
    ]
    await setup.connection.execute(
        "INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s) VALUES ($1, $2, 30)",
        setup.learner,
        first,
    )
    page = await (await admin.get(f"/admin/chapters/{first}")).text()
    assert "已有1名学员学习了本章节，不能删除。" in page
    refused = await admin.post(f"/admin/chapters/{first}/delete")
    assert flash(refused) == "!已有1名学员学习了本章节，不能删除"
    moved = await admin.post(f"/admin/chapters/{second}/move", direction="up")
    assert moved.headers["Location"] == f"/admin/courses/{course_id}#chapter-{second}"
    order = await setup.connection.fetch(
        "SELECT id FROM chapters WHERE course_id = $1 ORDER BY position", course_id
    )
    assert [row["id"] for row in order] == [second, first]
    deleted = await admin.post(f"/admin/chapters/{second}/delete")
    assert flash(deleted) == "章节“第2节”已删除"
    remaining = await setup.connection.fetch("SELECT id, position FROM chapters")
    assert [tuple(row) for row in remaining] == [(first, 1)]


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/admin/plans", {"title": "计划", "kind": "public", "year": "二〇二六"}),
        ("/admin/plans", {"year": "2026", "opens_on": "2026-02-30", "closes_on": "x"}),
        ("/admin/plans", {"year": "2026", "compulsory_hours": "nan", "elective_hours": "inf"}),
        ("/admin/plans", {"year": "99999999999999999999", "price_per_hour": "1e308"}),
        ("/admin/plans", {"title": "a\x00b", "kind": "other", "course_id": "-1"}),
        ("/admin/courses", {"code": "x", "title": "y", "hours": "1e309"}),
        ("/admin/courses", {"code": "x", "title": "y", "hours": "1", "teacher_id": "abc"}),
        ("/admin/courses", {"code": "x" * 500, "title": "\x00", "hours": "-3"}),
        ("/admin/teachers", {"name": "", "org_id": "0"}),
        ("/admin/teachers", {"name": "王" * 5000, "profile": "简" * 9000}),
    ],
)
async def test_bad_input_is_told_in_chinese_and_nothing_is_stored(
    client: TestClient, setup: Setup, path: str, fields: dict[str, str]
) -> None:
    admin = await Browser.of(client, setup.admin)
    before = [
        await setup.connection.fetchval(f"SELECT count(*) FROM {table}")
        for table in ("plans", "courses", "teachers", "audit_log")
    ]
    response = await admin.post(path, **{"org_id": str(setup.org), **fields})
    assert response.status in (400, 404)
    assert re.search(r"[\u4e00-\u9fff]", await response.text())
    after = [
        await setup.connection.fetchval(f"SELECT count(*) FROM {table}")
        for table in ("plans", "courses", "teachers", "audit_log")
    ]
    assert after == before


class TestLargerThanARequestBody:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """Uploads up to 5 MB: past the 1 MB the portal reads of an ordinary body."""
        return msgspec.structs.replace(settings, upload_max_mb=5)

    async def test_a_video_larger_than_a_form_body_streams_in(
        self, client: TestClient, setup: Setup
    ) -> None:
        course_id = await setup.connection.fetchval(
            "INSERT INTO courses (code, title, hour_tenths, org_id) VALUES ('kj-04', '审计', 10, $1)"
            " RETURNING id",
            setup.org,
        )
        admin = await Browser.of(client, setup.admin)
        # The clip with 2.5 MB after it: ffmpeg still reads its 90 s from the index up front.
        video = (DEMO / "clip1.mp4").read_bytes() + bytes(2_500_000)
        added = await upload(admin, f"/admin/courses/{course_id}/chapters", video, "第一节")
        assert flash(added) == "章节已添加"
        media, duration = await setup.connection.fetchrow(
            "SELECT media, duration_s FROM chapters WHERE course_id = $1", course_id
        )
        assert duration == 90.0
        stored = uploads.uploaded_path(client.server.app[SETTINGS].data_dir, media)
        assert stored is not None
        assert stored.read_bytes() == video
