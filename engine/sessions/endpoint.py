"""The life of one websocket: register, read and dispatch messages in order, clean up."""

import asyncio
import random
import time

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from engine.accounts.logins import LoginSessions
from engine.errors import TRANSIENT
from engine.sessions import protocol
from engine.sessions.caps import SocketCaps
from engine.sessions.commands import Commands
from engine.sessions.connection import LOST_AUTHENTICATION, Connection
from engine.sessions.hub import Hub
from engine.settings import Settings

# Malformed frames tolerated before the connection is closed as a policy violation.
GARBAGE_LIMIT = 10
# Leases being given back, held here so that a handler's cancellation leaves them running.
_releases: set["asyncio.Task[None]"] = set()


async def serve_socket(
    request: web.Request,
    *,
    conn_id: str,
    learner_id: int,
    token: str,
    address: str,
    hub: Hub,
    caps: SocketCaps,
    commands: Commands,
    login_sessions: LoginSessions,
    settings: Settings,
) -> web.WebSocketResponse:
    """Upgrade an authenticated request whose lease `caps` granted, and serve the protocol
    until the socket closes; the lease is given back then."""
    ws = web.WebSocketResponse(
        max_msg_size=settings.ws_max_frame_bytes, heartbeat=30, compress=False, decode_text=False
    )
    try:
        await ws.prepare(request)
    except BaseException:
        await caps.release(conn_id, learner_id, address)
        raise
    conn = Connection(
        ws,
        conn_id=conn_id,
        learner_id=learner_id,
        token=token,
        queue_size=settings.ws_send_queue,
        messages_per_s=settings.ws_messages_per_s,
        address=address,
    )
    # Sockets that connect together (clients coming back after a restart) would otherwise
    # re-check their logins together: a batch of thousands of calls that every beat waits for.
    conn.auth_checked_at -= random.random() * settings.ws_auth_recheck_s
    hub.add(conn)
    conn.log.info("socket opened")
    try:
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                if frame.type is WSMsgType.BINARY:
                    _refuse(conn, "bad_frame", "只接受文本消息")
                continue
            if not conn.allow():
                conn.send(protocol.Error(code="rate_limited", message="消息过于频繁，请稍后再试"))
                continue
            try:
                message = protocol.decoder.decode(frame.data)
            except msgspec.DecodeError as exc:
                _refuse(conn, "bad_message", f"消息格式不正确：{exc}")
                continue
            due = time.monotonic() - conn.auth_checked_at >= settings.ws_auth_recheck_s
            if due and not await _login_holds(conn, login_sessions, token):
                conn.close(LOST_AUTHENTICATION, "session ended")
                break
            await commands.dispatch(conn, message)
    finally:
        hub.remove(conn)
        try:
            await conn.finish()
        finally:
            conn.log.info("socket closed", code=ws.close_code)
            # Its own task, shielded: after a close of ours (1008, 4001), or when the client has
            # gone, aiohttp cancels the handler, and a lease kept would count against the
            # learner's cap until it ran out (a cluster's pipeline takes some ticks).
            release = asyncio.ensure_future(caps.release(conn_id, learner_id, address))
            _releases.add(release)
            release.add_done_callback(_releases.discard)
            try:
                await asyncio.shield(release)
            except TRANSIENT as exc:
                conn.log.warning("socket lease not given back; it runs out", error=repr(exc))
    return ws


async def _login_holds(conn: Connection, login_sessions: LoginSessions, token: str) -> bool:
    """Whether the socket's login still holds. Redis failing to answer now ends nothing:
    the next message asks again (an overloaded node must not drop its sockets for it)."""
    try:
        alive = await login_sessions.resolve(token) is not None
    except TRANSIENT as exc:
        conn.log.warning(
            "login re-check failed; asking again with the next message", error=repr(exc)
        )
        return True
    conn.auth_checked_at = time.monotonic()
    return alive


def _refuse(conn: Connection, code: str, message: str) -> None:
    conn.garbage += 1
    conn.send(protocol.Error(code=code, message=message))
    if conn.garbage >= GARBAGE_LIMIT:
        conn.close(WSCloseCode.POLICY_VIOLATION, "too many malformed messages")
