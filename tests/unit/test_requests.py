"""client_address: the peer, or the client a trusted proxy names in X-Forwarded-For."""

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from engine.appkeys import SETTINGS
from engine.settings import Settings
from web.requests import client_address

PROXIES = ("10.0.0.0/8", "2001:db8::1")


class Transport:
    """Just enough of a transport for `request.remote`."""

    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self.peer, 40000) if name == "peername" else default


def address(peer: str, *forwarded: str, proxies: tuple[str, ...] = PROXIES) -> str:
    app = web.Application()
    app[SETTINGS] = Settings(trusted_proxies=proxies)
    headers = CIMultiDict(("X-Forwarded-For", line) for line in forwarded)
    request = make_mocked_request("GET", "/", headers=headers, app=app, transport=Transport(peer))
    return client_address(request)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        pytest.param("203.0.113.9", (), "203.0.113.9", id="direct"),
        pytest.param("203.0.113.9", ("198.51.100.1",), "203.0.113.9", id="untrusted-peer"),
        pytest.param("10.0.0.2", ("198.51.100.1",), "198.51.100.1", id="trusted-peer"),
        pytest.param("10.0.0.2", ("6.6.6.6, 198.51.100.1",), "198.51.100.1", id="spoofed-left"),
        pytest.param(
            "10.0.0.2", ("6.6.6.6, 198.51.100.1, 10.1.2.3",), "198.51.100.1", id="proxy-chain"
        ),
        pytest.param("10.0.0.2", ("6.6.6.6", "198.51.100.1"), "198.51.100.1", id="two-headers"),
        pytest.param("2001:db8::1", ("2001:DB8::7",), "2001:db8::7", id="ipv6"),
        pytest.param("10.0.0.2", (), "10.0.0.2", id="no-header"),
        pytest.param("10.0.0.2", ("10.0.0.3",), "10.0.0.2", id="only-proxies"),
        pytest.param("10.0.0.2", ("6.6.6.6, not-an-ip",), "10.0.0.2", id="garbage"),
    ],
)
def test_client_address(peer: str, forwarded: tuple[str, ...], expected: str) -> None:
    assert address(peer, *forwarded) == expected


def test_no_trusted_proxies_means_the_header_is_never_read() -> None:
    assert address("10.0.0.2", "198.51.100.1", proxies=()) == "10.0.0.2"
