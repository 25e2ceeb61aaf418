"""A logged-in browser for admin tests: a login session of a given user, its cookie and its
forms' CSRF token, without going through the login box."""

from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from engine.appkeys import LOGIN_SESSIONS
from web.requests import CSRF_FIELD, SESSION_COOKIE, session_csrf_token


class Browser:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    @classmethod
    async def of(cls, client: TestClient, user_id: int) -> "Browser":
        """A browser logged in as `user_id`."""
        return cls(client, await client.server.app[LOGIN_SESSIONS].create(user_id))

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Cookie": f"{SESSION_COOKIE}={self.token}",
            "Origin": f"http://{self.client.host}:{self.client.port}",
        }

    async def get(self, path: str, **params: Any) -> ClientResponse:
        response = await self.client.get(
            path, params=params, headers=self.headers, allow_redirects=False
        )
        await response.read()
        self.client.session.cookie_jar.clear()
        return response

    async def post(self, path: str, **form: Any) -> ClientResponse:
        """A form posted as the page's own would be, with the login's CSRF token."""
        data = {CSRF_FIELD: session_csrf_token(self.token), **form}
        response = await self.client.post(
            path, data=data, headers=self.headers, allow_redirects=False
        )
        await response.read()
        self.client.session.cookie_jar.clear()
        return response
