"""Evidence files of 线下档案: PDF, JPG or PNG, recognised by their content (not their name
or the type a browser claims), streamed to disk under JIXU_DATA_DIR with a size limit."""

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote

import msgspec

from engine.errors import InvalidInput, NotFound

MAX_BYTES = 10 * 1024 * 1024
FOLDER = "evidence"
INCOMING = ".incoming"
# Each type's first bytes, and where a whole file of it ends: a file cut short or padded
# with something else is refused.
SIGNATURES: dict[str, tuple[bytes, str]] = {
    "application/pdf": (b"%PDF-", ".pdf"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
}
ENDINGS: dict[str, bytes] = {
    "application/pdf": b"%%EOF",
    "image/png": b"IEND\xaeB`\x82",
    "image/jpeg": b"\xff\xd9",
}
TAIL_BYTES = 1024  # a PDF may end with whitespace after %%EOF; a JPEG with padding
NOT_ACCEPTED = "证明材料只能是PDF、JPG或PNG文件"
TOO_LARGE = f"证明材料不能超过{MAX_BYTES // (1024 * 1024)}MB"
EMPTY = "请选择要上传的文件"


class Received(msgspec.Struct, frozen=True):
    """A checked upload, waiting under the incoming folder for its record."""

    path: Path
    content_type: str
    size_bytes: int
    sha256: str


def content_type_of(head: bytes) -> str | None:
    """The accepted type whose signature `head` starts with."""
    for content_type, (signature, _) in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


def is_complete(content_type: str, tail: bytes) -> bool:
    """Whether the file's last bytes end it as its type does."""
    ending = ENDINGS[content_type]
    if content_type == "image/png":
        return tail.endswith(ending)
    return ending in tail[-TAIL_BYTES:]


def file_name(name: str) -> str:
    """The name shown for an upload: its last path part, without control characters.
    Percent escapes are read (some clients send a non-ASCII name escaped, browsers as is)."""
    base = unquote(name).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:200] or "证明材料"


async def receive(
    data_dir: Path, chunks: AsyncIterator[bytes], max_bytes: int = MAX_BYTES
) -> Received:
    """Write the chunks to a new file under the incoming folder, refusing (and removing it)
    once it grows past `max_bytes` or when its content is not an accepted type."""
    incoming = data_dir / FOLDER / INCOMING
    await asyncio.to_thread(incoming.mkdir, parents=True, exist_ok=True)
    path = incoming / uuid.uuid4().hex
    digest = hashlib.sha256()
    size = 0
    head = b""
    tail = b""
    file = await asyncio.to_thread(path.open, "xb")
    try:
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidInput({"file": TOO_LARGE}, TOO_LARGE)
                if len(head) < 16:
                    head = (head + chunk)[:16]
                    if len(head) >= 8 and content_type_of(head) is None:
                        raise InvalidInput({"file": NOT_ACCEPTED}, NOT_ACCEPTED)
                tail = (tail + chunk)[-TAIL_BYTES:]
                digest.update(chunk)
                await asyncio.to_thread(file.write, chunk)
        finally:
            await asyncio.to_thread(file.close)
        if size == 0:
            raise InvalidInput({"file": EMPTY}, EMPTY)
        content_type = content_type_of(head)
        if content_type is None or not is_complete(content_type, tail):
            raise InvalidInput({"file": NOT_ACCEPTED}, NOT_ACCEPTED)
    except BaseException:
        await asyncio.to_thread(path.unlink, True)
        raise
    return Received(path, content_type, size, digest.hexdigest())


def place(data_dir: Path, received: Received, record_id: int) -> str:
    """Move a received file to its record's folder; its path relative to `data_dir`."""
    folder = data_dir / FOLDER / str(record_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex + SIGNATURES[received.content_type][1]
    os.replace(received.path, folder / name)
    return f"{FOLDER}/{record_id}/{name}"


def located(data_dir: Path, relative: str) -> Path:
    """The stored file a row names, which must lie inside the evidence folder."""
    root = (data_dir / FOLDER).resolve()
    path = (data_dir / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("证明材料不存在")
    return path


def remove(data_dir: Path, relative: str) -> None:
    """Delete a stored file (gone already: nothing to do)."""
    (data_dir / relative).unlink(missing_ok=True)
