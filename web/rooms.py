"""The rooms over HTTP: older messages, a page at a time (the socket gives the latest), and
讨论与答疑 outside the player for teachers and administrators."""

from aiohttp import web

from engine.appkeys import DB, PROGRESS, ROOMS
from engine.errors import InvalidInput
from engine.sessions.rooms_feed import chat_message
from web.decoding import parse_id, path_id, query_value
from web.pages import page_user
from web.render import json_response, render_page
from web.replies import RoomMessagesReply
from web.requests import require_user

BAD_BEFORE = "before_seq 必须是正整数"


async def older_messages(request: web.Request) -> web.Response:
    """`GET /api/v1/rooms/{room}/messages?before_seq=N`: the 50 messages before N, by seq."""
    user = require_user(request)
    before_seq = parse_id(query_value(request, "before_seq"))
    if before_seq is None:
        raise InvalidInput({"before_seq": BAD_BEFORE}, BAD_BEFORE)
    room = request.match_info["room"]
    messages = await request.app[ROOMS].older(request.app[DB], user.id, room, before_seq)
    return json_response(RoomMessagesReply(room, [chat_message(m) for m in messages]))


async def rooms_page(request: web.Request) -> web.Response:
    """`/courses/{id}/rooms`: the course's 讨论 and 问答, to its members (403 otherwise)."""
    user = page_user(request)
    course_id = path_id(request, "course_id")
    db = request.app[DB]
    seat = await request.app[ROOMS].seat(db, user.id, f"course:{course_id}")
    course = await request.app[PROGRESS].course_detail(db, user.id, course_id)
    context = {"active": "courses", "course": course, "role": seat.role}
    return render_page(request, "rooms.html", context)
