"""The scope of the operator's `jixu` commands: the command line reaches the database
directly, so it acts as a named administrator or, by default, with a super administrator's
scope, through the same services (and audit log) as the administration pages."""

from engine.accounts import service as accounts
from engine.admin import operator_store
from engine.admin.scope import Scope, require, scope_of
from engine.db import Executor
from engine.errors import Conflict

NO_SUPER = "还没有超级管理员：请先运行 jixu run 创建基础数据"


async def command_line_scope(db: Executor, username: str | None = None) -> Scope:
    """The administrator `username` names (its organisation subtree; a teacher or learner is
    refused), or everything as the first super administrator (the base data's); named as
    from the command line, so that audit rows tell commands from pages."""
    if username is None:
        row = await operator_store.first_super(db)
        if row is None:
            raise Conflict(NO_SUPER, code="no_super")
        return Scope(
            user_id=row["id"], name=f"{row['username']}（命令行）", role="super", org_id=None
        )
    user = await accounts.user_by_username(db, username)
    scope = scope_of(user.id, f"{user.username}（命令行）", user.role, user.org_id)
    require(scope, "admin")
    return scope
