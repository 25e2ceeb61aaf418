"""The rooms over HTTP: older messages, a page at a time (the socket gives the latest)."""

from aiohttp import web

from engine.appkeys import DB, ROOMS
from engine.errors import InvalidInput
from engine.sessions.rooms_feed import chat_message
from web.decoding import parse_id
from web.render import json_response
from web.requests import require_user

BAD_BEFORE = "before_seq 必须是正整数"


async def older_messages(request: web.Request) -> web.Response:
    """`GET /api/v1/rooms/{room}/messages?before_seq=N`: the 50 messages before N, by seq."""
    user = require_user(request)
    before_seq = parse_id(request.query.get("before_seq"))
    if before_seq is None:
        raise InvalidInput({"before_seq": BAD_BEFORE}, BAD_BEFORE)
    room = request.match_info["room"]
    messages = await request.app[ROOMS].older(request.app[DB], user.id, room, before_seq)
    return json_response({"room": room, "messages": [chat_message(m) for m in messages]})
