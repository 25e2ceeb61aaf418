"""Chapter videos (issue 14, F11): only to a learner who may watch them, 试看 only its part."""

import asyncio
import mimetypes
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from engine.appkeys import CLOCK, DB, SETTINGS
from engine.catalog import service as catalog
from engine.catalog.measures import PREVIEW_S, preview_bytes
from engine.catalog.uploads import UPLOADS, upload_folder
from engine.errors import Forbidden, NotFound
from engine.progress.service import NOT_WATCHABLE, may_watch
from web.decoding import path_id
from web.requests import current_user

MEDIA_DIR = Path(__file__).resolve().parent.parent / "media"
# The internal location a proxy maps to MEDIA_DIR, and its `uploads/` to the data folder's
# uploads (JIXU_MEDIA_ACCEL); never public there.
ACCEL_PREFIX = "/protected-media/"
PREVIEW_OVER = f"试看仅限前{PREVIEW_S // 60}分钟，选课后可观看完整课程"
CHUNK_BYTES = 256 * 1024


async def chapter_media(request: web.Request) -> web.StreamResponse:
    """A chapter's video: whole, with ranges, to a learner who may watch it (as `play` rules);
    the 试看 part of a course's first chapter to any other learner; nothing to visitors."""
    user = current_user(request)
    if user is None:
        raise Forbidden("请先登录")
    chapter_id = path_id(request, "chapter_id")
    chapter = await catalog.chapter_file(request.app[DB], chapter_id)
    path = media_path(chapter.media, request.app[SETTINGS].data_dir)
    if await may_watch(request.app[DB], user.id, chapter_id, request.app[CLOCK]()):
        if request.app[SETTINGS].media_accel:
            headers = {"X-Accel-Redirect": ACCEL_PREFIX + quote(chapter.media)}
            return web.Response(headers=headers, content_type=content_type(path))
        return web.FileResponse(path)
    if not chapter.previewable:
        raise Forbidden(NOT_WATCHABLE)
    return await preview(request, path, chapter.duration_s)


def media_path(media: str, data_dir: str) -> Path:
    """The file a chapter names, which must lie inside its folder: an administrator's upload
    (`uploads/…`) in the data folder's uploads, anything else in the media folder."""
    if media.startswith(UPLOADS):
        folder, name = upload_folder(data_dir), media.removeprefix(UPLOADS)
    else:
        folder, name = MEDIA_DIR, media
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise NotFound("视频文件不存在")
    return path


def content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


async def preview(request: web.Request, path: Path, duration_s: float) -> web.StreamResponse:
    """The 试看 share of the file's bytes, always as a 206 part of it; the clips are written
    with their index first (faststart), so the part plays from the start."""
    size = (await asyncio.to_thread(path.stat)).st_size
    allowed = preview_bytes(size, duration_s)
    unsatisfiable = web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    try:
        wanted = request.http_range
    except ValueError:
        raise unsatisfiable from None
    start = wanted.start or 0
    if start < 0:
        start = max(size + start, 0)
    if start >= allowed:
        raise Forbidden(PREVIEW_OVER)
    end = min(size if wanted.stop is None else wanted.stop, allowed)
    if end <= start:
        raise unsatisfiable
    response = web.StreamResponse(
        status=206, headers={"Content-Range": f"bytes {start}-{end - 1}/{size}"}
    )
    response.content_type = content_type(path)
    response.content_length = end - start
    await response.prepare(request)
    with path.open("rb") as file:
        file.seek(start)
        left = end - start
        while left > 0:
            chunk = await asyncio.to_thread(file.read, min(CHUNK_BYTES, left))
            if not chunk:
                break
            await response.write(chunk)
            left -= len(chunk)
    await response.write_eof()
    return response
