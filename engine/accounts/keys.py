"""Redis keys of the accounts domain.

- `{u:<id>}:session:<digest>` HASH {created_ms}: one login. TTL: the idle timeout, renewed on
  each use but never past `created_ms` + the absolute timeout.
- `{u:<id>}:sessions` SET of session digests, to end a user's other sessions. TTL: the
  absolute timeout, renewed on each login (no session it lists can outlive it).
- `login-failures:account:<username, lower case>` STRING counter. TTL: the failure window,
  set on the first failure, so the count forgets old failures and survives a restart.
- `login-failures:address:<ip>` STRING counter. TTL: as above.
"""


def session_key(user_id: int, digest: str) -> str:
    return f"{{u:{user_id}}}:session:{digest}"


def sessions_index_key(user_id: int) -> str:
    return f"{{u:{user_id}}}:sessions"


def account_failures_key(username: str) -> str:
    return f"login-failures:account:{username.lower()}"


def address_failures_key(address: str) -> str:
    return f"login-failures:address:{address}"
