"""Walk factories of the archive administration: a 线下档案, its evidence, a certificate."""

import hashlib

from engine.archive import serials
from tests.admin_world import Objects, factory, insert_user, unique


@factory("offline_record_id")
async def offline_record(objects: Objects, org_id: int) -> int:
    learner = await insert_user(objects.connection, org_id)
    record_id: int = await objects.connection.fetchval(
        """INSERT INTO offline_records (learner_id, year, kind, title, organiser, hour_tenths,
                                        completed_on, entered_at)
           VALUES ($1, 2023, 'public', '公需科目面授班', '', 80, '2023-05-01', now())
           RETURNING id""",
        learner,
    )
    return record_id


@factory("evidence_id")
async def evidence(objects: Objects, org_id: int) -> int:
    """A row only: deleting it leaves no file to remove (serving is not an /admin route)."""
    record_id = await objects.get("offline_record_id")
    evidence_id: int = await objects.connection.fetchval(
        """INSERT INTO offline_evidence (record_id, file_name, content_type, size_bytes, sha256,
                                         path)
           VALUES ($1, '证书.pdf', 'application/pdf', 10, $2, $3) RETURNING id""",
        record_id,
        hashlib.sha256(b"").hexdigest(),
        f"evidence/{record_id}/{unique('file')}.pdf",
    )
    return evidence_id


@factory("certificate_serial")
async def certificate(objects: Objects, org_id: int) -> str:
    learner = await insert_user(objects.connection, org_id)
    plan_id = await objects.get("plan_id")
    serial = serials.new_serial(2026)
    await objects.connection.execute(
        """INSERT INTO certificates (serial, learner_id, plan_id, facts, content_hash, issued_at)
           VALUES ($1, $2, $3, '{}', $4, now())""",
        serial,
        learner,
        plan_id,
        hashlib.sha256(b"{}").hexdigest(),
    )
    return serial
