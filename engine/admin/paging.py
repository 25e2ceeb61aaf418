"""Server-side pagination of administrative lists: one page of rows and the total count."""

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import asyncpg
import msgspec

from engine.db import Executor

T = TypeVar("T")

PAGE_SIZE = 20
# Beyond this, a page number is someone's typo or a crawler: the last pages are empty anyway.
MAX_PAGE = 100_000


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """Rows `number` (from 1) of a list of `total`, `size` a page."""

    items: list[T]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(text: str | None) -> int:
    """The page asked for in a query string; 1 for anything that is not a page number."""
    if text is None or not text.isdigit() or len(text) > 6:
        return 1
    return min(max(1, int(text)), MAX_PAGE)


async def fetch_page(
    connection: Executor,
    query: str,
    arguments: Sequence[Any],
    *,
    number: int,
    row: Callable[[asyncpg.Record], T],
    size: int = PAGE_SIZE,
) -> Page[T]:
    """Page `number` of `query` (a SELECT with its ORDER BY, parameters `$1…$n` bound to
    `arguments`): its rows through `row`, and the count of all its rows."""
    count = len(arguments)
    total: int = await connection.fetchval(f"SELECT count(*) FROM ({query}) AS listed", *arguments)
    rows = await connection.fetch(
        f"{query} LIMIT ${count + 1} OFFSET ${count + 2}", *arguments, size, (number - 1) * size
    )
    return Page(items=[row(found) for found in rows], total=total, number=number, size=size)
