"""Where the login box may send the learner next: only a path on this site (F3)."""

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.pages import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "\t//evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "\n//evil.example",
        "/ /evil.example",
        "/\x00/evil.example",
        "/\x0b/evil.example",
        "https://evil.example",
        "HTTPS://evil.example/",
        "http:evil.example",
        "https:/evil.example",
        "//evil.example/%2F..",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%5C/evil.example",
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0D%0A/evil.example",
        "javascript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "evil.example",
        "plans",
        "",
        None,
    ],
)
def test_anything_but_a_path_on_this_site_goes_home(target: str | None) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/", "/"),
        ("/plans", "/plans"),
        ("/plans/3?tab=courses", "/plans/3?tab=courses"),
        ("/courses/7/chapters/2#player", "/courses/7/chapters/2#player"),
        ("/orders?next=//evil.example", "/orders?next=//evil.example"),
        ("/exams/attempts/5/result", "/exams/attempts/5/result"),
    ],
)
def test_a_path_on_this_site_is_kept(target: str, location: str) -> None:
    assert safe_next(target) == location


@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.from_regex(r"[/\\%\t\n a-z:0-9]{0,20}")
)
def test_any_text_gives_a_path_on_this_site(target: str) -> None:
    location = safe_next(target)
    assert location.startswith("/")
    assert not location.startswith("//")
    assert not any(char in location for char in "\\\t\r\n ")
    assert not unquote(location.split("?")[0]).startswith("//")
