"""Account records and validated inputs."""

from datetime import date, datetime
from typing import Literal

import msgspec


class PersonalDetails(msgspec.Struct, frozen=True, kw_only=True):
    """The F2 fields, validated."""

    org_id: int
    real_name: str
    phone: str
    id_type: str
    id_number: str
    birth_date: date | None = None
    gender: str | None = None
    ethnicity: str | None = None
    title_status: str | None = None
    title_level: str | None = None
    professional_title: str | None = None
    title_date: date | None = None
    education: str | None = None
    political_status: str | None = None


class Registration(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    password: str
    details: PersonalDetails


class User(PersonalDetails, frozen=True, kw_only=True):
    id: int
    username: str
    role: str
    org_name: str
    created_at: datetime
    # Set when an administrator reset the password: nothing else until it is changed.
    must_change_password: bool = False


class ManagedUser(msgspec.Struct, frozen=True, kw_only=True):
    """A user as the administration lists and shows it (never its password hash)."""

    id: int
    username: str
    role: str
    real_name: str
    phone: str
    id_type: str
    id_number: str
    org_id: int
    org_name: str
    created_at: datetime
    locked_at: datetime | None
    must_change_password: bool


class LearnerFilters(msgspec.Struct, frozen=True, kw_only=True):
    """The learners list's search: `q` a name, username, ID number or phone (any part);
    `org_id` an organisation whose subtree to list; `locked` only locked ("1") or not ("0")."""

    q: str = ""
    org_id: int | None = None
    locked: bool | None = None


class Org(msgspec.Struct, frozen=True):
    id: int
    name: str
    parent_id: int | None


Role = Literal["learner", "teacher", "admin"]


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """A user in one course: the name others see and the role there."""

    name: str
    role: Role


class ManagedOrg(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation as the administration shows it; `depth` below the scope's root."""

    id: int
    code: str
    name: str
    parent_id: int | None
    sort_order: int
    depth: int = 0
    users: int = 0


class GrantedCourse(msgspec.Struct, frozen=True, kw_only=True):
    """A course and, for a teacher's page, whether it is granted to the teacher."""

    id: int
    code: str
    title: str
    org_name: str | None
    granted: bool
