"""The ceiling: a bare aiohttp websocket server that decodes each message and answers it.

It speaks just enough of PROTOCOL.md for the load generator (welcome, playing, ack) with the
engine's own msgspec Structs, and does nothing else: no authentication, no Redis, no
PostgreSQL, no send queue. Whatever the engine does on top costs the difference.

    python bench/bare_server.py --port 8090 [--uvloop]
"""

import argparse
import asyncio
import resource
import time

import msgspec
from aiohttp import WSMsgType, web

from engine.sessions import protocol

DURATION_S = 36_000.0
INTERVAL_MS = 5_000


async def websocket(request: web.Request) -> web.WebSocketResponse:
    # The engine's socket options, so that only the work behind them differs.
    ws = web.WebSocketResponse(
        max_msg_size=8 * 1024, heartbeat=30, compress=False, decode_text=False
    )
    await ws.prepare(request)
    hwm = 0.0
    async for frame in ws:
        if frame.type is not WSMsgType.TEXT:
            continue
        try:
            message = protocol.decoder.decode(frame.data)
        except msgspec.DecodeError as exc:
            reply: protocol.Message = protocol.Error(code="bad_message", message=str(exc))
        else:
            reply, hwm = answer(message, hwm)
        await ws.send_frame(protocol.encoder.encode(reply), WSMsgType.TEXT)
    return ws


def answer(message: protocol.Message, hwm: float) -> tuple[protocol.Message, float]:
    """An ack-shaped reply; credit is simply how far the position moved past the last one."""
    match message:
        case protocol.Beat(seq=seq, position=position, playing=playing, focused=focused):
            credited = max(0.0, position - hwm) if playing and focused else 0.0
            hwm = max(hwm, position)
            reason = None if credited > 0 else ("paused" if not playing else "rewatch")
            return protocol.Ack(
                seq=seq,
                position=position,
                hwm=hwm,
                credited_s=credited,
                chapter_progress=int(100 * hwm / DURATION_S),
                course_progress=int(100 * hwm / DURATION_S),
                reason=reason,
            ), hwm
        case protocol.Stop(seq=seq, position=position):
            return protocol.Ack(
                seq=seq, position=position, hwm=hwm, credited_s=0.0, chapter_progress=0,
                course_progress=0, reason="paused",
            ), hwm  # fmt: skip
        case protocol.Play(chapter=chapter):
            return protocol.Playing(
                chapter=chapter, lease="bare", position=hwm, hwm=hwm, duration_s=DURATION_S,
                interval_ms=INTERVAL_MS, max_rate=1.0, chapter_progress=0, course_progress=0,
            ), hwm  # fmt: skip
        case protocol.Hello():
            return protocol.Welcome(conn="bare", server_now_ms=int(time.time() * 1000)), hwm
        case _:
            return protocol.Pong(server_now_ms=int(time.time() * 1000)), hwm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop: asyncio.AbstractEventLoop | None = None
    if args.uvloop:
        import uvloop

        loop = uvloop.new_event_loop()
    app = web.Application()
    app.router.add_get("/ws", websocket)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None, loop=loop)


if __name__ == "__main__":
    main()
