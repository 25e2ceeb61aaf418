"""One-shot messages across a redirect (post/redirect/get), in a short-lived cookie."""

from urllib.parse import quote, unquote

from aiohttp import web

FLASH_COOKIE = "jixu_flash"


def flash_redirect(location: str, message: str, *, error: bool = False) -> web.HTTPFound:
    """A redirect that shows `message` on the next page rendered."""
    response = web.HTTPFound(location)
    value = ("!" if error else "") + quote(message[:200])
    response.set_cookie(FLASH_COOKIE, value, max_age=60, path="/", httponly=True, samesite="Lax")
    return response


def read_flash(request: web.Request) -> tuple[str, bool] | None:
    """The pending message and whether it is an error."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    return unquote(raw.removeprefix("!")), raw.startswith("!")


def clear_flash(response: web.StreamResponse) -> None:
    response.del_cookie(FLASH_COOKIE, path="/")
