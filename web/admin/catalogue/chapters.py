"""A course's chapters: add one with its video, rename, replace the video, key points
(关键目录), move up or down, delete. Refusals of the form (a video too big, not a video,
a chapter learners are in) come back as a red message on the page the form was on."""

from collections.abc import AsyncIterator

from aiohttp import BodyPartReader, MultipartReader, web

from engine.admin.scope import Scope
from engine.appkeys import DB, SETTINGS
from engine.catalog import chapter_admin
from engine.catalog.uploads import EMPTY
from engine.errors import Conflict, InvalidInput
from web.admin.catalogue.forms import ChapterTitle, KeyPointsForm, MoveForm
from web.admin.render import render_admin
from web.admin.routing import UPLOAD, AdminRoute, Upload
from web.decoding import path_id, read_form
from web.flash import flash_redirect
from web.media import MEDIA_DIR

CHUNK_BYTES = 64 * 1024
MAX_TITLE_BYTES = 1024
MB = 1024 * 1024


def _refused(location: str, exc: InvalidInput | Conflict) -> web.HTTPFound:
    fields = getattr(exc, "fields", {})
    return flash_redirect(location, "；".join(fields.values()) or exc.message, error=True)


async def _part(reader: MultipartReader, name: str) -> BodyPartReader | None:
    part = await reader.next()
    return part if isinstance(part, BodyPartReader) and part.name == name else None


async def _title(reader: MultipartReader) -> str:
    """The form's `title`, the part before its video."""
    part = await _part(reader, "title")
    if part is None:
        raise InvalidInput({"title": "请填写章节名称"})
    data = await part.read_chunk(MAX_TITLE_BYTES + 1)
    if len(data) > MAX_TITLE_BYTES:
        raise InvalidInput({"title": "章节名称过长"})
    return data.decode("utf-8", errors="replace")


async def _video(reader: MultipartReader) -> AsyncIterator[bytes]:
    """The `video` part's bytes as they arrive."""
    part = await _part(reader, "video")
    if part is None:
        raise InvalidInput({"video": EMPTY})
    while chunk := await part.read_chunk(CHUNK_BYTES):
        yield chunk


async def add_chapter(request: web.Request, scope: Scope) -> web.StreamResponse:
    course_id = path_id(request, "course_id")
    location = f"/admin/courses/{course_id}"
    settings = request.app[SETTINGS]
    try:
        title = await _title(request[UPLOAD])
        await chapter_admin.add_chapter(
            request.app[DB],
            scope,
            course_id,
            title,
            _video(request[UPLOAD]),
            data_dir=settings.data_dir,
            max_bytes=settings.upload_max_mb * MB,
        )
    except (InvalidInput, Conflict) as exc:
        raise _refused(location, exc) from None
    raise flash_redirect(location, "章节已添加")


async def chapter_page(request: web.Request, scope: Scope) -> web.Response:
    chapter = await chapter_admin.get_chapter(
        request.app[DB], scope, path_id(request, "chapter_id")
    )
    lines = "\n".join(
        f"{chapter_admin.clock(point.at_s)} {point.title}" for point in chapter.key_points
    )
    context = {
        "chapter": chapter,
        "key_points": lines,
        "upload_max_mb": request.app[SETTINGS].upload_max_mb,
    }
    return render_admin(request, scope, "admin/chapter.html", context)


async def rename_chapter(request: web.Request, scope: Scope) -> web.StreamResponse:
    chapter_id = path_id(request, "chapter_id")
    location = f"/admin/chapters/{chapter_id}"
    try:
        form = await read_form(request, ChapterTitle)
        await chapter_admin.rename_chapter(request.app[DB], scope, chapter_id, form.title)
    except InvalidInput as exc:
        raise _refused(location, exc) from None
    raise flash_redirect(location, "章节名称已保存")


async def replace_video(request: web.Request, scope: Scope) -> web.StreamResponse:
    chapter_id = path_id(request, "chapter_id")
    location = f"/admin/chapters/{chapter_id}"
    settings = request.app[SETTINGS]
    try:
        await chapter_admin.replace_video(
            request.app[DB],
            scope,
            chapter_id,
            _video(request[UPLOAD]),
            data_dir=settings.data_dir,
            max_bytes=settings.upload_max_mb * MB,
        )
    except (InvalidInput, Conflict) as exc:
        raise _refused(location, exc) from None
    raise flash_redirect(location, "视频已更换")


async def set_key_points(request: web.Request, scope: Scope) -> web.StreamResponse:
    chapter_id = path_id(request, "chapter_id")
    location = f"/admin/chapters/{chapter_id}"
    try:
        form = await read_form(request, KeyPointsForm)
        points = chapter_admin.parse_key_points(form.key_points)
        await chapter_admin.set_key_points(request.app[DB], scope, chapter_id, points)
    except InvalidInput as exc:
        raise _refused(location, exc) from None
    raise flash_redirect(location, "关键目录已保存")


async def move_chapter(request: web.Request, scope: Scope) -> web.StreamResponse:
    chapter_id = path_id(request, "chapter_id")
    form = await read_form(request, MoveForm)
    if form.direction not in ("up", "down"):
        raise InvalidInput({"direction": "请选择上移或下移"})
    chapters = await chapter_admin.move_chapter(
        request.app[DB], scope, chapter_id, -1 if form.direction == "up" else 1
    )
    course_id = chapters[0].course_id
    raise flash_redirect(f"/admin/courses/{course_id}#chapter-{chapter_id}", "章节顺序已保存")


async def delete_chapter(request: web.Request, scope: Scope) -> web.StreamResponse:
    db, chapter_id = request.app[DB], path_id(request, "chapter_id")
    chapter = await chapter_admin.get_chapter(db, scope, chapter_id)
    try:
        await chapter_admin.delete_chapter(
            db, scope, chapter_id, data_dir=request.app[SETTINGS].data_dir
        )
    except Conflict as exc:
        raise _refused(f"/admin/chapters/{chapter_id}", exc) from None
    raise flash_redirect(f"/admin/courses/{chapter.course_id}", f"章节“{chapter.title}”已删除")


# The walk's example of an upload: the demo's smallest clip (60 s, 230 KB).
EXAMPLE_CLIP = MEDIA_DIR / "demo" / "clip2.mp4"
EXAMPLE_VIDEO = Upload(
    "clip.mp4", "video/mp4", EXAMPLE_CLIP.read_bytes() if EXAMPLE_CLIP.is_file() else b""
)

ROUTES = (
    AdminRoute(
        method="POST",
        path="/admin/courses/{course_id}/chapters",
        handler=add_chapter,
        role="admin",
        example={"title": "第一节 导学", "video": EXAMPLE_VIDEO},
        upload=True,
    ),
    AdminRoute(
        method="GET", path="/admin/chapters/{chapter_id}", handler=chapter_page, role="admin"
    ),
    AdminRoute(
        method="POST",
        path="/admin/chapters/{chapter_id}",
        handler=rename_chapter,
        role="admin",
        example={"title": "第一节 课程导学"},
    ),
    AdminRoute(
        method="POST",
        path="/admin/chapters/{chapter_id}/video",
        handler=replace_video,
        role="admin",
        example={"video": EXAMPLE_VIDEO},
        upload=True,
    ),
    AdminRoute(
        method="POST",
        path="/admin/chapters/{chapter_id}/key-points",
        handler=set_key_points,
        role="admin",
        example={"key_points": "00:05 课程导入\n00:40 案例分析"},
    ),
    AdminRoute(
        method="POST",
        path="/admin/chapters/{chapter_id}/move",
        handler=move_chapter,
        role="admin",
        example={"direction": "down"},
    ),
    AdminRoute(
        method="POST",
        path="/admin/chapters/{chapter_id}/delete",
        handler=delete_chapter,
        role="admin",
    ),
)
