"""Use cases of help and service information: search the manual's questions (F30), list and
edit the offline service points (F29)."""

import msgspec

from engine.db import Executor
from engine.errors import InvalidInput, NotFound
from engine.help import store
from engine.help.policy import POLICY
from engine.help.technical import HOTLINE, TECHNICAL
from engine.help.types import Section, ServicePoint

SECTIONS = (
    Section("technical", "常见技术问题", TECHNICAL, HOTLINE),
    Section("policy", "常见政策问题", POLICY),
)
QUERY_MAX = 50
# The fields of a service point an administrator writes, with their labels; unit may be empty.
POINT_FIELDS = {
    "name": "名称",
    "unit": "所属单位",
    "phone": "联系电话",
    "address": "地址",
    "hours": "对外办公时间",
}
POINT_FIELD_MAX = 200


def search(query: str) -> list[Section]:
    """The sections with the questions whose question or answer holds every word of the query
    (words split at spaces); an empty query keeps every question."""
    terms = query.strip()[:QUERY_MAX].split()
    found = [
        msgspec.structs.replace(
            section, questions=tuple(q for q in section.questions if q.mentions(terms))
        )
        for section in SECTIONS
    ]
    return [section for section in found if section.questions]


async def service_points(db: Executor) -> list[ServicePoint]:
    """The service points in the order an administrator gave them."""
    return await store.service_points(db)


async def add_service_point(
    db: Executor, *, position: int | None = None, **fields: str | None
) -> ServicePoint:
    """A new service point (by default after the last); InvalidInput when a required field
    is empty or one is too long."""
    values = _checked({key: fields.get(key) or "" for key in POINT_FIELDS})
    return await store.insert_service_point(db, position, **values)


async def edit_service_point(
    db: Executor, point_id: int, *, position: int | None = None, **changes: str | None
) -> ServicePoint:
    """The service point with the given fields changed (None: kept)."""
    point = await store.service_point(db, point_id)
    if point is None:
        raise NotFound("服务点不存在")
    unknown = changes.keys() - POINT_FIELDS.keys()
    if unknown:
        raise InvalidInput({key: "没有这一项" for key in unknown})
    current = {key: getattr(point, key) for key in POINT_FIELDS}
    values = _checked(current | {k: v for k, v in changes.items() if v is not None})
    changed = msgspec.structs.replace(
        point, position=point.position if position is None else position, **values
    )
    await store.update_service_point(db, changed)
    return changed


async def remove_service_point(db: Executor, point_id: int) -> None:
    if not await store.delete_service_point(db, point_id):
        raise NotFound("服务点不存在")


def _checked(values: dict[str, str]) -> dict[str, str]:
    """The values trimmed; InvalidInput naming each empty required or too long field."""
    values = {key: value.strip() for key, value in values.items()}
    errors = {}
    for key, value in values.items():
        if not value and key != "unit":
            errors[key] = f"请填写{POINT_FIELDS[key]}"
        elif len(value) > POINT_FIELD_MAX:
            errors[key] = f"{POINT_FIELDS[key]}不能超过{POINT_FIELD_MAX}个字"
    if errors:
        raise InvalidInput(errors)
    return values
