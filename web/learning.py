"""The learner's learning pages (F7–F9, F15–F19): 我的课程, a plan, a course, the player."""

import msgspec
from aiohttp import web

from engine.appkeys import CLOCK, DB, PROGRESS, SETTINGS
from engine.catalog import service as catalog
from engine.catalog.history import earlier_courses
from engine.catalog.key_points import key_points
from engine.catalog.measures import PREVIEW_S
from engine.commerce import cart
from engine.errors import NotFound
from engine.progress.service import NOT_WATCHABLE
from engine.progress.types import Segment
from web.decoding import parse_id, path_id
from web.pages import page_user
from web.render import render_page

PLAN_STATES = {"pending": "待激活", "learning": "学习中", "passed": "已通过"}
PLAN_KINDS = {"public": "公需科目", "professional": "专业科目"}
# A start position past any video (and past NaN and infinity, which fail the comparison).
MAX_START_S = 1e7
# How much of a course a learner may watch before choosing it (F10): web/media.py holds to it.


# Why time of the study record (学习记录) earned nothing, in the learner's words.
REASONS = {
    None: "计入学时",
    "paused": "视频暂停",
    "unfocused": "学习页面失去焦点",
    "seek": "拖动了播放进度",
    "too_fast": "播放速度超过允许的倍速",
    "gap": "网络中断或长时间未响应",
    "superseded": "已在其他页面学习",
    "check_pending": "未确认在线学习提示",
    "rewatch": "重复观看已学内容",
    "complete": "本节已学完",
}


class RecordBar(msgspec.Struct, frozen=True):
    """One segment of a chapter's study-record bar: where it starts and how wide it is, in
    thousandths of the bar (SVG attributes: the pages allow no inline styles)."""

    segment: Segment
    x: float
    width: float


def study_record(segments: list[Segment]) -> list[RecordBar]:
    """A chapter's segments laid end to end (the time between sittings left out)."""
    total = sum(segment.to_ms - segment.from_ms for segment in segments)
    bars, x = [], 0.0
    for segment in segments:
        width = 1000 * (segment.to_ms - segment.from_ms) / total
        bars.append(RecordBar(segment, round(x, 2), round(width, 2)))
        x += width
    return bars


def plan_tabs(year: int) -> list[tuple[str, str]]:
    """(key, label) of 我的课程's tabs, in catalog.PLAN_TABS order, worded as the manual does."""
    labels = {
        "all": "全部",
        "public": f"{year}年公需课",
        "catch-up": f"{year - catalog.CATCH_UP_YEARS}-{year - 1}年公需课补学计划",
        "professional": f"{year}年专业科目计划",
    }
    return [(key, labels[key]) for key in catalog.PLAN_TABS]


def start_at(text: str | None) -> str:
    """`?start=` as the player takes it: the second to start from (0: 重新学习; a note's
    moment), or "" to resume. The server keeps playback within what was watched."""
    try:
        second = float(text or "")
    except ValueError:
        return ""
    if not 0 <= second <= MAX_START_S:
        return ""
    return f"{second:.3f}".rstrip("0").rstrip(".")


async def plans_page(request: web.Request) -> web.Response:
    user = page_user(request)
    year = catalog.learning_year(request.app[SETTINGS].current_year, request.app[CLOCK]())
    tab = request.query.get("tab", "all")
    if tab not in catalog.PLAN_TABS:
        tab = "all"
    plans = await catalog.list_plans(request.app[DB], user.id)
    context = {
        "active": "courses",
        "tabs": plan_tabs(year),
        "tab": tab,
        "plans": [plan for plan in plans if catalog.in_tab(plan, tab, year)],
        "states": PLAN_STATES,
        "kinds": PLAN_KINDS,
    }
    return render_page(request, "plans.html", context)


async def history_page(request: web.Request) -> web.Response:
    """历史课程 (F28): the courses of earlier years' plans; each plays while its plan is open."""
    user = page_user(request)
    now_ms = request.app[CLOCK]()
    year = catalog.learning_year(request.app[SETTINGS].current_year, now_ms)
    plans = await earlier_courses(request.app[DB], user.id, year, now_ms)
    context = {
        "active": "history",
        "plans": plans,
        "year": year,
        "kinds": PLAN_KINDS,
        "states": PLAN_STATES,
    }
    return render_page(request, "history.html", context)


async def activate_plan(request: web.Request) -> web.StreamResponse:
    user = page_user(request)
    plan = await catalog.activate(request.app[DB], user.id, path_id(request, "plan_id"))
    raise web.HTTPFound(f"/plans/{plan.id}")


async def plan_page(request: web.Request) -> web.Response:
    """A plan: 已选课程 (F9), or 全部 with search and 选课 (F10)."""
    user = page_user(request)
    plan_id = path_id(request, "plan_id")
    tab = "all" if request.query.get("tab") == "all" else "selected"
    query = request.query.get("q", "").strip()
    plan = await catalog.get_plan(request.app[DB], user.id, plan_id)
    courses = await catalog.plan_courses(
        request.app[DB], user.id, plan_id, selected_only=tab == "selected", search=query or None
    )
    in_cart = {item.course_id for item in (await cart.get_cart(request.app[DB], user.id)).items}
    context = {
        "active": "courses",
        "plan": plan,
        "courses": courses,
        "tab": tab,
        "query": query,
        "in_cart": in_cart,
        "states": PLAN_STATES,
        "kinds": PLAN_KINDS,
    }
    return render_page(request, "plan.html", context)


async def course_page(request: web.Request) -> web.Response:
    """A course's 目录, each chapter with its progress and its study record (学习记录)."""
    user = page_user(request)
    progress, db = request.app[PROGRESS], request.app[DB]
    course = await progress.course_detail(db, user.id, path_id(request, "course_id"))
    timelines = await progress.timelines(db, user.id, [chapter.id for chapter in course.chapters])
    context = {
        "active": "courses",
        "course": course,
        "records": {
            chapter_id: study_record(segments) for chapter_id, segments in timelines.items()
        },
        "reasons": REASONS,
    }
    return render_page(request, "course.html", context)


async def chapter_page(request: web.Request) -> web.Response:
    user = page_user(request)
    course_id, chapter_id = path_id(request, "course_id"), path_id(request, "chapter_id")
    course = await request.app[PROGRESS].course_detail(request.app[DB], user.id, course_id)
    chapter = next((chapter for chapter in course.chapters if chapter.id == chapter_id), None)
    if chapter is None:
        raise NotFound("章节不存在")
    context = {
        "active": "courses",
        "course": course,
        "chapter": chapter,
        # 重新学习 starts from 0; otherwise the server resumes where the learner left off.
        "start": start_at(request.query.get("start")),
        "key_points": await key_points(request.app[DB], chapter.id, chapter.duration_s),
        "refusal": None if course.selected else NOT_WATCHABLE,
        "own_socket": course.selected,
    }
    return render_page(request, "player.html", context)


async def preview_page(request: web.Request) -> web.Response:
    """F10's preview: course details, the teacher, and the first minutes of the first chapter.

    It has no websocket: a preview never credits anything.
    """
    user = page_user(request)
    course = await request.app[PROGRESS].course_detail(
        request.app[DB], user.id, path_id(request, "course_id")
    )
    first = course.chapters[0] if course.chapters else None
    context = {
        "active": "courses",
        "course": course,
        "first": first,
        "preview_s": PREVIEW_S,
        "plan_id": parse_id(request.query.get("plan")),
    }
    return render_page(request, "preview.html", context)
