"""档案管理: 线下档案 of the scope's learners with their evidence files (uploaded, streamed,
checked by content), and certificates revoked with a reason."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import msgspec
from aiohttp import BodyPartReader, web

from engine.admin.scope import Scope
from engine.appkeys import DB, SETTINGS
from engine.archive import admin
from engine.archive.types import RecordForm
from engine.errors import InvalidInput
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import UPLOAD, AdminRoute, NavLink, Section, Upload
from web.decoding import parse_id, path_id, read_form
from web.flash import flash_redirect
from web.requests import now

KIND_NAMES = (("public", "公需科目"), ("professional", "专业科目"))
CHUNK_BYTES = 64 * 1024
NO_FILE = "请选择要上传的文件"
# The smallest file the content check accepts: the walk's example upload.
SMALL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
Text = Annotated[str, msgspec.Meta(max_length=1000)]


class ReasonForm(msgspec.Struct, frozen=True):
    reason: Text


def data_dir(request: web.Request) -> Path:
    return Path(request.app[SETTINGS].data_dir)


async def records_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("q", "year"))
    page = await admin.offline_records(
        request.app[DB], scope, values["q"], parse_id(values["year"]), requested_page(request)
    )
    return render_admin(
        request, scope, "admin/offline_records.html", {"page": page, "values": values}
    )


async def new_record_page(request: web.Request, scope: Scope) -> web.Response:
    context = {"record": None, "kinds": KIND_NAMES}
    return render_admin(request, scope, "admin/offline_record.html", context)


async def add_record(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, RecordForm)
    record = await admin.add_offline_record(request.app[DB], scope, form, now(request))
    raise flash_redirect(f"/admin/offline-records/{record.id}", "线下档案已录入")


async def record_page(request: web.Request, scope: Scope) -> web.Response:
    record = await admin.offline_record(
        request.app[DB], scope, path_id(request, "offline_record_id")
    )
    context = {"record": record, "kinds": KIND_NAMES}
    return render_admin(request, scope, "admin/offline_record.html", context)


async def edit_record(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, RecordForm)
    record_id = path_id(request, "offline_record_id")
    await admin.edit_offline_record(request.app[DB], scope, record_id, form, now(request))
    raise flash_redirect(f"/admin/offline-records/{record_id}", "已保存")


async def delete_record(request: web.Request, scope: Scope) -> web.StreamResponse:
    record_id = path_id(request, "offline_record_id")
    await admin.delete_offline_record(request.app[DB], scope, data_dir(request), record_id)
    raise flash_redirect("/admin/offline-records", "线下档案已删除")


async def add_evidence(request: web.Request, scope: Scope) -> web.StreamResponse:
    """The form's `file` part, streamed to disk by the engine (size and content checked)."""
    record_id = path_id(request, "offline_record_id")
    part = await request[UPLOAD].next()
    if not isinstance(part, BodyPartReader) or part.name != "file" or not part.filename:
        raise InvalidInput({"file": NO_FILE}, NO_FILE)
    await admin.add_evidence(
        request.app[DB], scope, data_dir(request), record_id, part.filename, chunks(part)
    )
    raise flash_redirect(f"/admin/offline-records/{record_id}", "证明材料已上传")


async def chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK_BYTES):
        yield chunk


async def delete_evidence(request: web.Request, scope: Scope) -> web.StreamResponse:
    evidence_id = path_id(request, "evidence_id")
    record_id = await admin.delete_evidence(request.app[DB], scope, data_dir(request), evidence_id)
    raise flash_redirect(f"/admin/offline-records/{record_id}", "证明材料已删除")


async def certificates_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("q",))
    page = await admin.managed_certificates(
        request.app[DB], scope, values["q"], requested_page(request)
    )
    return render_admin(request, scope, "admin/certificates.html", {"page": page, "values": values})


async def revoke_certificate(request: web.Request, scope: Scope) -> web.StreamResponse:
    form = await read_form(request, ReasonForm)
    serial = request.match_info["certificate_serial"][:64]
    await admin.revoke_certificate(request.app[DB], scope, serial, form.reason, now(request))
    raise flash_redirect("/admin/certificates", f"证书{serial}已撤销，其验证页面将显示撤销原因")


RECORD = {
    "kind": "professional",
    "title": "建筑节能技术研修班",
    "organiser": "天津市建筑设计研究院",
    "hours": "16",
    "completed_on": "2023-06-30",
}
SECTION = Section(
    title="档案",
    order=60,
    links=(
        NavLink("线下档案", "/admin/offline-records", "admin"),
        NavLink("证书撤销", "/admin/certificates", "admin"),
    ),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/offline-records",
            handler=records_page,
            role="admin",
            example={"q": "用户", "year": "2023", "page": "1"},
        ),
        AdminRoute(
            method="GET", path="/admin/offline-records/new", handler=new_record_page, role="admin"
        ),
        AdminRoute(
            method="POST",
            path="/admin/offline-records",
            handler=add_record,
            role="admin",
            example={"username": "{learner_username}"} | RECORD,
        ),
        AdminRoute(
            method="GET",
            path="/admin/offline-records/{offline_record_id}",
            handler=record_page,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/offline-records/{offline_record_id}/edit",
            handler=edit_record,
            role="admin",
            example=RECORD | {"hours": "8.5"},
        ),
        AdminRoute(
            method="POST",
            path="/admin/offline-records/{offline_record_id}/delete",
            handler=delete_record,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/offline-records/{offline_record_id}/evidence",
            handler=add_evidence,
            role="admin",
            upload=True,
            example={"file": Upload("证书.pdf", "application/pdf", SMALL_PDF)},
        ),
        AdminRoute(
            method="POST",
            path="/admin/evidence/{evidence_id}/delete",
            handler=delete_evidence,
            role="admin",
        ),
        AdminRoute(
            method="GET",
            path="/admin/certificates",
            handler=certificates_page,
            role="admin",
            example={"q": "JX", "page": "1"},
        ),
        AdminRoute(
            method="POST",
            path="/admin/certificates/{certificate_serial}/revoke",
            handler=revoke_certificate,
            role="admin",
            example={"reason": "证书信息登记有误"},
        ),
    ),
)
