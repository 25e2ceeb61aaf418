"""Who may read /metrics: the addresses and networks JIXU_METRICS_ALLOWED names (F12)."""

import pytest

from engine.settings import Settings
from web.requests import address_within

LOOPBACK = Settings().metrics_allowed


@pytest.mark.parametrize(
    ("address", "allowed", "expected"),
    [
        ("127.0.0.1", LOOPBACK, True),
        ("127.8.9.10", LOOPBACK, True),
        ("::1", LOOPBACK, True),
        ("::ffff:127.0.0.1", LOOPBACK, True),
        ("10.0.0.7", LOOPBACK, False),
        ("203.0.113.9", LOOPBACK, False),
        ("::ffff:203.0.113.9", LOOPBACK, False),
        ("unknown", LOOPBACK, False),
        ("", LOOPBACK, False),
        ("10.0.0.7", ("10.0.0.0/8",), True),
        ("10.0.0.7", ("10.0.0.8",), False),
        ("fd00::5", ("fd00::/8",), True),
        ("127.0.0.1", (), False),
    ],
)
def test_metrics_allowed(address: str, allowed: tuple[str, ...], expected: bool) -> None:
    assert address_within(address, allowed) is expected
