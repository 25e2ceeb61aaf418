"""The archive's administration within an organisation subtree: 线下档案 created, edited and
deleted as super, administrator of A or B, teacher and learner; evidence files checked by
their content and size, served to administrators in scope and to their learner only;
certificates revoked with a reason, which the verify page then gives."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from engine.archive import admin, certificates, evidence, serials
from engine.archive.types import CertificateFacts, RecordForm
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.integration.two_orgs import World, build_world

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FORM = RecordForm(
    username="learner_a",
    kind="professional",
    title="建筑节能技术研修班",
    organiser="天津市建筑设计研究院",
    hours="16",
    completed_on="2026-06-30",
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32 + b"IEND\xaeB`\x82"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32 + b"\xff\xd9"


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    built = await build_world(database_url)
    yield built
    await built.pool.close()


async def chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def snapshot(world: World, data_dir: Path) -> list[Any]:
    rows = await world.fetch(
        """SELECT (SELECT count(*) FROM offline_records),
                  (SELECT coalesce(string_agg(title || hour_tenths, ',' ORDER BY id), '')
                   FROM offline_records),
                  (SELECT count(*) FROM offline_evidence),
                  (SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL),
                  (SELECT count(*) FROM audit_log)"""
    )
    return [*rows[0], stored_files(data_dir)]


def stored_files(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file())


async def test_offline_records_within_the_scope(world: World, tmp_path: Path) -> None:
    pool = world.pool
    before = await snapshot(world, tmp_path)
    for scope, form, refusal in (
        ("admin_b", FORM, NotFound),  # learner_a is not B's: as if there were none
        ("teacher", FORM, Forbidden),
        ("learner", FORM, Forbidden),
        ("admin_a", msgspec.structs.replace(FORM, hours="1.25"), InvalidInput),
        ("admin_a", msgspec.structs.replace(FORM, completed_on="2999-01-01"), InvalidInput),
    ):
        with pytest.raises(refusal):
            await admin.add_offline_record(pool, world.scope(scope), form, NOW)
    assert await snapshot(world, tmp_path) == before

    record = await admin.add_offline_record(pool, world.scope("admin_a"), FORM, NOW)
    assert (record.username, record.org_name, record.year, record.hours) == (
        "learner_a",
        "组织a1",
        2026,
        16.0,
    )
    listed = {
        who: [r.id for r in (await admin.offline_records(pool, world.scope(who))).items]
        for who in ("super", "admin_a", "admin_b")
    }
    assert listed == {"super": [record.id], "admin_a": [record.id], "admin_b": []}
    found = await admin.offline_records(pool, world.scope("admin_a"), "learner_a姓名", 2026)
    assert ([r.id for r in found.items], found.total, found.pages) == ([record.id], 1, 1)
    assert (await admin.offline_records(pool, world.scope("admin_a"), "100%", None)).items == []

    edited = msgspec.structs.replace(FORM, hours="8.5", title="研修班（更正）")
    before = await snapshot(world, tmp_path)
    for scope, refusal in (("admin_b", NotFound), ("teacher", Forbidden)):
        with pytest.raises(refusal):
            await admin.edit_offline_record(pool, world.scope(scope), record.id, edited, NOW)
        with pytest.raises(refusal):
            await admin.delete_offline_record(pool, world.scope(scope), tmp_path, record.id)
    with pytest.raises(InvalidInput):
        await admin.edit_offline_record(
            pool, world.scope("admin_a"), record.id, msgspec.structs.replace(FORM, kind="x"), NOW
        )
    assert await snapshot(world, tmp_path) == before

    changed = await admin.edit_offline_record(pool, world.scope("admin_a"), record.id, edited, NOW)
    assert (changed.title, changed.hours) == ("研修班（更正）", 8.5)
    await admin.delete_offline_record(pool, world.scope("super"), tmp_path, record.id)
    assert await world.fetch("SELECT 1 FROM offline_records") == []
    audit = await world.fetch(
        "SELECT actor_name, action, org_id, before, after FROM audit_log ORDER BY id"
    )
    assert [(r["actor_name"], r["action"], r["org_id"]) for r in audit] == [
        ("admin_a", "offline_record.create", world["a1"]),
        ("admin_a", "offline_record.edit", world["a1"]),
        ("super", "offline_record.delete", world["a1"]),
    ]
    assert '"hours": 16.0' in audit[1]["before"]
    assert '"hours": 8.5' in audit[1]["after"]
    assert "研修班（更正）" in audit[2]["before"]
    assert audit[2]["after"] is None


async def test_evidence_is_checked_by_content_and_served_in_scope_only(
    world: World, tmp_path: Path
) -> None:
    pool, scope_a = world.pool, world.scope("admin_a")
    record = await admin.add_offline_record(pool, scope_a, FORM, NOW)
    before = await snapshot(world, tmp_path)
    too_large = b"%PDF-" + b"0" * evidence.MAX_BYTES + b"%%EOF"
    for scope, name, data, refusal, message in (
        (
            "admin_a",
            "证书.pdf",
            b"MZ\x90\x00 not a document at all",
            InvalidInput,
            evidence.NOT_ACCEPTED,
        ),
        ("admin_a", "a.png", PNG[:-12], InvalidInput, evidence.NOT_ACCEPTED),  # cut short
        ("admin_a", "a.pdf", PDF[:-7], InvalidInput, evidence.NOT_ACCEPTED),
        ("admin_a", "a.pdf", b"", InvalidInput, evidence.EMPTY),
        ("admin_a", "big.pdf", too_large, InvalidInput, evidence.TOO_LARGE),
        ("admin_b", "a.pdf", PDF, NotFound, admin.RECORD_NOT_FOUND),
        ("teacher", "a.pdf", PDF, Forbidden, None),
    ):
        with pytest.raises(refusal) as refused:
            await admin.add_evidence(
                pool, world.scope(scope), tmp_path, record.id, name, chunks(data, 64 * 1024)
            )
        if message is not None:
            assert (
                refused.value.message == message
                or message in getattr(refused.value, "fields", {}).values()
            )
    assert await snapshot(world, tmp_path) == before

    # The type is the content's, whatever the name says.
    files = [
        await admin.add_evidence(pool, scope_a, tmp_path, record.id, name, chunks(data))
        for name, data in (("../../证书.pdf", PDF), ("扫描件.pdf", PNG), ("照片.jpg", JPEG))
    ]
    assert [(f.file_name, f.content_type, f.size_bytes) for f in files] == [
        ("证书.pdf", "application/pdf", len(PDF)),
        ("扫描件.pdf", "image/png", len(PNG)),
        ("照片.jpg", "image/jpeg", len(JPEG)),
    ]
    shown, path = await admin.evidence_file(pool, world.scope("super"), tmp_path, files[0].id)
    assert (shown, path.read_bytes()) == (files[0], PDF)
    assert path.is_relative_to(tmp_path / "evidence" / str(record.id))
    _, own = await admin.learner_evidence_file(pool, world["learner"], tmp_path, files[1].id)
    assert own.read_bytes() == PNG
    for call in (
        admin.evidence_file(pool, world.scope("admin_b"), tmp_path, files[0].id),
        admin.learner_evidence_file(pool, world["learner_b"], tmp_path, files[0].id),
        admin.delete_evidence(pool, world.scope("admin_b"), tmp_path, files[0].id),
    ):
        with pytest.raises(NotFound):
            await call
    assert len((await admin.offline_record(pool, scope_a, record.id)).evidence) == 3

    await admin.delete_evidence(pool, scope_a, tmp_path, files[0].id)
    assert not path.exists()
    await admin.delete_offline_record(pool, scope_a, tmp_path, record.id)
    assert stored_files(tmp_path) == []
    actions = [r["action"] for r in await world.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["offline_record.create"] + ["evidence.add"] * 3 + [
        "evidence.delete",
        "offline_record.delete",
    ]


async def certificate(world: World, learner: str) -> str:
    """A certificate of a plan for the learner, as `issue` stores it."""
    plan_id = await world.pool.fetchval(
        """INSERT INTO plans (code, title, kind, year, elective_tenths, opens_at, closes_at)
           VALUES ($1, '2026年专业科目', 'professional', 2026, 10, '2000-01-01', '2100-01-01')
           RETURNING id""",
        f"plan-{learner}",
    )
    serial = serials.new_serial(2026)
    facts = CertificateFacts(
        serial=serial, learner_name="李华", id_label="护照", id_masked="E****1", org_name="组织",
        plan_id=plan_id, plan_title="2026年专业科目", plan_kind="professional", plan_year=2026,
        required_hours=1.0, earned_hours=1.0, compulsory_earned=0.0, elective_earned=1.0,
        activated_on="2026-01-01", passed_on="2026-06-01", issued_on="2026-06-01", courses=[],
    )  # fmt: skip
    await world.pool.execute(
        """INSERT INTO certificates (serial, learner_id, plan_id, facts, content_hash, issued_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        serial,
        world[learner],
        plan_id,
        msgspec.json.encode(facts).decode(),
        certificates.content_hash(facts),
        NOW,
    )
    return serial


async def test_a_certificate_is_revoked_within_the_scope_with_its_reason(
    world: World, tmp_path: Path
) -> None:
    pool = world.pool
    serial_a = await certificate(world, "learner")
    listed = {
        who: [c.serial for c in (await admin.managed_certificates(pool, world.scope(who))).items]
        for who in ("super", "admin_a", "admin_b")
    }
    assert listed == {"super": [serial_a], "admin_a": [serial_a], "admin_b": []}
    before = await snapshot(world, tmp_path)
    for scope, reason, refusal in (
        ("admin_b", "登记有误", NotFound),
        ("teacher", "登记有误", Forbidden),
        ("admin_a", "  ", InvalidInput),
    ):
        with pytest.raises(refusal):
            await admin.revoke_certificate(pool, world.scope(scope), serial_a, reason, NOW)
    assert await snapshot(world, tmp_path) == before

    # Typed in lower case: the same certificate.
    revoked = await admin.revoke_certificate(
        pool, world.scope("admin_a"), serial_a.lower(), "证书信息登记有误", NOW
    )
    assert (revoked.revoked_at, revoked.revoke_reason) == (NOW, "证书信息登记有误")
    verification = await certificates.verify(pool, serial_a, None)
    assert verification.status == "revoked"
    assert verification.certificate is not None
    assert verification.certificate.revoke_reason == "证书信息登记有误"
    with pytest.raises(Conflict):
        await admin.revoke_certificate(pool, world.scope("super"), serial_a, "再次", NOW)
    [row] = await world.fetch("SELECT revoked_by FROM certificates")
    assert row["revoked_by"] == world["admin_a"]
    [audit] = await world.fetch("SELECT actor_name, action, object_id, org_id FROM audit_log")
    assert tuple(audit) == ("admin_a", "certificate.revoke", serial_a, world["a1"])
