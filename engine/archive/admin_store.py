"""SQL of the archive's administration: 线下档案 with their evidence and certificates, each
scoped by its learner's organisation (`owned_by("u.org_id")`)."""

from datetime import date, datetime

import asyncpg

from engine.admin.paging import Page, fetch_page
from engine.admin.scope import owned_by
from engine.archive.types import ManagedCertificate
from engine.db import Executor

RECORD = """
SELECT r.id, r.learner_id, u.username, u.real_name, u.org_id, o.name AS org_name, r.year,
       r.kind, r.title, r.organiser, r.hour_tenths, r.completed_on, r.entered_at
FROM offline_records r JOIN users u ON u.id = r.learner_id JOIN orgs o ON o.id = u.org_id
"""
EVIDENCE = """
SELECT e.id, e.record_id, e.file_name, e.content_type, e.size_bytes, e.uploaded_at, e.path
FROM offline_evidence e
"""
# A learner named by a search: username, real name, or the ID or phone number typed whole.
MATCHES = """($2::text IS NULL OR u.username ILIKE '%' || $2 || '%'
             OR u.real_name ILIKE '%' || $2 || '%' OR u.phone = $2 OR u.id_number = $2)"""


def _like(text: str | None) -> str | None:
    """A search's text with LIKE's wildcards taken literally."""
    if not text:
        return None
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def learner_in_scope(
    db: Executor, username: str, scope_org: int | None
) -> asyncpg.Record | None:
    """A learner of the scope by username: id and org_id."""
    return await db.fetchrow(
        f"""SELECT id, org_id FROM users
            WHERE lower(username) = lower($1) AND role = 'learner' AND {owned_by("org_id", 2)}""",
        username,
        scope_org,
    )


async def records(
    db: Executor, scope_org: int | None, search: str | None, year: int | None, number: int
) -> Page[asyncpg.Record]:
    return await fetch_page(
        db,
        RECORD
        + f""" WHERE {owned_by("u.org_id", 1)} AND {MATCHES}
                 AND ($3::integer IS NULL OR r.year = $3)
               ORDER BY r.id DESC""",
        [scope_org, _like(search), year],
        number=number,
        row=lambda row: row,
    )


async def record(
    db: Executor, scope_org: int | None, record_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    return await db.fetchrow(
        RECORD
        + f" WHERE r.id = $2 AND {owned_by('u.org_id', 1)}"
        + (" FOR UPDATE OF r" if lock else ""),
        scope_org,
        record_id,
    )


async def evidence_of(db: Executor, record_ids: list[int]) -> list[asyncpg.Record]:
    return await db.fetch(
        EVIDENCE + " WHERE e.record_id = ANY($1::bigint[]) ORDER BY e.id", record_ids
    )


async def insert_record(
    db: Executor,
    learner_id: int,
    *,
    year: int,
    kind: str,
    title: str,
    organiser: str,
    hour_tenths: int,
    completed_on: date,
    entered_at: datetime,
    entered_by: int,
) -> int:
    record_id: int = await db.fetchval(
        """INSERT INTO offline_records (learner_id, year, kind, title, organiser, hour_tenths,
                                        completed_on, entered_at, entered_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
        learner_id,
        year,
        kind,
        title,
        organiser,
        hour_tenths,
        completed_on,
        entered_at,
        entered_by,
    )
    return record_id


async def update_record(
    db: Executor,
    record_id: int,
    *,
    year: int,
    kind: str,
    title: str,
    organiser: str,
    hour_tenths: int,
    completed_on: date,
    updated_at: datetime,
) -> None:
    await db.execute(
        """UPDATE offline_records SET year = $2, kind = $3, title = $4, organiser = $5,
                                      hour_tenths = $6, completed_on = $7, updated_at = $8
           WHERE id = $1""",
        record_id,
        year,
        kind,
        title,
        organiser,
        hour_tenths,
        completed_on,
        updated_at,
    )


async def delete_record(db: Executor, record_id: int) -> list[str]:
    """Delete a record and its evidence rows; the paths of the files to remove."""
    paths = await db.fetch(
        "DELETE FROM offline_evidence WHERE record_id = $1 RETURNING path", record_id
    )
    await db.execute("DELETE FROM offline_records WHERE id = $1", record_id)
    return [row["path"] for row in paths]


async def evidence_count(db: Executor, record_id: int) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM offline_evidence WHERE record_id = $1", record_id
    )
    return count


async def insert_evidence(
    db: Executor,
    record_id: int,
    *,
    file_name: str,
    content_type: str,
    size_bytes: int,
    sha256: str,
    path: str,
    uploaded_by: int,
) -> asyncpg.Record:
    row = await db.fetchrow(
        """INSERT INTO offline_evidence (record_id, file_name, content_type, size_bytes, sha256,
                                         path, uploaded_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, record_id, file_name, content_type, size_bytes, uploaded_at, path""",
        record_id,
        file_name,
        content_type,
        size_bytes,
        sha256,
        path,
        uploaded_by,
    )
    assert row is not None
    return row


async def evidence(
    db: Executor, scope_org: int | None, evidence_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    """An evidence file whose learner is within the scope, with the learner's org_id."""
    return await db.fetchrow(
        EVIDENCE.replace("SELECT ", "SELECT u.org_id, r.learner_id, ", 1)
        + f""" JOIN offline_records r ON r.id = e.record_id JOIN users u ON u.id = r.learner_id
               WHERE e.id = $2 AND {owned_by("u.org_id", 1)}"""
        + (" FOR UPDATE OF e" if lock else ""),
        scope_org,
        evidence_id,
    )


async def learner_evidence(
    db: Executor, learner_id: int, evidence_id: int
) -> asyncpg.Record | None:
    """An evidence file of one of the learner's own records."""
    return await db.fetchrow(
        EVIDENCE
        + " JOIN offline_records r ON r.id = e.record_id WHERE e.id = $2 AND r.learner_id = $1",
        learner_id,
        evidence_id,
    )


async def learner_evidence_files(db: Executor, learner_id: int) -> list[asyncpg.Record]:
    return await db.fetch(
        EVIDENCE
        + " JOIN offline_records r ON r.id = e.record_id WHERE r.learner_id = $1 ORDER BY e.id",
        learner_id,
    )


async def delete_evidence(db: Executor, evidence_id: int) -> None:
    await db.execute("DELETE FROM offline_evidence WHERE id = $1", evidence_id)


CERTIFICATE = """
SELECT c.serial, c.learner_id, u.username, u.real_name, o.name AS org_name, c.plan_id,
       p.title AS plan_title, c.issued_at, c.revoked_at, c.revoke_reason
FROM certificates c JOIN users u ON u.id = c.learner_id JOIN orgs o ON o.id = u.org_id
JOIN plans p ON p.id = c.plan_id
"""


async def certificates(
    db: Executor, scope_org: int | None, search: str | None, number: int
) -> Page[ManagedCertificate]:
    """The scope's certificates, newest first; `search` a learner or a serial."""
    return await fetch_page(
        db,
        CERTIFICATE
        + f""" WHERE {owned_by("u.org_id", 1)} AND ({MATCHES} OR c.serial = upper($2))
               ORDER BY c.issued_at DESC, c.serial""",
        [scope_org, _like(search)],
        number=number,
        row=lambda row: ManagedCertificate(**row),
    )


async def certificate(
    db: Executor, scope_org: int | None, serial: str, *, lock: bool = False
) -> asyncpg.Record | None:
    """A certificate of a learner within the scope, with the learner's org_id."""
    return await db.fetchrow(
        CERTIFICATE.replace("SELECT ", "SELECT u.org_id, ", 1)
        + f" WHERE c.serial = $2 AND {owned_by('u.org_id', 1)}"
        + (" FOR UPDATE OF c" if lock else ""),
        scope_org,
        serial,
    )


async def revoke_certificate(db: Executor, serial: str, reason: str, at: datetime, by: int) -> None:
    await db.execute(
        """UPDATE certificates SET revoked_at = $3, revoke_reason = $2, revoked_by = $4
           WHERE serial = $1 AND revoked_at IS NULL""",
        serial,
        reason,
        at,
        by,
    )
