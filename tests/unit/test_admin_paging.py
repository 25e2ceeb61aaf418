"""List pages: the page asked for in a query string, and a page's links."""

import pytest

from engine.admin.paging import MAX_PAGE, Page, page_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (None, 1),
        ("", 1),
        ("3", 3),
        ("0", 1),
        ("-2", 1),
        ("2.5", 1),
        ("abc", 1),
        ("１２", 1),  # full-width digits
        ("²", 1),  # isdigit() says yes, int() refuses
        ("9999999", 1),
        (str(MAX_PAGE + 1), MAX_PAGE),
    ],
)
def test_page_number(text: str | None, number: int) -> None:
    assert page_number(text) == number


@pytest.mark.parametrize(
    ("total", "number", "pages", "previous", "following"),
    [
        (0, 1, 1, False, False),
        (20, 1, 1, False, False),
        (21, 1, 2, False, True),
        (21, 2, 2, True, False),
        (45, 2, 3, True, True),
    ],
)
def test_page_links(total: int, number: int, pages: int, previous: bool, following: bool) -> None:
    page: Page[int] = Page(items=[], total=total, number=number, size=20)
    assert (page.pages, page.has_previous, page.has_next) == (pages, previous, following)
