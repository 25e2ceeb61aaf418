"""The learner's nine-part navigation (F3); the header leaves out an entry without a page
yet, the home page shows all nine and says which come later."""

from typing import NamedTuple


class NavItem(NamedTuple):
    key: str
    label: str
    url: str | None


NAVIGATION = (
    NavItem("courses", "我的课程", "/plans"),
    NavItem("history", "历史课程", None),
    NavItem("exams", "我的考试", "/exams"),
    NavItem("archive", "我的档案", None),
    NavItem("orders", "我的订单", "/orders"),
    NavItem("account", "我的账户", "/account"),
    NavItem("messages", "我的消息", "/messages"),
    NavItem("notes", "我的笔记", "/notes"),
    NavItem("settings", "个人设置", "/settings/profile"),
)

VISIBLE_NAVIGATION = tuple(item for item in NAVIGATION if item.url is not None)
