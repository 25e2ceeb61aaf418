"""The archive's records (F23), the year's hours (F32) and certificates, as pages show them."""

from datetime import date, datetime

import msgspec


class CourseRecord(msgspec.Struct, frozen=True):
    """A selected course of a plan, as its facts stand: progress, completion, the exam."""

    id: int
    title: str
    compulsory: bool
    examined: bool
    hours: float
    progress: int
    completed_on: date | None
    exam_score: int | None
    exam_total: int | None
    exam_passed: bool
    earned: bool  # its hours count toward the plan: complete, and passed where examined


class PlanRecord(msgspec.Struct, frozen=True):
    """One plan of the learner's archive: what it asks and what the learner has earned."""

    id: int
    title: str
    kind: str
    year: int
    category: str | None
    state: str  # learning (学习中) | passed (已通过)
    compulsory_hours: float
    elective_hours: float
    required_hours: float
    compulsory_earned: float
    elective_earned: float
    earned_hours: float
    activated_on: date
    passed_on: date | None
    courses: list[CourseRecord]
    certificate: str | None  # where 打印证书 fetches the PDF, for a passed plan


class OfflineRecord(msgspec.Struct, frozen=True):
    """线下档案: training done away from the portal, entered by an administrator."""

    id: int
    year: int
    kind: str
    title: str
    organiser: str
    hours: float
    completed_on: date


class OpenPlan(msgspec.Struct, frozen=True):
    """A plan of the year still open to study, and the hours its pass still needs."""

    id: int
    title: str
    kind: str
    state: str  # pending (待激活) | learning (学习中)
    to_pass_hours: float


class YearHours(msgspec.Struct, frozen=True):
    """F32: a year's hours against the statutory requirement, and how to close the gap."""

    year: int
    required_hours: float
    earned_hours: float
    public_hours: float
    professional_hours: float
    offline_hours: float
    missing_hours: float
    deadline: date
    days_left: int | None  # None once the deadline has passed
    open_plans: list[OpenPlan]
    covered: bool  # passing the open plans would make up what is missing


class CertifiedCourse(msgspec.Struct, frozen=True):
    title: str
    compulsory: bool
    hours: float
    completed_on: str | None
    exam_score: int | None
    exam_total: int | None


class CertificateFacts(msgspec.Struct, frozen=True):
    """What a certificate states; its SHA-256 (as encoded here, fields in this order) is the
    certificate's content hash. Dates are ISO text so that the encoding never varies."""

    serial: str
    learner_name: str
    id_label: str
    id_masked: str
    org_name: str
    plan_id: int
    plan_title: str
    plan_kind: str
    plan_year: int
    required_hours: float
    earned_hours: float
    compulsory_earned: float
    elective_earned: float
    activated_on: str
    passed_on: str
    issued_on: str
    courses: list[CertifiedCourse]


class Certificate(msgspec.Struct, frozen=True):
    serial: str
    learner_id: int
    plan_id: int
    facts: CertificateFacts
    content_hash: str
    issued_ms: int
    revoked_ms: int | None
    revoke_reason: str | None


class Verification(msgspec.Struct, frozen=True):
    """What /verify/<serial> says: valid, revoked, unknown, or that serial or hash was altered."""

    status: str  # valid | revoked | unknown | bad_serial | hash_mismatch
    serial: str
    certificate: Certificate | None = None


class EvidenceFile(msgspec.Struct, frozen=True, kw_only=True):
    """A 线下档案's evidence: an uploaded PDF, JPG or PNG file."""

    id: int
    record_id: int
    file_name: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime


class ManagedRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A 线下档案 as the administration lists it: whose, and its evidence."""

    id: int
    learner_id: int
    username: str
    real_name: str
    org_id: int
    org_name: str
    year: int
    kind: str
    title: str
    organiser: str
    hours: float
    completed_on: date
    entered_at: datetime
    evidence: list[EvidenceFile]


class RecordForm(msgspec.Struct, frozen=True, kw_only=True):
    """A 线下档案 as a form or `jixu archive add` gives it, every field text."""

    username: str = ""  # whose (when adding; a record keeps its learner)
    kind: str
    title: str
    organiser: str = ""
    hours: str
    completed_on: str  # YYYY-MM-DD


class ManagedCertificate(msgspec.Struct, frozen=True, kw_only=True):
    """A certificate as the administration lists it."""

    serial: str
    learner_id: int
    username: str
    real_name: str
    org_name: str
    plan_id: int
    plan_title: str
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
