"""What the API's JSON bodies and the pages' forms carry, one Struct each, shared by both;
and what the API's query strings carry, as its OpenAPI document describes them.

Fields a domain validator checks (engine.accounts.validation, the card and payment rules)
arrive here typed and optional; the rules stay in the domain.
"""

from datetime import date
from typing import Annotated, Literal

import msgspec

from web.decoding import Id


class Credentials(msgspec.Struct, kw_only=True):
    """登录; the login form also says where to go next."""

    username: str = ""
    password: str = ""
    next: str | None = None


class PersonalDetailsBody(msgspec.Struct, kw_only=True):
    """The F2 fields (registration and 个人信息)."""

    org_id: Id | None = None
    real_name: str | None = None
    phone: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    ethnicity: str | None = None
    title_status: str | None = None
    title_level: str | None = None
    professional_title: str | None = None
    title_date: str | None = None
    education: str | None = None
    political_status: str | None = None


class RegistrationBody(PersonalDetailsBody, kw_only=True):
    """注册: the account (F1) and the F2 fields."""

    username: str | None = None
    password: str | None = None
    password_confirm: str | None = None


class PasswordChange(msgspec.Struct, kw_only=True):
    """修改密码; the API takes a missing confirmation as the new password itself."""

    old_password: str = ""
    new_password: str = ""
    confirm_password: str | None = None


class CardRedemption(msgspec.Struct, kw_only=True):
    """充值 with a study card."""

    card_no: str = ""
    card_password: str = ""


class CartItemBody(msgspec.Struct, kw_only=True):
    """A course of a plan, into or out of the 购物车."""

    plan_id: Id
    course_id: Id


class PaymentChoice(msgspec.Struct, kw_only=True):
    """How to pay an order: balance, alipay or bank (with the bank's code)."""

    method: str = ""
    bank: str | None = None


class InvoiceRequest(msgspec.Struct, kw_only=True):
    """发票申请: the paid order, 发票抬头, 纳税人识别号 and the amount in yuan (as typed)."""

    order_id: Id | None = None
    title: str = ""
    tax_number: str = ""
    amount: str = ""


class NewNote(msgspec.Struct, kw_only=True):
    """A note at a moment (seconds into the chapter's video)."""

    position_s: Annotated[float, msgspec.Meta(ge=0, le=1e7)]
    body: str = ""


class NoteText(msgspec.Struct, kw_only=True):
    body: str = ""


class Letter(msgspec.Struct, kw_only=True):
    """写站内信: to a learner of one's organisation, by username."""

    recipient: str = ""
    title: str = ""
    body: str = ""


class LetterReport(msgspec.Struct, kw_only=True):
    reason: str = ""


class ReadAll(msgspec.Struct, kw_only=True):
    """全部标为已读, of one tab (or every tab)."""

    kind: str | None = None


class Blocking(msgspec.Struct, kw_only=True):
    """屏蔽 or 取消屏蔽 a sender."""

    learner_id: Id


class CourseSearch(msgspec.Struct, kw_only=True):
    """The query of a plan's courses: any part of a course's name."""

    q: str | None = None


class CartItemQuery(msgspec.Struct, kw_only=True):
    """The query of 删除 from the 购物车: the plan the course was chosen in."""

    plan_id: Id


class OrderFilters(msgspec.Struct, kw_only=True):
    """The query of 我的订单: status, any part of a course's name, order dates (年-月-日)."""

    status: Literal["unpaid", "paid", "cancelled", "refunded"] | None = None
    q: str | None = None
    since: date | None = msgspec.field(default=None, name="from")
    until: date | None = msgspec.field(default=None, name="to")


class AccountPage(msgspec.Struct, kw_only=True):
    """The query of 我的账户: records older than `before` (an id), at most `limit` of them."""

    before: Id | None = None
    limit: Id | None = None


class RoomPage(msgspec.Struct, kw_only=True):
    """The query of a room's older messages: those before this `seq`."""

    before_seq: Id
