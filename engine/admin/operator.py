"""The scope of the operator's `jixu` commands: the command line reaches the database
directly, so it acts with a super administrator's scope, through the same services (and
audit log) as the administration pages."""

from engine.admin import operator_store
from engine.admin.scope import Scope
from engine.db import Executor
from engine.errors import Conflict

NO_SUPER = "还没有超级管理员：请先运行 jixu run 创建基础数据"


async def command_line_scope(db: Executor) -> Scope:
    """Everything, acting as the first super administrator (the base data's), named as from
    the command line so that its audit rows tell the two apart."""
    row = await operator_store.first_super(db)
    if row is None:
        raise Conflict(NO_SUPER, code="no_super")
    return Scope(user_id=row["id"], name=f"{row['username']}（命令行）", role="super", org_id=None)
