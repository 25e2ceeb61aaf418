"""An administrator's scope: the organisation subtree its pages and API may see and change.

Every administrative query applies the scope in its SQL (`owned_by`), so an object outside
it is not found (404) rather than found and then refused.
"""

from typing import Literal

import msgspec

from engine.errors import Forbidden

AdminRole = Literal["teacher", "admin", "super"]
RANKS: dict[str, int] = {"learner": 0, "teacher": 1, "admin": 2, "super": 3}


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The acting user: id, name and role, and the root of the subtree it manages
    (None: everything, the super administrator)."""

    user_id: int
    name: str
    role: AdminRole
    org_id: int | None

    @property
    def is_super(self) -> bool:
        return self.org_id is None


def scope_of(user_id: int, name: str, role: str, org_id: int) -> Scope:
    """The scope of a user allowed on administrative pages at all (teacher or above)."""
    if role == "super":
        return Scope(user_id=user_id, name=name, role="super", org_id=None)
    if role == "admin":
        return Scope(user_id=user_id, name=name, role="admin", org_id=org_id)
    if role == "teacher":
        return Scope(user_id=user_id, name=name, role="teacher", org_id=org_id)
    raise Forbidden("没有管理权限")


def require(scope: Scope, role: AdminRole) -> None:
    """Refuse unless the scope's role is `role` or above."""
    if RANKS[scope.role] < RANKS[role]:
        raise Forbidden("没有权限执行此操作")


def owned_by(column: str, parameter: int) -> str:
    """A SQL condition: `column` (an organisation id) lies within the scope passed as
    parameter `$parameter` (NULL: everything). Use with `scope.org_id` as that parameter."""
    return f"(${parameter}::bigint IS NULL OR {column} IN (SELECT org_subtree(${parameter})))"
