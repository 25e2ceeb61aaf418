"""Certificates of passed plans (F6, F23): issued once with the facts of the pass, printed
again from those facts, verified by anyone at /verify/<serial>, revoked by an administrator."""

import asyncio
import hashlib
from datetime import datetime

import asyncpg
import msgspec
import structlog

from engine.accounts.options import ID_TYPES
from engine.accounts.types import User
from engine.archive import document, serials, store
from engine.archive.service import plan_record
from engine.archive.types import (
    Certificate,
    CertificateFacts,
    CertifiedCourse,
    PlanRecord,
    Verification,
)
from engine.clock import CHINA, china_time
from engine.db import Executor
from engine.errors import DomainError

log = structlog.get_logger(__name__)

NOT_PASSED = "培训计划通过后才能打印证书"
WITHDRAWN = "证书所依据的培训计划已不再合格（如课程已退款）"
SERIAL_DRAWS = 5
MAX_REASON = 200
_encoder = msgspec.json.Encoder()
_facts_decoder = msgspec.json.Decoder(CertificateFacts)


def mask_id(number: str) -> str:
    """An ID number as a certificate or its public page shows it: the rest starred out."""
    if len(number) >= 10:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return number[:1] + "*" * max(0, len(number) - 2) + number[-1:]


def content_hash(facts: CertificateFacts) -> str:
    return hashlib.sha256(_encoder.encode(facts)).hexdigest()


def facts_of(user: User, plan: PlanRecord, serial: str, issued_at: datetime) -> CertificateFacts:
    """What a certificate of this passed plan states, at the moment it is issued."""
    assert plan.passed_on is not None
    return CertificateFacts(
        serial=serial,
        learner_name=user.real_name,
        id_label=ID_TYPES.get(user.id_type, "证件号码"),
        id_masked=mask_id(user.id_number),
        org_name=user.org_name,
        plan_id=plan.id,
        plan_title=plan.title,
        plan_kind=plan.kind,
        plan_year=plan.year,
        required_hours=plan.required_hours,
        earned_hours=plan.earned_hours,
        compulsory_earned=plan.compulsory_earned,
        elective_earned=plan.elective_earned,
        activated_on=plan.activated_on.isoformat(),
        passed_on=plan.passed_on.isoformat(),
        issued_on=issued_at.astimezone(CHINA).date().isoformat(),
        courses=[
            CertifiedCourse(
                title=course.title,
                compulsory=course.compulsory,
                hours=course.hours,
                completed_on=course.completed_on.isoformat() if course.completed_on else None,
                exam_score=course.exam_score,
                exam_total=course.exam_total,
            )
            for course in plan.courses
            if course.earned
        ],
    )


async def issue(pool: asyncpg.Pool, user: User, plan_id: int, now: datetime) -> Certificate:
    """打印证书: the plan's valid certificate, issued now if it has none. Passed plans only."""
    async with pool.acquire() as connection, connection.transaction():
        if await store.lock_enrolment(connection, user.id, plan_id) != "passed":
            raise DomainError(NOT_PASSED, code="not_passed")
        existing = await store.valid_certificate(connection, user.id, plan_id)
        if existing is not None:
            return _certificate(existing)
        plan = await plan_record(connection, user.id, plan_id)
        for _ in range(SERIAL_DRAWS):
            facts = facts_of(user, plan, serials.new_serial(plan.year), now)
            digest = content_hash(facts)
            if await store.insert_certificate(
                connection,
                serial=facts.serial,
                learner_id=user.id,
                plan_id=plan_id,
                facts=_encoder.encode(facts).decode(),
                content_hash=digest,
                issued_at=now,
            ):
                _warn_of_missing_glyphs(facts)
                return Certificate(
                    facts.serial, user.id, plan_id, facts, digest, _ms(now), None, None
                )
    raise RuntimeError("could not draw an unused certificate serial")


async def pdf(certificate: Certificate, verify_url: str, site_name: str) -> bytes:
    """The certificate as a PDF, made off the event loop (it takes a good fraction of a second)."""
    issued_at = china_time(certificate.issued_ms)
    return await asyncio.to_thread(
        document.render,
        certificate.facts,
        certificate.content_hash,
        verify_url,
        issued_at,
        site_name,
    )


def verify_path(certificate: Certificate) -> str:
    """The public page that verifies it; the hash rides along so that an altered one shows."""
    return f"/verify/{certificate.serial}?h={certificate.content_hash}"


async def verify(db: Executor, serial_text: str, given_hash: str | None) -> Verification:
    """What the public verify page says of a serial (and the hash printed beside it)."""
    serial = serials.normalize(serial_text)
    if not serials.is_well_formed(serial):
        return Verification("bad_serial", serial)
    row = await store.certificate(db, serial)
    if row is None:
        return Verification("unknown", serial)
    certificate = _certificate(row)
    if given_hash is not None and given_hash.strip().lower() != certificate.content_hash:
        return Verification("hash_mismatch", serial, certificate)
    if certificate.revoked_ms is not None:
        return Verification("revoked", serial, certificate)
    # A pass taken back (a refunded course) takes the certificate's validity with it.
    if await store.enrolment_state(db, certificate.learner_id, certificate.plan_id) != "passed":
        withdrawn = msgspec.structs.replace(certificate, revoke_reason=WITHDRAWN)
        return Verification("revoked", serial, withdrawn)
    return Verification("valid", serial, certificate)


def _warn_of_missing_glyphs(facts: CertificateFacts) -> None:
    """A name or title with a character the embedded face lacks would print as an empty box:
    say so where an operator looks (names are the learners' own; titles are the catalogue's)."""
    printed = [facts.learner_name, facts.org_name, facts.plan_title]
    missing = document.missing_characters("".join(printed + [c.title for c in facts.courses]))
    if missing:
        log.warning(
            "certificate has characters its font lacks",
            serial=facts.serial,
            characters="".join(sorted(missing)),
        )


def _certificate(row: asyncpg.Record) -> Certificate:
    return Certificate(
        serial=row["serial"],
        learner_id=row["learner_id"],
        plan_id=row["plan_id"],
        facts=_facts_decoder.decode(row["facts"]),
        content_hash=row["content_hash"],
        issued_ms=_ms(row["issued_at"]),
        revoked_ms=_ms(row["revoked_at"]) if row["revoked_at"] is not None else None,
        revoke_reason=row["revoke_reason"],
    )


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)
