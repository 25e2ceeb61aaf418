"""Chapters as administrators edit them: videos uploaded (too big, not a video, unreadable,
a real clip), reorder, key points, and the guard that keeps learners in progress from
losing a chapter."""

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import imageio_ffmpeg
import pytest

from engine.catalog import chapter_admin, uploads
from engine.catalog.admin_types import KeyPoint
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.integration.catalog_world import World, audit_rows, built_world, refused

DEMO = Path(__file__).resolve().parents[2] / "media" / "demo"
CLIP1 = (DEMO / "clip1.mp4").read_bytes()  # 90 s
CLIP2 = (DEMO / "clip2.mp4").read_bytes()  # 60 s
MB = 1024 * 1024


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with built_world(database_url) as built:
        yield built


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def files(data_dir: Path) -> list[str]:
    """Everything in the uploads folder, temporary files included."""
    folder = uploads.upload_folder(data_dir)
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


async def add(world: World, data_dir: Path, owner: str = "A", video: bytes = CLIP1) -> int:
    chapter = await chapter_admin.add_chapter(
        world.pool,
        world.scopes["admin_a" if owner == "A" else "admin_b"],
        world.courses[owner],
        "第一节 导学",
        chunks(video),
        data_dir=data_dir,
        max_bytes=10 * MB,
    )
    return chapter.id


async def test_a_real_clip_is_stored_measured_and_audited(world: World, tmp_path: Path) -> None:
    chapter = await chapter_admin.add_chapter(
        world.pool,
        world.scopes["admin_a"],
        world.courses["A"],
        "  第一节 导学 ",
        chunks(CLIP2),
        data_dir=tmp_path,
        max_bytes=MB,
    )
    assert (chapter.title, chapter.position, chapter.duration_s) == ("第一节 导学", 1, 60.0)
    assert chapter.media.startswith("uploads/")
    assert chapter.media.endswith(".mp4")
    stored = uploads.uploaded_path(tmp_path, chapter.media)
    assert stored is not None
    assert stored.read_bytes() == CLIP2
    assert files(tmp_path) == [stored.name]
    [row] = await audit_rows(world, "chapter.create")
    assert (row["actor_name"], row["org_id"]) == ("admin_a", world.orgs["A"])


@pytest.mark.parametrize(
    ("video", "limit", "message"),
    [
        (CLIP1 * 3, MB, "视频文件超过1MB，无法上传"),
        (b"%PDF-1.7\n" + b"x" * 5000, MB, "只能上传MP4或WebM格式的视频"),
        (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 5000, MB, "无法读取视频时长，文件可能已损坏"),
        (b"", MB, "请选择要上传的视频文件"),
    ],
    ids=["too-big", "not-a-video", "unreadable", "empty"],
)
async def test_a_refused_upload_leaves_nothing_behind(
    world: World, tmp_path: Path, video: bytes, limit: int, message: str
) -> None:
    before = await world.snapshot()
    with pytest.raises(InvalidInput) as caught:
        await chapter_admin.add_chapter(
            world.pool,
            world.scopes["admin_a"],
            world.courses["A"],
            "第一节",
            chunks(video),
            data_dir=tmp_path,
            max_bytes=limit,
        )
    assert caught.value.fields == {"video": message}
    assert files(tmp_path) == []
    assert await world.snapshot() == before


@pytest.fixture
def webm(tmp_path: Path) -> bytes:
    """A 3-second VP8 clip in WebM, made with the same ffmpeg."""
    path = tmp_path / "clip.webm"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            *("-hide_banner", "-loglevel", "error", "-f", "lavfi"),
            *("-i", "testsrc=duration=3:size=64x48:rate=5", "-c:v", "libvpx", str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path.read_bytes()


async def test_webm_is_taken_too_and_known_by_its_content(
    world: World, tmp_path: Path, webm: bytes
) -> None:
    uploaded = tmp_path / "data"
    chapter_id = await add(world, uploaded, video=webm)
    chapter = await chapter_admin.get_chapter(world.pool, world.scopes["admin_a"], chapter_id)
    assert chapter.media.endswith(".webm")
    assert chapter.duration_s == 3.0
    # A WebM header and nothing a player could show: recognised, then refused.
    with pytest.raises(InvalidInput) as caught:
        await add(world, uploaded, video=b"\x1a\x45\xdf\xa3" + b"\x00" * 100)
    assert caught.value.fields == {"video": uploads.UNREADABLE}
    assert files(uploaded) == [chapter.media.removeprefix("uploads/")]


async def test_chapters_of_another_organisation_are_not_found(world: World, tmp_path: Path) -> None:
    chapter_b = await add(world, tmp_path, owner="B")
    stored = files(tmp_path)
    admin_a, teacher = world.scopes["admin_a"], world.scopes["teacher_a"]
    for scope, error in ((admin_a, NotFound), (teacher, Forbidden)):
        await refused(
            world,
            error,
            lambda scope=scope: chapter_admin.get_chapter(world.pool, scope, chapter_b),
        )
        await refused(
            world,
            error,
            lambda scope=scope: chapter_admin.rename_chapter(world.pool, scope, chapter_b, "改名"),
        )
        await refused(
            world,
            error,
            lambda scope=scope: chapter_admin.delete_chapter(
                world.pool, scope, chapter_b, data_dir=tmp_path
            ),
        )
        await refused(
            world,
            error,
            lambda scope=scope: chapter_admin.set_key_points(
                world.pool, scope, chapter_b, [KeyPoint(at_s=5, title="开始")]
            ),
        )
        await refused(
            world,
            error,
            lambda scope=scope: chapter_admin.reorder_chapters(
                world.pool, scope, world.courses["B"], [chapter_b]
            ),
        )
        await refused(
            world,
            error,
            lambda scope=scope: chapter_admin.replace_video(
                world.pool, scope, chapter_b, chunks(CLIP1), data_dir=tmp_path, max_bytes=MB
            ),
        )
        await refused(
            world,
            error,
            lambda scope=scope: chapter_admin.add_chapter(
                world.pool,
                scope,
                world.courses["B"],
                "第二节",
                chunks(CLIP1),
                data_dir=tmp_path,
                max_bytes=MB,
            ),
        )
    assert files(tmp_path) == stored
    # The super administrator manages every course's chapters.
    renamed = await chapter_admin.rename_chapter(
        world.pool, world.scopes["super"], chapter_b, "改名"
    )
    assert renamed.title == "改名"


async def test_reorder_and_move(world: World, tmp_path: Path) -> None:
    first, second, third = [await add(world, tmp_path) for _ in range(3)]
    scope = world.scopes["admin_a"]
    reordered = await chapter_admin.reorder_chapters(
        world.pool, scope, world.courses["A"], [third, first, second]
    )
    assert [(chapter.id, chapter.position) for chapter in reordered] == [
        (third, 1),
        (first, 2),
        (second, 3),
    ]
    moved = await chapter_admin.move_chapter(world.pool, scope, third, +1)
    assert [chapter.id for chapter in moved] == [first, third, second]
    top = await chapter_admin.move_chapter(world.pool, scope, first, -1)
    assert [chapter.id for chapter in top] == [first, third, second]
    for order in ([first, second], [first, second, third, third], [first, second, 999]):
        await refused(
            world,
            InvalidInput,
            lambda order=order: chapter_admin.reorder_chapters(
                world.pool, scope, world.courses["A"], order
            ),
        )
    rows = await audit_rows(world, "course.reorder")
    assert len(rows) == 3
    assert rows[0]["before"] == f'{{"chapters": [{first}, {second}, {third}]}}'


async def progress(world: World, chapter_id: int) -> None:
    await world.pool.execute(
        "INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s) VALUES ($1, $2, 12)",
        world.users["learner_a"],
        chapter_id,
    )


async def test_a_chapter_with_learners_in_progress_cannot_be_deleted(
    world: World, tmp_path: Path
) -> None:
    kept, spare, last = [await add(world, tmp_path) for _ in range(3)]
    await progress(world, kept)
    scope = world.scopes["admin_a"]
    stored = files(tmp_path)
    await refused(
        world,
        Conflict,
        lambda: chapter_admin.delete_chapter(world.pool, scope, kept, data_dir=tmp_path),
    )
    with pytest.raises(Conflict, match="已有1名学员学习了本章节，不能删除"):
        await chapter_admin.delete_chapter(world.pool, scope, kept, data_dir=tmp_path)
    assert files(tmp_path) == stored

    removed = await chapter_admin.get_chapter(world.pool, scope, spare)
    await chapter_admin.delete_chapter(world.pool, scope, spare, data_dir=tmp_path)
    chapters = await chapter_admin.list_chapters(world.pool, scope, world.courses["A"])
    assert [(chapter.id, chapter.position, chapter.learners) for chapter in chapters] == [
        (kept, 1, 1),
        (last, 2, 0),
    ]
    assert removed.media.removeprefix("uploads/") not in files(tmp_path)
    [row] = await audit_rows(world, "chapter.delete")
    assert row["after"] is None
    assert '"title": "第一节 导学"' in row["before"]


async def test_a_video_learners_watched_is_replaced_only_by_one_as_long(
    world: World, tmp_path: Path
) -> None:
    chapter_id = await add(world, tmp_path, video=CLIP1)
    await progress(world, chapter_id)
    scope = world.scopes["admin_a"]
    old = (await chapter_admin.get_chapter(world.pool, scope, chapter_id)).media

    async def replace(video: bytes) -> object:
        return await chapter_admin.replace_video(
            world.pool, scope, chapter_id, chunks(video), data_dir=tmp_path, max_bytes=MB
        )

    stored = files(tmp_path)
    await refused(world, Conflict, lambda: replace(CLIP2))
    with pytest.raises(
        Conflict,
        match=r"已有1名学员学习了本章节，只能换成时长相同的视频（原视频01:30，新视频01:00）",
    ):
        await replace(CLIP2)
    assert files(tmp_path) == stored

    await replace(CLIP1)
    chapter = await chapter_admin.get_chapter(world.pool, scope, chapter_id)
    assert chapter.media != old
    assert chapter.duration_s == 90.0
    assert files(tmp_path) == [chapter.media.removeprefix("uploads/")]
    [row] = await audit_rows(world, "chapter.video")
    assert old in row["before"]
    assert chapter.media in row["after"]


async def test_a_video_nobody_watched_may_change_length_within_its_key_points(
    world: World, tmp_path: Path
) -> None:
    chapter_id = await add(world, tmp_path, video=CLIP1)
    scope = world.scopes["admin_a"]
    await chapter_admin.set_key_points(
        world.pool, scope, chapter_id, [KeyPoint(at_s=75, title="总结")]
    )
    with pytest.raises(Conflict, match="有1个关键目录超出新视频的时长"):
        await chapter_admin.replace_video(
            world.pool, scope, chapter_id, chunks(CLIP2), data_dir=tmp_path, max_bytes=MB
        )
    await chapter_admin.set_key_points(
        world.pool, scope, chapter_id, [KeyPoint(at_s=45, title="总结")]
    )
    chapter = await chapter_admin.replace_video(
        world.pool, scope, chapter_id, chunks(CLIP2), data_dir=tmp_path, max_bytes=MB
    )
    assert (chapter.duration_s, chapter.key_points) == (60.0, [KeyPoint(at_s=45, title="总结")])


async def test_key_points_are_named_moments_within_the_video(world: World, tmp_path: Path) -> None:
    chapter_id = await add(world, tmp_path)
    scope = world.scopes["admin_a"]
    points = chapter_admin.parse_key_points("01:10 案例\n\n00:05 课程导入\n")
    chapter = await chapter_admin.set_key_points(world.pool, scope, chapter_id, points)
    assert chapter.key_points == [
        KeyPoint(at_s=5.0, title="课程导入"),
        KeyPoint(at_s=70.0, title="案例"),
    ]
    for bad, message in (
        ([KeyPoint(at_s=90, title="结尾")], "时间01:30超出视频时长01:30"),
        (
            [KeyPoint(at_s=5, title="一"), KeyPoint(at_s=5, title="二")],
            "同一时间只能有一个关键目录",
        ),
    ):
        before = await world.snapshot()
        with pytest.raises(InvalidInput) as caught:
            await chapter_admin.set_key_points(world.pool, scope, chapter_id, bad)
        assert caught.value.fields == {"key_points": message}
        assert await world.snapshot() == before
    cleared = await chapter_admin.set_key_points(world.pool, scope, chapter_id, [])
    assert cleared.key_points == []
    rows = await audit_rows(world, "chapter.key_points")
    assert len(rows) == 2
    assert "课程导入" in rows[0]["after"]
