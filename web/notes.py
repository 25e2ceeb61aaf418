"""Notes: the player's 笔记 tab over the JSON API (F17), and the 我的笔记 page (F27)."""

from itertools import groupby
from typing import Any

from aiohttp import web

from engine.appkeys import CLOCK, DB
from engine.notes import service as notes
from engine.notes.types import NoteEntry
from web.bodies import NewNote, NoteText
from web.decoding import path_id, read_json
from web.pages import page_user
from web.render import json_response, render_page
from web.replies import NoteReply, NotesReply
from web.requests import require_user

# Notes of a course no longer selected in any plan (its order refunded) stay the learner's.
NO_PLAN = "其他课程"


async def chapter_notes(request: web.Request) -> web.Response:
    user = require_user(request)
    found = await notes.chapter_notes(request.app[DB], user.id, path_id(request, "chapter_id"))
    return json_response(NotesReply(found))


async def create_note(request: web.Request) -> web.Response:
    user = require_user(request)
    body = await read_json(request, NewNote)
    note = await notes.create(
        request.app[DB],
        user.id,
        path_id(request, "chapter_id"),
        body.position_s,
        body.body,
        request.app[CLOCK](),
    )
    return json_response(NoteReply(note), status=201)


async def edit_note(request: web.Request) -> web.Response:
    user = require_user(request)
    body = await read_json(request, NoteText)
    note = await notes.edit(request.app[DB], user.id, path_id(request, "note_id"), body.body)
    return json_response(NoteReply(note))


async def delete_note(request: web.Request) -> web.Response:
    user = require_user(request)
    await notes.delete(request.app[DB], user.id, path_id(request, "note_id"))
    return web.Response(status=204)


def _grouped(entries: list[NoteEntry]) -> list[tuple[str, list[tuple[NoteEntry, list[Any]]]]]:
    """Plans (by title), each with its courses, each with its chapters' notes."""
    plans = []
    for _, group in groupby(entries, key=lambda entry: entry.plan_id):
        in_plan = list(group)
        courses = []
        for _, in_course in groupby(in_plan, key=lambda entry: entry.course_id):
            course_notes = list(in_course)
            chapters = [
                (chapter_notes[0], chapter_notes)
                for chapter_notes in (
                    list(group) for _, group in groupby(course_notes, key=lambda e: e.chapter_id)
                )
            ]
            courses.append((course_notes[0], chapters))
        plans.append((in_plan[0].plan_title or NO_PLAN, courses))
    return plans


async def notes_page(request: web.Request) -> web.Response:
    """我的笔记: every note by plan, course and chapter, searchable, each a link back."""
    user = page_user(request)
    query = request.query.get("q", "")
    entries = await notes.my_notes(request.app[DB], user.id, query)
    context = {
        "active": "notes",
        "plans": _grouped(entries),
        "count": len(entries),
        "query": query.strip(),
    }
    return render_page(request, "notes.html", context)
