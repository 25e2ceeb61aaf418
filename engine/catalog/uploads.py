"""Chapter videos uploaded by administrators: streamed to a temporary file under the
uploads folder with a size limit, recognised by their first bytes (MP4 or WebM, whatever
the file is called), measured with ffmpeg, then renamed into place. A file refused for any
reason leaves nothing behind.

Uploaded files are named `uploads/<random>.<ext>` among the chapters' media, and live in
`<JIXU_DATA_DIR>/uploads/` (the demo's clips stay in the repository's `media/`).
"""

import asyncio
import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import imageio_ffmpeg
import msgspec

from engine.errors import InvalidInput

UPLOADS = "uploads/"
FOLDER = "uploads"
# Bytes written per thread hop: the request's small chunks are gathered first.
WRITE_BYTES = 1024 * 1024
FFMPEG_TIMEOUT_S = 30.0
DURATION = re.compile(rb"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
VIDEO_STREAM = re.compile(rb"Stream #\d+:\d+.*: Video: ")

TOO_BIG = "视频文件超过{limit}MB，无法上传"
NOT_VIDEO = "只能上传MP4或WebM格式的视频"
UNREADABLE = "无法读取视频时长，文件可能已损坏"
EMPTY = "请选择要上传的视频文件"


class Video(msgspec.Struct, frozen=True):
    """An uploaded video in place: its name among the chapters' media and its length."""

    media: str
    duration_s: float


def upload_folder(data_dir: str | Path) -> Path:
    return Path(data_dir).resolve() / FOLDER


def uploaded_path(data_dir: str | Path, media: str) -> Path | None:
    """The file an uploaded chapter's media names, or None for media that is not an upload."""
    if not media.startswith(UPLOADS):
        return None
    return upload_folder(data_dir) / media.removeprefix(UPLOADS)


def video_kind(head: bytes) -> str | None:
    """ "mp4" or "webm" from a file's first bytes (ISO BMFF `ftyp` box, EBML header), or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def parse_duration(output: bytes) -> float | None:
    """The length in seconds `ffmpeg -i` reports for a file with a video stream, or None."""
    match = DURATION.search(output)
    if match is None or VIDEO_STREAM.search(output) is None:
        return None
    hours, minutes, seconds = match.groups()
    duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return duration if duration > 0 else None


async def measure(path: Path, *, timeout_s: float = FFMPEG_TIMEOUT_S) -> float | None:
    """The video's length as ffmpeg reads it (imageio-ffmpeg's binary; it has no ffprobe),
    or None when ffmpeg cannot read one in time."""
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-i",
        str(path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        # Without an output file ffmpeg only describes its input, and exits 1: expected.
        _, output = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        return None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return parse_duration(output)


async def receive(chunks: AsyncIterator[bytes], data_dir: str | Path, max_bytes: int) -> Video:
    """Store an uploaded video from its chunks: InvalidInput (field `video`) when it is
    empty, larger than `max_bytes`, not MP4/WebM, or has no length ffmpeg can read."""
    folder = upload_folder(data_dir)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    partial = folder / f".{name}.part"
    try:
        kind = await _write(chunks, partial, max_bytes)
        duration = await measure(partial)
        if duration is None:
            raise InvalidInput({"video": UNREADABLE}, UNREADABLE)
        final = folder / f"{name}.{kind}"
        await asyncio.to_thread(partial.rename, final)
    except BaseException:
        # Also when cancelled (the client went away): one quick unlink, not awaited.
        partial.unlink(missing_ok=True)
        raise
    return Video(f"{UPLOADS}{final.name}", duration)


async def _write(chunks: AsyncIterator[bytes], path: Path, max_bytes: int) -> str:
    """Write the chunks to `path`, checking the size as they come and the type on the first
    bytes; return the type."""
    too_big = TOO_BIG.format(limit=max_bytes // (1024 * 1024))
    size, kind, pending = 0, None, bytearray()
    file = await asyncio.to_thread(path.open, "xb")
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise InvalidInput({"video": too_big}, too_big)
            pending += chunk
            if kind is None and len(pending) >= 12:
                kind = video_kind(bytes(pending[:12]))
                if kind is None:
                    raise InvalidInput({"video": NOT_VIDEO}, NOT_VIDEO)
            if len(pending) >= WRITE_BYTES:
                await asyncio.to_thread(file.write, bytes(pending))
                pending.clear()
        if size == 0:
            raise InvalidInput({"video": EMPTY}, EMPTY)
        if kind is None:
            raise InvalidInput({"video": NOT_VIDEO}, NOT_VIDEO)
        await asyncio.to_thread(file.write, bytes(pending))
    finally:
        await asyncio.to_thread(file.close)
    return kind


async def discard(data_dir: str | Path, video: Video) -> None:
    """Remove an upload whose chapter change did not happen."""
    path = uploaded_path(data_dir, video.media)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(path.unlink)
