"""A course's chapters as administrators edit them: add one with its video, rename, replace
the video, reorder, delete, and name its key points (关键目录).

A chapter belongs to the scope of its course's organisation. Learners in progress never
lose a chapter silently: a chapter with progress cannot be deleted, nor its video replaced
by one of another length (README: Administration).
"""

import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import asyncpg

from engine.admin import audit
from engine.admin.scope import Scope, require
from engine.catalog import admin_store, chapter_store, uploads
from engine.catalog.admin_types import Chapter, KeyPoint
from engine.db import Connection, Executor
from engine.errors import Conflict, InvalidInput, NotFound

MAX_TITLE = 100
MAX_KEY_POINTS = 100
# A replacement video "of the same length" as the one learners watched: re-encoding the
# same lecture moves its length by a fraction of a second.
SAME_LENGTH_S = 1.0
MOMENT = re.compile(r"(?:(\d{1,2}):)?(\d{1,3}):([0-5]\d)", re.ASCII)


def _title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InvalidInput({"title": "请填写章节名称"})
    if len(title) > MAX_TITLE:
        raise InvalidInput({"title": f"章节名称不能超过{MAX_TITLE}个字"})
    if any(character < " " for character in title):
        raise InvalidInput({"title": "章节名称不能含有控制字符"})
    return title


async def _course_org(
    db: Executor, scope: Scope, course_id: int, *, lock: bool = False
) -> int | None:
    """The organisation of a course within scope (NotFound outside it)."""
    row = await admin_store.course(db, scope.org_id, course_id, lock=lock)
    if row is None:
        raise NotFound("课程不存在")
    org_id: int | None = row["org_id"]
    return org_id


async def _chapter(
    db: Executor, scope: Scope, chapter_id: int, *, lock: bool = False
) -> asyncpg.Record:
    row = await chapter_store.chapter(db, scope.org_id, chapter_id, lock=lock)
    if row is None:
        raise NotFound("章节不存在")
    return row


def _view(row: asyncpg.Record, key_points: list[KeyPoint]) -> Chapter:
    return Chapter(
        id=row["id"],
        course_id=row["course_id"],
        position=row["position"],
        title=row["title"],
        media=row["media"],
        duration_s=row["duration_s"],
        learners=row["learners"],
        key_points=key_points,
    )


async def list_chapters(db: Executor, scope: Scope, course_id: int) -> list[Chapter]:
    """A course's chapters in order, with how many learners have progress in each."""
    require(scope, "admin")
    await _course_org(db, scope, course_id)
    return [_view(row, []) for row in await chapter_store.chapters(db, course_id)]


async def get_chapter(db: Executor, scope: Scope, chapter_id: int) -> Chapter:
    require(scope, "admin")
    row = await _chapter(db, scope, chapter_id)
    return _view(row, await chapter_store.key_points(db, chapter_id))


async def add_chapter(
    pool: asyncpg.Pool,
    scope: Scope,
    course_id: int,
    title: str,
    video: AsyncIterator[bytes],
    *,
    data_dir: str | Path,
    max_bytes: int,
) -> Chapter:
    """A new last chapter of the course, with its uploaded video."""
    require(scope, "admin")
    title = _title(title)
    await _course_org(pool, scope, course_id)
    stored = await uploads.receive(video, data_dir, max_bytes)
    try:
        async with pool.acquire() as connection, connection.transaction():
            org_id = await _course_org(connection, scope, course_id, lock=True)
            chapter_id = await chapter_store.insert_chapter(
                connection, course_id, title, stored.media, stored.duration_s
            )
            chapter = _view(await _chapter(connection, scope, chapter_id), [])
            await _audit(connection, scope, "chapter.create", chapter, org_id, None, chapter)
    except BaseException:
        await uploads.discard(data_dir, stored)
        raise
    return chapter


async def rename_chapter(pool: asyncpg.Pool, scope: Scope, chapter_id: int, title: str) -> Chapter:
    require(scope, "admin")
    title = _title(title)
    async with pool.acquire() as connection, connection.transaction():
        row = await _chapter(connection, scope, chapter_id, lock=True)
        before = _view(row, [])
        await chapter_store.rename_chapter(connection, chapter_id, title)
        after = _view(await _chapter(connection, scope, chapter_id), [])
        await _audit(connection, scope, "chapter.update", after, row["org_id"], before, after)
        return after


async def replace_video(
    pool: asyncpg.Pool,
    scope: Scope,
    chapter_id: int,
    video: AsyncIterator[bytes],
    *,
    data_dir: str | Path,
    max_bytes: int,
) -> Chapter:
    """The chapter's video becomes the uploaded one. Refused (Conflict) when learners have
    progress in the chapter and the new video's length differs, or when a key point would
    fall past its end; the previous uploaded file is removed once the change is stored."""
    require(scope, "admin")
    await _chapter(pool, scope, chapter_id)
    stored = await uploads.receive(video, data_dir, max_bytes)
    try:
        async with pool.acquire() as connection, connection.transaction():
            row = await _chapter(connection, scope, chapter_id, lock=True)
            before = _view(row, await chapter_store.key_points(connection, chapter_id))
            if row["learners"] and abs(stored.duration_s - row["duration_s"]) > SAME_LENGTH_S:
                raise Conflict(
                    f"已有{row['learners']}名学员学习了本章节，只能换成时长相同的视频"
                    f"（原视频{clock(row['duration_s'])}，新视频{clock(stored.duration_s)}）",
                    field="video",
                )
            past = [point for point in before.key_points if point.at_s >= stored.duration_s]
            if past:
                raise Conflict(
                    f"有{len(past)}个关键目录超出新视频的时长，请先修改关键目录", field="video"
                )
            await chapter_store.replace_video(
                connection, chapter_id, stored.media, stored.duration_s
            )
            after = _view(await _chapter(connection, scope, chapter_id), before.key_points)
            await _audit(connection, scope, "chapter.video", after, row["org_id"], before, after)
    except BaseException:
        await uploads.discard(data_dir, stored)
        raise
    await uploads.discard(data_dir, uploads.Video(before.media, before.duration_s))
    return after


async def delete_chapter(
    pool: asyncpg.Pool, scope: Scope, chapter_id: int, *, data_dir: str | Path
) -> None:
    """Delete a chapter no learner has progress in (Conflict otherwise, with their number)."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        # The course first, as reordering and adding lock it: then the chapter.
        course_id = (await _chapter(connection, scope, chapter_id))["course_id"]
        await _course_org(connection, scope, course_id, lock=True)
        row = await _chapter(connection, scope, chapter_id, lock=True)
        if row["learners"]:
            raise Conflict(f"已有{row['learners']}名学员学习了本章节，不能删除")
        before = _view(row, await chapter_store.key_points(connection, chapter_id))
        await chapter_store.delete_chapter(connection, chapter_id)
        remaining = [r["id"] for r in await chapter_store.chapters(connection, row["course_id"])]
        await chapter_store.set_positions(connection, row["course_id"], remaining)
        await _audit(connection, scope, "chapter.delete", before, row["org_id"], before, None)
    await uploads.discard(data_dir, uploads.Video(before.media, before.duration_s))


async def reorder_chapters(
    pool: asyncpg.Pool, scope: Scope, course_id: int, order: Sequence[int]
) -> list[Chapter]:
    """Put the course's chapters in `order`: each of its chapters exactly once."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        org_id = await _course_org(connection, scope, course_id, lock=True)
        before = [r["id"] for r in await chapter_store.chapters(connection, course_id)]
        if sorted(order) != sorted(before) or len(set(order)) != len(order):
            raise InvalidInput({"order": "章节顺序应包含本课程的每个章节各一次"})
        await chapter_store.set_positions(connection, course_id, order)
        await audit.record(
            connection,
            scope,
            "course.reorder",
            kind="course",
            object_id=course_id,
            org_id=org_id,
            before={"chapters": before},
            after={"chapters": list(order)},
        )
        return [_view(row, []) for row in await chapter_store.chapters(connection, course_id)]


async def move_chapter(
    pool: asyncpg.Pool, scope: Scope, chapter_id: int, step: int
) -> list[Chapter]:
    """Move a chapter one place up (-1) or down (+1) in its course (no further than its ends)."""
    require(scope, "admin")
    row = await _chapter(pool, scope, chapter_id)
    order = [r["id"] for r in await chapter_store.chapters(pool, row["course_id"])]
    index = order.index(chapter_id)
    target = min(max(index + (1 if step > 0 else -1), 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return await reorder_chapters(pool, scope, row["course_id"], order)


def parse_moment(text: str) -> float | None:
    """A moment of a video as people write it: `mm:ss` or `h:mm:ss`, in seconds."""
    match = MOMENT.fullmatch(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if hours and minutes > 59:
        return None
    return float(hours * 3600 + minutes * 60 + seconds)


def parse_key_points(text: str) -> list[KeyPoint]:
    """Key points written one a line, `mm:ss 标题`, in any order; blank lines are skipped.
    InvalidInput names every bad line."""
    points: list[KeyPoint] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        moment, _, title = line.strip().partition(" ")
        at_s = parse_moment(moment)
        title = title.strip()
        if at_s is None:
            errors.append(f"第{number}行：时间应写成“分:秒”，如 05:30")
        elif not title:
            errors.append(f"第{number}行：请在时间后填写标题")
        elif len(title) > MAX_TITLE:
            errors.append(f"第{number}行：标题不能超过{MAX_TITLE}个字")
        else:
            points.append(KeyPoint(at_s=at_s, title=title))
    if errors:
        raise InvalidInput({"key_points": "；".join(errors)})
    return points


async def set_key_points(
    pool: asyncpg.Pool, scope: Scope, chapter_id: int, points: Sequence[KeyPoint]
) -> Chapter:
    """The chapter's key points become these (none: the player's marks every 30 seconds)."""
    require(scope, "admin")
    points = sorted(points, key=lambda point: point.at_s)
    if len(points) > MAX_KEY_POINTS:
        raise InvalidInput({"key_points": f"关键目录不能超过{MAX_KEY_POINTS}个"})
    if len({point.at_s for point in points}) != len(points):
        raise InvalidInput({"key_points": "同一时间只能有一个关键目录"})
    async with pool.acquire() as connection, connection.transaction():
        row = await _chapter(connection, scope, chapter_id, lock=True)
        past = [point for point in points if not 0 <= point.at_s < row["duration_s"]]
        if past:
            raise InvalidInput(
                {"key_points": f"时间{clock(past[0].at_s)}超出视频时长{clock(row['duration_s'])}"}
            )
        before = _view(row, await chapter_store.key_points(connection, chapter_id))
        await chapter_store.set_key_points(connection, chapter_id, points)
        after = _view(row, list(points))
        await _audit(connection, scope, "chapter.key_points", after, row["org_id"], before, after)
        return after


def clock(seconds: float) -> str:
    """A moment as key points are written: mm:ss, or h:mm:ss from an hour on."""
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{whole // 60:02d}:{whole % 60:02d}"


async def _audit(
    connection: Connection,
    scope: Scope,
    action: str,
    chapter: Chapter,
    org_id: int | None,
    before: object,
    after: object,
) -> None:
    await audit.record(
        connection,
        scope,
        action,
        kind="chapter",
        object_id=chapter.id,
        org_id=org_id,
        before=before,
        after=after,
    )
