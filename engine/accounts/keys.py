"""Redis keys of the accounts domain (the convention: engine/keys.py)."""

import hashlib

from engine.keys import user_tag

# Pub/sub channel every node listens on: `logins.SessionsEnded`, the logins just ended.
SESSIONS_ENDED_CHANNEL = "sessions-ended"


def session_key(user_id: int, digest: str) -> str:
    """`{u:<id>}:session:<digest>` HASH {created_ms}: one login. TTL: the idle timeout,
    renewed on each use but never past `created_ms` + the absolute timeout."""
    return f"{user_tag(user_id)}:session:{digest}"


def sessions_index_key(user_id: int) -> str:
    """`{u:<id>}:sessions` SET of session digests, to end a user's other sessions. TTL: the
    absolute timeout, renewed on each login (no session it lists can outlive it)."""
    return f"{user_tag(user_id)}:sessions"


def account_failures_key(username: str) -> str:
    """`login-failures:account:<digest>` STRING counter of failed logins to one account, from
    anywhere. The digest (a SHA-256 prefix) keeps whatever was typed as the name to 16 hex
    characters. TTL: the failure window, set on the first failure, so the count forgets old
    failures and survives a restart."""
    return f"login-failures:account:{_digest(username)}"


def account_address_failures_key(username: str, address: str) -> str:
    """`login-failures:account-address:<digest>-<ip>` STRING counter of failed logins to one
    account from one address. TTL: as `account_failures_key`."""
    return f"login-failures:account-address:{_digest(username)}-{address}"


def address_failures_key(address: str) -> str:
    """`login-failures:address:<ip>` STRING counter of failed logins from one address.
    TTL: as `account_failures_key`."""
    return f"login-failures:address:{address}"


def login_failure_counters(username: str, address: str) -> dict[str, str]:
    """The failed-login counters by kind: "account_address", "account" and "address"
    (STRING, TTL: the window)."""
    return {
        "account_address": account_address_failures_key(username, address),
        "account": account_failures_key(username),
        "address": address_failures_key(address),
    }


def password_failures_key(user_id: int) -> str:
    """`{u:<id>}:password-failures` STRING counter of wrong old passwords given to change the
    password. TTL: the login failure window, set on the first failure."""
    return f"{user_tag(user_id)}:password-failures"


def registrations_key(address: str) -> str:
    """`registrations:address:<ip>` STRING counter of registrations tried from one address.
    TTL: the registration window, set on the first."""
    return f"registrations:address:{address}"


def _digest(username: str) -> str:
    """A short, fixed-length stand-in for a typed username (case-insensitive, as logins are)."""
    return hashlib.sha256(username.lower().encode(errors="surrogatepass")).hexdigest()[:16]
