"""Redis keys of the accounts domain (the convention: engine/keys.py)."""

from engine.keys import user_tag


def session_key(user_id: int, digest: str) -> str:
    """`{u:<id>}:session:<digest>` HASH {created_ms}: one login. TTL: the idle timeout,
    renewed on each use but never past `created_ms` + the absolute timeout."""
    return f"{user_tag(user_id)}:session:{digest}"


def sessions_index_key(user_id: int) -> str:
    """`{u:<id>}:sessions` SET of session digests, to end a user's other sessions. TTL: the
    absolute timeout, renewed on each login (no session it lists can outlive it)."""
    return f"{user_tag(user_id)}:sessions"


def account_failures_key(username: str) -> str:
    """`login-failures:account:<username, lower case>` STRING counter of failed logins.
    TTL: the failure window, set on the first failure, so the count forgets old failures
    and survives a restart."""
    return f"login-failures:account:{username.lower()}"


def address_failures_key(address: str) -> str:
    """`login-failures:address:<ip>` STRING counter of failed logins from one address.
    TTL: as `account_failures_key`."""
    return f"login-failures:address:{address}"


def login_failure_counters(username: str, address: str) -> dict[str, str]:
    """The failed-login counters by kind: "account" and "address" (STRING, TTL: the window)."""
    return {"account": account_failures_key(username), "address": address_failures_key(address)}
