"""The learner's nine-part navigation (F3), in the header and on the home page."""

from typing import NamedTuple


class NavItem(NamedTuple):
    key: str
    label: str
    url: str


NAVIGATION = (
    NavItem("courses", "我的课程", "/plans"),
    NavItem("history", "历史课程", "/history"),
    NavItem("exams", "我的考试", "/exams"),
    NavItem("archive", "我的档案", "/archive"),
    NavItem("orders", "我的订单", "/orders"),
    NavItem("account", "我的账户", "/account"),
    NavItem("messages", "我的消息", "/messages"),
    NavItem("notes", "我的笔记", "/notes"),
    NavItem("settings", "个人设置", "/settings/profile"),
)

# Beside the nine parts, open to everyone: the manual's §9 and §10 (F29, F30).
SERVICE_NAVIGATION = (
    NavItem("service", "发票领取和学习卡购买", "/service"),
    NavItem("help", "帮助", "/help"),
)
