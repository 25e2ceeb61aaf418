"""A websocket client cut to what a benchmark's thousands of members need: the upgrade, text
frames in both directions, pongs. aiohttp's client parses each frame in Python at ~50-100 us;
with 7,000 deliveries a second that made the load generator, not the engine, the ceiling.

Frames to the server are masked with a zero key (RFC 6455 requires a mask, not a secret one),
so the payload goes as it is."""

import asyncio
from collections.abc import Callable

UPGRADE = (
    "GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n"
)
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class Socket(asyncio.Protocol):
    """One client websocket; each text frame's payload goes to `on_text` (or to the future
    `next_text` while one waits)."""

    def __init__(self, on_text: Callable[[bytes], None]) -> None:
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.waiting: asyncio.Future[bytes] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed before the upgrade"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self.upgraded.set_exception(ConnectionError(status.decode()))
                return
            self.upgraded.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4]), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10]), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            if opcode == TEXT:
                if self.waiting is not None and not self.waiting.done():
                    self.waiting.set_result(payload)
                else:
                    self.on_text(payload)
            elif opcode == PING:
                self.send(payload, PONG)
            elif opcode == CLOSE and self.transport is not None:
                self.transport.close()

    def send(self, payload: bytes, opcode: int = TEXT) -> None:
        if self.transport is None or self.closed:
            return
        size = len(payload)
        if size < 126:
            header = bytes((0x80 | opcode, 0x80 | size))
        else:
            header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2)
        self.transport.write(header + b"\0\0\0\0" + payload)

    async def request(self, payload: bytes, timeout_s: float = 60) -> bytes:
        """Send, and wait for the next text frame."""
        self.waiting = asyncio.get_running_loop().create_future()
        self.send(payload)
        try:
            return await asyncio.wait_for(self.waiting, timeout_s)
        finally:
            self.waiting = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(port: int, headers: dict[str, str], on_text: Callable[[bytes], None]) -> Socket:
    loop = asyncio.get_running_loop()
    _, socket = await loop.create_connection(lambda: Socket(on_text), "127.0.0.1", port)
    assert socket.transport is not None
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    socket.transport.write(UPGRADE.format(host=f"127.0.0.1:{port}", headers=lines).encode())
    await asyncio.wait_for(socket.upgraded, 60)
    return socket
