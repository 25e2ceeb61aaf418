"""The archive's administration: 线下档案 entered, edited and deleted for the learners of the
scope, with their evidence files, and certificates revoked with a reason. Every change is
audited in its transaction; the scope is in every query (the learner's organisation)."""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import asyncpg
import msgspec

from engine.admin import audit
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.archive import admin_store, certificates, evidence, serials
from engine.archive.service import HOURS, KINDS, MAX_OFFLINE_TENTHS
from engine.archive.types import (
    EvidenceFile,
    ManagedCertificate,
    ManagedRecord,
    RecordForm,
)
from engine.catalog.measures import hours, tenths
from engine.clock import CHINA
from engine.db import Executor
from engine.errors import Conflict, InvalidInput, NotFound

MAX_EVIDENCE_FILES = 10
SEARCH_MAX_LENGTH = 50
RECORD_NOT_FOUND = "线下档案不存在"
EVIDENCE_NOT_FOUND = "证明材料不存在"
CERTIFICATE_NOT_FOUND = "没有该编号的证书"
NO_LEARNER = "没有该用户名的学员"


class Fields(msgspec.Struct, frozen=True):
    """A record's checked values."""

    kind: str
    title: str
    organiser: str
    hour_tenths: int
    completed_on: date

    def audited(self) -> dict[str, object]:
        return {
            "year": self.completed_on.year,
            "kind": self.kind,
            "title": self.title,
            "organiser": self.organiser,
            "hours": hours(self.hour_tenths),
            "completed_on": self.completed_on,
        }


def check(form: RecordForm, now: datetime, errors: dict[str, str]) -> Fields | None:
    """The form's values, or None with each bad field's message added to `errors`."""
    if form.kind not in KINDS:
        errors["kind"] = "类别应为 public（公需科目）或 professional（专业科目）"
    title, organiser = form.title.strip(), form.organiser.strip()
    if not 1 <= len(title) <= 100:
        errors["title"] = "培训名称应为1–100个字符"
    if len(organiser) > 100:
        errors["organiser"] = "举办单位最多100个字符"
    hours_text = form.hours.strip()
    hour_tenths = tenths(float(hours_text)) if HOURS.fullmatch(hours_text) else 0
    if not 1 <= hour_tenths <= MAX_OFFLINE_TENTHS:
        errors["hours"] = "学时应为0.1–200之间、至多一位小数的数"
    try:
        day: date | None = date.fromisoformat(form.completed_on.strip())
    except ValueError:
        day = None
        errors["completed_on"] = "完成日期格式应为年-月-日"
    if day is not None and day > now.astimezone(CHINA).date():
        errors["completed_on"] = "完成日期不能晚于今天"
    elif day is not None and day.year < 2000:
        errors["completed_on"] = "完成日期不能早于2000年"
    if errors or day is None:
        return None
    return Fields(form.kind, title, organiser, hour_tenths, day)


def _refuse(errors: dict[str, str]) -> InvalidInput:
    return InvalidInput(errors, "；".join(errors.values()))


def _search(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > SEARCH_MAX_LENGTH:
        raise InvalidInput({"q": f"搜索内容不能超过{SEARCH_MAX_LENGTH}个字"})
    return text or None


async def _managed(db: Executor, rows: list[asyncpg.Record]) -> list[ManagedRecord]:
    files: dict[int, list[EvidenceFile]] = defaultdict(list)
    for row in await admin_store.evidence_of(db, [row["id"] for row in rows]):
        files[row["record_id"]].append(_evidence(row))
    return [
        ManagedRecord(
            id=row["id"],
            learner_id=row["learner_id"],
            username=row["username"],
            real_name=row["real_name"],
            org_id=row["org_id"],
            org_name=row["org_name"],
            year=row["year"],
            kind=row["kind"],
            title=row["title"],
            organiser=row["organiser"],
            hours=hours(row["hour_tenths"]),
            completed_on=row["completed_on"],
            entered_at=row["entered_at"],
            evidence=files[row["id"]],
        )
        for row in rows
    ]


def _evidence(row: asyncpg.Record) -> EvidenceFile:
    return EvidenceFile(
        id=row["id"],
        record_id=row["record_id"],
        file_name=row["file_name"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        uploaded_at=row["uploaded_at"],
    )


def _audited(row: asyncpg.Record) -> dict[str, object]:
    return {
        "learner_id": row["learner_id"],
        "year": row["year"],
        "kind": row["kind"],
        "title": row["title"],
        "organiser": row["organiser"],
        "hours": hours(row["hour_tenths"]),
        "completed_on": row["completed_on"],
    }


async def offline_records(
    db: Executor,
    scope: Scope,
    search: str | None = None,
    year: int | None = None,
    page: int = 1,
) -> Page[ManagedRecord]:
    """A page of the scope's 线下档案, newest first, of learners matching `search` (username,
    name, ID or phone number) and of a year."""
    require(scope, "admin")
    if year is not None and not 2000 <= year <= 2100:
        raise InvalidInput({"year": "年度应在2000至2100之间"}, "年度应在2000至2100之间")
    found = await admin_store.records(db, scope.org_id, _search(search), year, max(1, page))
    return Page(
        items=await _managed(db, found.items),
        total=found.total,
        number=found.number,
        size=found.size,
    )


async def offline_record(db: Executor, scope: Scope, record_id: int) -> ManagedRecord:
    require(scope, "admin")
    row = await admin_store.record(db, scope.org_id, record_id)
    if row is None:
        raise NotFound(RECORD_NOT_FOUND)
    return (await _managed(db, [row]))[0]


async def add_offline_record(
    pool: asyncpg.Pool, scope: Scope, form: RecordForm, now: datetime
) -> ManagedRecord:
    """Enter a 线下档案 for a learner of the scope; it counts toward the year it was
    completed in."""
    require(scope, "admin")
    learner = await admin_store.learner_in_scope(pool, form.username.strip(), scope.org_id)
    if learner is None:
        raise NotFound(NO_LEARNER)  # or not the scope's: the two look alike
    errors: dict[str, str] = {}
    fields = check(form, now, errors)
    if fields is None:
        raise _refuse(errors)
    async with pool.acquire() as connection, connection.transaction():
        record_id = await admin_store.insert_record(
            connection,
            learner["id"],
            year=fields.completed_on.year,
            kind=fields.kind,
            title=fields.title,
            organiser=fields.organiser,
            hour_tenths=fields.hour_tenths,
            completed_on=fields.completed_on,
            entered_at=now,
            entered_by=scope.user_id,
        )
        await audit.record(
            connection,
            scope,
            "offline_record.create",
            kind="offline_record",
            object_id=record_id,
            org_id=learner["org_id"],
            after={"learner_id": learner["id"]} | fields.audited(),
        )
    return await offline_record(pool, scope, record_id)


async def edit_offline_record(
    pool: asyncpg.Pool, scope: Scope, record_id: int, form: RecordForm, now: datetime
) -> ManagedRecord:
    """Change a record's fields (its learner stays)."""
    require(scope, "admin")
    errors: dict[str, str] = {}
    fields = check(form, now, errors)
    async with pool.acquire() as connection, connection.transaction():
        before = await admin_store.record(connection, scope.org_id, record_id, lock=True)
        if before is None:
            raise NotFound(RECORD_NOT_FOUND)
        if fields is None:
            raise _refuse(errors)
        await admin_store.update_record(
            connection,
            record_id,
            year=fields.completed_on.year,
            kind=fields.kind,
            title=fields.title,
            organiser=fields.organiser,
            hour_tenths=fields.hour_tenths,
            completed_on=fields.completed_on,
            updated_at=now,
        )
        await audit.record(
            connection,
            scope,
            "offline_record.edit",
            kind="offline_record",
            object_id=record_id,
            org_id=before["org_id"],
            before=_audited(before),
            after={"learner_id": before["learner_id"]} | fields.audited(),
        )
    return await offline_record(pool, scope, record_id)


async def delete_offline_record(
    pool: asyncpg.Pool, scope: Scope, data_dir: Path, record_id: int
) -> None:
    """Delete a record and its evidence files (the audit row keeps what it said)."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        before = await admin_store.record(connection, scope.org_id, record_id, lock=True)
        if before is None:
            raise NotFound(RECORD_NOT_FOUND)
        files = await admin_store.evidence_of(connection, [record_id])
        paths = await admin_store.delete_record(connection, record_id)
        await audit.record(
            connection,
            scope,
            "offline_record.delete",
            kind="offline_record",
            object_id=record_id,
            org_id=before["org_id"],
            before=_audited(before) | {"evidence": [row["file_name"] for row in files]},
        )
    # After the commit: a failure before it leaves the files their rows name.
    for path in paths:
        await asyncio.to_thread(evidence.remove, data_dir, path)


async def add_evidence(
    pool: asyncpg.Pool,
    scope: Scope,
    data_dir: Path,
    record_id: int,
    file_name: str,
    chunks: AsyncIterator[bytes],
) -> EvidenceFile:
    """Attach an uploaded file to a record of the scope: streamed to disk, refused past the
    size limit or unless its content is a PDF, JPG or PNG."""
    require(scope, "admin")
    if await admin_store.record(pool, scope.org_id, record_id) is None:
        raise NotFound(RECORD_NOT_FOUND)
    received = await evidence.receive(data_dir, chunks)
    placed: str | None = None
    try:
        async with pool.acquire() as connection, connection.transaction():
            record = await admin_store.record(connection, scope.org_id, record_id, lock=True)
            if record is None:
                raise NotFound(RECORD_NOT_FOUND)
            if await admin_store.evidence_count(connection, record_id) >= MAX_EVIDENCE_FILES:
                message = f"每条档案最多上传{MAX_EVIDENCE_FILES}个证明材料"
                raise Conflict(message, field="file", code="too_many")
            placed = await asyncio.to_thread(evidence.place, data_dir, received, record_id)
            row = await admin_store.insert_evidence(
                connection,
                record_id,
                file_name=evidence.file_name(file_name),
                content_type=received.content_type,
                size_bytes=received.size_bytes,
                sha256=received.sha256,
                path=placed,
                uploaded_by=scope.user_id,
            )
            added = _evidence(row)
            await audit.record(
                connection,
                scope,
                "evidence.add",
                kind="offline_evidence",
                object_id=added.id,
                org_id=record["org_id"],
                after=added,
            )
    except BaseException:
        if placed is not None:
            await asyncio.to_thread(evidence.remove, data_dir, placed)
        await asyncio.to_thread(received.path.unlink, True)
        raise
    return added


async def delete_evidence(
    pool: asyncpg.Pool, scope: Scope, data_dir: Path, evidence_id: int
) -> int:
    """Delete an evidence file of the scope; the id of its record."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        row = await admin_store.evidence(connection, scope.org_id, evidence_id, lock=True)
        if row is None:
            raise NotFound(EVIDENCE_NOT_FOUND)
        await admin_store.delete_evidence(connection, evidence_id)
        await audit.record(
            connection,
            scope,
            "evidence.delete",
            kind="offline_evidence",
            object_id=evidence_id,
            org_id=row["org_id"],
            before=_evidence(row),
        )
    await asyncio.to_thread(evidence.remove, data_dir, row["path"])
    record_id: int = row["record_id"]
    return record_id


async def evidence_file(
    db: Executor, scope: Scope, data_dir: Path, evidence_id: int
) -> tuple[EvidenceFile, Path]:
    """An evidence file of the scope, for an administrator to open."""
    require(scope, "admin")
    row = await admin_store.evidence(db, scope.org_id, evidence_id)
    if row is None:
        raise NotFound(EVIDENCE_NOT_FOUND)
    return _evidence(row), await asyncio.to_thread(evidence.located, data_dir, row["path"])


async def learner_evidence_file(
    db: Executor, learner_id: int, data_dir: Path, evidence_id: int
) -> tuple[EvidenceFile, Path]:
    """An evidence file of one of the learner's own 线下档案."""
    row = await admin_store.learner_evidence(db, learner_id, evidence_id)
    if row is None:
        raise NotFound(EVIDENCE_NOT_FOUND)
    return _evidence(row), await asyncio.to_thread(evidence.located, data_dir, row["path"])


async def learner_evidence(db: Executor, learner_id: int) -> dict[int, list[EvidenceFile]]:
    """The evidence of each of the learner's own 线下档案, by record id."""
    files: dict[int, list[EvidenceFile]] = defaultdict(list)
    for row in await admin_store.learner_evidence_files(db, learner_id):
        files[row["record_id"]].append(_evidence(row))
    return files


async def managed_certificates(
    db: Executor, scope: Scope, search: str | None = None, page: int = 1
) -> Page[ManagedCertificate]:
    """A page of the certificates of the scope's learners, newest first; `search` a learner
    (username, name, ID or phone number) or a serial."""
    require(scope, "admin")
    return await admin_store.certificates(db, scope.org_id, _search(search), max(1, page))


async def revoke_certificate(
    pool: asyncpg.Pool, scope: Scope, serial_text: str, reason: str, now: datetime
) -> ManagedCertificate:
    """Revoke a certificate of a learner of the scope; its verify page then says so, with
    the reason."""
    require(scope, "admin")
    serial, reason = serials.normalize(serial_text), reason.strip()
    if not 1 <= len(reason) <= certificates.MAX_REASON:
        raise InvalidInput(
            {"reason": f"请填写撤销原因（1–{certificates.MAX_REASON}个字符）"}, "请填写撤销原因"
        )
    async with pool.acquire() as connection, connection.transaction():
        before = await admin_store.certificate(connection, scope.org_id, serial, lock=True)
        if before is None:
            raise NotFound(CERTIFICATE_NOT_FOUND)
        if before["revoked_at"] is not None:
            raise Conflict("该证书已被撤销", code="revoked")
        await admin_store.revoke_certificate(connection, serial, reason, now, scope.user_id)
        await audit.record(
            connection,
            scope,
            "certificate.revoke",
            kind="certificate",
            object_id=serial,
            org_id=before["org_id"],
            before={"revoked": False},
            after={"revoked": True, "reason": reason},
        )
    return msgspec.structs.replace(_certificate(before), revoked_at=now, revoke_reason=reason)


def _certificate(row: asyncpg.Record) -> ManagedCertificate:
    return ManagedCertificate(**{key: row[key] for key in ManagedCertificate.__struct_fields__})
