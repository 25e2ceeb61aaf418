"""Starting a payment: by balance at once, or through a gateway that notifies us later."""

from datetime import datetime

import asyncpg
import msgspec

from engine.commerce import orders
from engine.commerce.gateway import Gateway, GatewayUnavailable
from engine.commerce.types import Order
from engine.errors import Conflict, InvalidInput

METHODS = {"balance": "余额支付", "alipay": "支付宝支付", "bank": "银行卡支付"}
BANKS = {
    "boc": "中国银行",
    "icbc": "工商银行",
    "ccb": "中国建设银行",
    "abc": "中国农业银行",
    "bocom": "交通银行",
    "cmb": "招商银行",
}


class PaymentStart(msgspec.Struct, frozen=True, omit_defaults=True):
    """Either the order, already paid, or where to send the learner to pay (the API's reply)."""

    order: Order | None = None
    redirect: str | None = None


def check_method(method: str, bank: str | None) -> None:
    if method not in METHODS:
        raise InvalidInput({"method": "请选择支付方式"})
    if method == "bank" and bank not in BANKS:
        raise InvalidInput({"bank": "请选择银行"})


async def start(
    pool: asyncpg.Pool,
    learner_id: int,
    order_id: int,
    method: str,
    bank: str | None,
    *,
    gateway: Gateway | None = None,
    base_url: str = "",
    now: datetime,
) -> PaymentStart:
    """Pay an unpaid order by `method`; gateway methods answer with the gateway's URL.

    `base_url` is where the gateway reaches the portal (notify and return addresses).
    """
    check_method(method, bank)
    if method == "balance":
        return PaymentStart(order=await orders.pay_with_balance(pool, learner_id, order_id))
    order = await orders.get_order(pool, learner_id, order_id)
    if order.status != "unpaid":
        raise Conflict("该订单已支付或已取消", code="not_unpaid")
    if gateway is None:
        raise GatewayUnavailable("暂不支持在线支付，请选择余额支付")
    if order.amount_fen <= 0:
        raise Conflict("订单金额为0元，请选择余额支付", code="zero_amount")
    url = gateway.payment_url(
        order,
        method,
        bank if method == "bank" else None,
        base_url=base_url,
        now=now,
    )
    return PaymentStart(redirect=url)
