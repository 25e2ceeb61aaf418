"""学习档案 (F23) and certificates: 我的档案, 历史档案, 线下档案, 查看档案, 打印证书, and the
public verify page; the year's hours (F32) for the archive and the home page."""

from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from engine.admin.scope import scope_of
from engine.appkeys import CLOCK, DB, SETTINGS
from engine.archive import admin as archive_admin
from engine.archive import certificates
from engine.archive import service as archive
from engine.catalog import service as catalog
from engine.errors import DomainError
from web.decoding import path_id
from web.learning import PLAN_KINDS, PLAN_STATES
from web.pages import page_user
from web.render import json_response, render_page
from web.replies import ArchiveReply
from web.requests import now, require_user, site_url

ARCHIVE_TABS = {"current": "我的档案", "history": "历史档案", "offline": "线下档案"}
VERDICTS = {
    "valid": "证书有效",
    "revoked": "证书已撤销",
    "unknown": "未找到该证书",
    "bad_serial": "证书编号有误",
    "hash_mismatch": "内容哈希不符",
}


def this_year(request: web.Request) -> int:
    return catalog.learning_year(request.app[SETTINGS].current_year, request.app[CLOCK]())


async def archive_page(request: web.Request) -> web.Response:
    """我的档案 (this year's plans), 历史档案 (earlier years') and 线下档案, with the year's hours."""
    user = page_user(request)
    year = this_year(request)
    tab = request.query.get("tab", "current")
    if tab not in ARCHIVE_TABS:
        tab = "current"
    db = request.app[DB]
    records = await archive.plan_records(db, user.id)
    offline = await archive.offline_records(db, user.id)
    shown = [r for r in records if (r.year >= year) == (tab == "current")]
    context = {
        "active": "archive",
        "tabs": ARCHIVE_TABS,
        "tab": tab,
        "plans": shown,
        "offline": offline,
        "evidence": await archive_admin.learner_evidence(db, user.id) if tab == "offline" else {},
        "year": year,
        "hours_by_year": await archive.years_hours(db, user, year, now(request)),
        "states": PLAN_STATES,
        "kinds": PLAN_KINDS,
    }
    return render_page(request, "archive.html", context)


async def plan_archive_page(request: web.Request) -> web.Response:
    """查看档案: one plan's record, with 打印档案 (the print stylesheet) and 打印证书."""
    user = page_user(request)
    record = await archive.plan_record(request.app[DB], user.id, path_id(request, "plan_id"))
    context = {
        "active": "archive",
        "plan": record,
        "profile": user,
        "id_masked": certificates.mask_id(user.id_number),
        "states": PLAN_STATES,
        "kinds": PLAN_KINDS,
        "printed_on": now(request),
    }
    return render_page(request, "archive_plan.html", context)


async def certificate_pdf(request: web.Request) -> web.Response:
    """打印证书: the PDF of the plan's certificate, issued at the first print (passed plans only)."""
    user = page_user(request)
    site = site_url(request)
    if site is None:
        raise DomainError("站点地址未配置，暂不能打印证书，请联系管理员", code="unavailable")
    certificate = await certificates.issue(
        request.app[DB], user, path_id(request, "plan_id"), now(request)
    )
    body = await certificates.pdf(
        certificate,
        site + certificates.verify_path(certificate),
        request.app[SETTINGS].site_name,
    )
    filename = quote(f"培训合格证书-{certificate.serial}.pdf")
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{filename}"},
    )


async def evidence_file(request: web.Request) -> web.StreamResponse:
    """A 线下档案's evidence file: to the learner it belongs to, and to the administrators
    whose scope holds that learner (404 to anyone else)."""
    user = page_user(request)
    evidence_id = path_id(request, "evidence_id")
    db, data_dir = request.app[DB], Path(request.app[SETTINGS].data_dir)
    if user.role == "learner":
        shown, path = await archive_admin.learner_evidence_file(db, user.id, data_dir, evidence_id)
    else:
        scope = scope_of(user.id, user.username, user.role, user.org_id)
        shown, path = await archive_admin.evidence_file(db, scope, data_dir, evidence_id)
    filename = quote(shown.file_name)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": shown.content_type,
            "Content-Disposition": f"inline; filename*=UTF-8''{filename}",
            "X-Content-Type-Options": "nosniff",
            # A PDF's scripts, if any, run nowhere near the portal's origin.
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )


async def verify_page(request: web.Request) -> web.Response:
    """Public: what a serial (and the hash printed with it) says; never the full ID number."""
    verification = await certificates.verify(
        request.app[DB], request.match_info["serial"][:64], request.query.get("h")
    )
    context = {
        "verification": verification,
        "verdicts": VERDICTS,
        "given_hash": request.query.get("h", "")[:128],
        "kinds": PLAN_KINDS,
    }
    status = 404 if verification.status in {"unknown", "bad_serial"} else 200
    return render_page(request, "verify.html", context, status=status)


async def verify_form(request: web.Request) -> web.Response:
    """The verify form: a serial and, optionally, the hash printed beside it."""
    serial = request.query.get("serial", "").strip()
    if serial:
        given = request.query.get("h", "").strip()
        target = f"/verify/{quote(serial[:64], safe='')}" + (
            f"?h={quote(given[:128])}" if given else ""
        )
        raise web.HTTPFound(target)
    return render_page(request, "verify.html", {"verification": None, "given_hash": ""})


async def archive_api(request: web.Request) -> web.Response:
    """`GET /api/v1/archive`: per plan its progress, exam scores, hours and certificate link;
    the offline records; the hours of each year against the requirement."""
    user = require_user(request)
    db, year = request.app[DB], this_year(request)
    records = await archive.plan_records(db, user.id)
    offline = await archive.offline_records(db, user.id)
    hours = await archive.years_hours(db, user, year, now(request))
    return json_response(ArchiveReply(year, records, offline, hours))
