"""Invoice applications (F29, manual §9): the learner asks online, collects at a service point.

One application per order, for at most what the order paid and was not refunded: refunds
take back a whole order, so that is the order's amount while it is 已支付, and nothing
once it is 已退款.
"""

import re
from datetime import datetime

import asyncpg

from engine.commerce import invoice_store, store
from engine.commerce.money import parse_fen, plain_yuan
from engine.commerce.types import InvoiceableOrder, InvoiceApplication
from engine.db import Executor
from engine.errors import InvalidInput

INVOICE_STATUSES = {"paid": "待开票，请到服务点领取", "refunded": "已作废（订单已退款）"}
TITLE_MAX = 100

# 统一社会信用代码 (GB 32100-2015): 18 characters of this alphabet (no I, O, S, V, Z), the last
# a check character over the first 17 with these weights.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE = re.compile(f"[{CREDIT_CODE_ALPHABET}]{{18}}")
# Tax registration numbers issued before the credit code: 15 or 20 digits and capitals.
OLD_TAX_NUMBER = re.compile(r"[0-9A-Z]{15}|[0-9A-Z]{20}")


def credit_code_check(first17: str) -> str:
    """The check character of a 统一社会信用代码 from its first 17 characters."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def valid_tax_number(text: str) -> bool:
    """A 纳税人识别号: an 18-character credit code whose check character holds, or an older
    15- or 20-character tax number."""
    if len(text) == 18:
        return bool(CREDIT_CODE.fullmatch(text)) and credit_code_check(text[:17]) == text[17]
    return bool(OLD_TAX_NUMBER.fullmatch(text))


def _form_errors(
    title: str, tax_number: str, amount: str, amount_fen: int | None
) -> dict[str, str]:
    errors = {}
    if not title:
        errors["title"] = "请填写发票抬头"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"发票抬头不能超过{TITLE_MAX}个字"
    if not tax_number:
        errors["tax_number"] = "请填写纳税人识别号"
    elif not valid_tax_number(tax_number):
        errors["tax_number"] = "纳税人识别号格式不正确：应为18位统一社会信用代码，或15位、20位税号"
    if not amount:
        errors["amount"] = "请填写开票金额"
    elif amount_fen is None:
        errors["amount"] = "开票金额格式不正确，例如 30.00"
    elif amount_fen <= 0:
        errors["amount"] = "开票金额须大于0"
    return errors


async def apply(
    pool: asyncpg.Pool,
    learner_id: int,
    *,
    order_id: int | None,
    title: str,
    tax_number: str,
    amount: str,
    now: datetime,
) -> InvoiceApplication:
    """Record the application; InvalidInput naming each refused field, and nothing stored."""
    title, tax_number, amount = title.strip(), tax_number.strip().upper(), amount.strip()
    amount_fen = parse_fen(amount)
    errors = _form_errors(title, tax_number, amount, amount_fen)
    if order_id is None:
        raise InvalidInput(errors | {"order_id": "请选择订单"})
    async with pool.acquire() as connection, connection.transaction():
        # Locked as a refund locks it: an order cannot be refunded while its invoice is applied for.
        order = await store.lock_order(connection, order_id, learner_id)
        if order is None:
            errors["order_id"] = "订单不存在"
        elif order["status"] == "refunded":
            errors["order_id"] = "该订单已退款，不能申请发票"
        elif order["status"] != "paid":
            errors["order_id"] = "只有已支付的订单可以申请发票"
        elif await invoice_store.has_application(connection, order_id):
            errors["order_id"] = "该订单已申请过发票，每个订单只能申请一次"
        elif amount_fen is not None and amount_fen > order["amount_fen"]:
            errors["amount"] = (
                f"开票金额不能超过该订单已支付且未退款的金额{plain_yuan(order['amount_fen'])}元"
            )
        if errors or amount_fen is None:
            raise InvalidInput(errors, "发票申请未提交，请检查填写的信息")
        application_id = await invoice_store.insert_application(
            connection, learner_id, order_id, title, tax_number, amount_fen, now
        )
    found = await applications(pool, learner_id)
    return next(application for application in found if application.id == application_id)


async def applications(db: Executor, learner_id: int) -> list[InvoiceApplication]:
    """The learner's applications, newest first; one whose order was refunded no longer stands."""
    return await invoice_store.applications(db, learner_id)


async def invoiceable_orders(db: Executor, learner_id: int) -> list[InvoiceableOrder]:
    """The learner's paid orders that may still be invoiced."""
    return await invoice_store.invoiceable_orders(db, learner_id)
