"""What clients send, decoded at the edge: JSON bodies and forms into msgspec Structs, ids and
dates out of paths and queries; every failure is one InvalidInput naming its field."""

import re
from datetime import date
from typing import Annotated, TypeVar, get_args

import msgspec
from aiohttp import web

from engine.errors import InvalidInput, NotFound

NOT_AN_OBJECT = "请求内容应为JSON对象"
MISSING = "请填写此项"
MISTYPED = "格式不正确"
BAD_ID = "编号不正确"
REPEATED = "只能指定一次"

# At most 18 decimal digits: every id fits PostgreSQL's bigint.
_ID_TEXT = re.compile(r"[0-9]{1,18}")
_AT_FIELD = re.compile(r" - at `\$\.([A-Za-z0-9_]+)`$")
_MISSING_FIELD = re.compile(r"Object missing required field `([A-Za-z0-9_]+)`$")

# A Struct field holding a row id: in JSON a number, in text what `parse_id` reads.
Id = Annotated[int, msgspec.Meta(ge=1, lt=10**18)]

S = TypeVar("S", bound=msgspec.Struct)


def parse_id(text: str | None) -> int | None:
    """The id written in `text` (path, query or form), None when it cannot be one."""
    if text is None or not _ID_TEXT.fullmatch(text):
        return None
    return int(text) or None


def path_id(request: web.Request, name: str) -> int:
    """The id in the URL path; NotFound for anything else."""
    value = parse_id(request.match_info[name])
    if value is None:
        raise NotFound("页面不存在")
    return value


def query_value(request: web.Request, name: str) -> str | None:
    """A query parameter of the API, given at most once: of `?q=a&q=b` a proxy, a cache and
    this server might each read another, so a repeated one is refused (InvalidInput)."""
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise InvalidInput({name: REPEATED})
    return values[0] if values else None


def parse_date(value: str | None, field: str) -> date | None:
    """A 年-月-日 date from a query or form; InvalidInput naming the field otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput({field: "日期格式应为年-月-日"}) from None


async def read_json(request: web.Request, body_type: type[S]) -> S:
    """The JSON object of the request as `body_type`; InvalidInput naming a bad field."""
    try:
        return msgspec.json.decode(await request.read(), type=body_type)
    except msgspec.ValidationError as exc:
        raise _invalid_input(exc, body_type) from None
    except msgspec.DecodeError:
        raise InvalidInput({}, NOT_AN_OBJECT) from None


async def read_form(request: web.Request, body_type: type[S]) -> S:
    """The posted form as `body_type`, its text converted to the fields' types.

    A field left empty counts as absent: browsers send every input of a form.
    """
    form = await request.post()
    values: dict[str, object] = {
        key: value for key, value in form.items() if isinstance(value, str) and value
    }
    for field in _id_fields(body_type) & values.keys():
        values[field] = parse_id(str(values[field]))
        if values[field] is None:
            raise InvalidInput({field: BAD_ID})
    try:
        return msgspec.convert(values, body_type, strict=False)
    except msgspec.ValidationError as exc:
        raise _invalid_input(exc, body_type) from None


async def signed_params(request: web.Request) -> dict[str, str] | None:
    """A signed request's posted parameters exactly as sent (a signature covers each one);
    None when a name repeats or a value is not text, which no signer sends."""
    form = await request.post()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    return params if len(params) == len(form) else None


def _invalid_input(exc: msgspec.ValidationError, body_type: type[msgspec.Struct]) -> InvalidInput:
    """msgspec's error (`… - at $.field`, `Object missing required field …`) in Chinese."""
    text = str(exc)
    if found := _AT_FIELD.search(text):
        field, message = found[1], MISTYPED
    elif found := _MISSING_FIELD.match(text):
        field, message = found[1], MISSING
    else:
        return InvalidInput({}, NOT_AN_OBJECT)
    return InvalidInput({field: BAD_ID if field in _id_fields(body_type) else message})


def _id_fields(body_type: type[msgspec.Struct]) -> frozenset[str]:
    return frozenset(
        field.name
        for field in msgspec.structs.fields(body_type)
        if field.type == Id or Id in get_args(field.type)
    )
