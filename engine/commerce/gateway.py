"""Gateway payments (F12 支付宝, F13 银行卡): the signed request out, the signed notification in.

The protocol is Alipay's page payment (alipay.trade.page.pay) with RSA2 signatures. The
learner's browser is sent to the gateway with our signed request; the gateway tells us the
result twice: an asynchronous notification, server to server, which is the only thing that
marks an order paid, and a signed return of the browser, which only shows the result.
"""

import asyncio
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import asyncpg
import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.clock import CHINA
from engine.commerce import orders, signing, store
from engine.commerce.money import parse_fen, plain_yuan
from engine.commerce.types import Order
from engine.errors import DomainError, NotFound
from engine.settings import ENVIRONMENT_NAMES, Settings, SettingsError

log = structlog.get_logger(__name__)

PROVIDERS = frozenset({"alipay", "bank"})
PAGE_PAY = "alipay.trade.page.pay"
PAID_TRADE_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
# The portal's own addresses that gateways call back (routes in web/routes.py).
NOTIFY_PATH = "/api/v1/payments/{provider}/notify"
RETURN_PATH = "/payments/return"
QUIT_PATH = "/orders/{order_id}/pay"
SANDBOX_PATH = "/sandbox/gateway"
# The merchant the built-in sandbox knows when no app is configured.
SANDBOX_APP_ID = "2021000000000001"
SANDBOX_SELLER_ID = "2088000000000001"
KEYS_FOLDER = "keys"
SUBJECT_MAX = 128
BANK_CODE = re.compile(r"[a-z]{2,16}")


class GatewayUnavailable(DomainError):
    status = 503
    code = "gateway_unavailable"


class PaymentRefused(DomainError):
    """A gateway message failed verification."""

    status = 400
    code = "payment_refused"


def order_subject(order: Order) -> str:
    if not order.items:
        return f"订单{order.out_trade_no}"
    subject = order.items[0].title
    if len(order.items) > 1:
        subject += f"等{len(order.items)}门课程"
    return subject[:SUBJECT_MAX]


class Gateway:
    """Our side of the gateway: our app and signing key, and the gateway's public key."""

    def __init__(
        self,
        *,
        app_id: str,
        seller_id: str,
        private_key: rsa.RSAPrivateKey,
        gateway_public_key: rsa.RSAPublicKey,
        url: str | None = None,
    ) -> None:
        self.app_id = app_id
        self.seller_id = seller_id
        self.private_key = private_key
        self.gateway_public_key = gateway_public_key
        # None: the built-in sandbox, served by the portal itself.
        self.url = url

    def payment_url(
        self, order: Order, provider: str, bank: str | None, *, base_url: str, now: datetime
    ) -> str:
        """Where to send the learner: the gateway's page with our signed request."""
        business: dict[str, str] = {
            "out_trade_no": order.out_trade_no,
            "product_code": "FAST_INSTANT_TRADE_PAY",
            "total_amount": plain_yuan(order.amount_fen),
            "subject": order_subject(order),
            "quit_url": base_url + QUIT_PATH.format(order_id=order.id),
        }
        if provider == "bank" and bank is not None:
            business["bank_code"] = bank
            # Echoed back in the notification, so the order records the bank.
            business["passback_params"] = urlencode({"bank": bank})
        params = {
            "app_id": self.app_id,
            "method": PAGE_PAY,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": signing.SIGN_TYPE,
            "timestamp": now.astimezone(CHINA).strftime(TIMESTAMP_FORMAT),
            "version": "1.0",
            "notify_url": base_url + NOTIFY_PATH.format(provider=provider),
            "return_url": base_url + RETURN_PATH,
            "biz_content": msgspec.json.encode(business).decode(),
        }
        params["sign"] = signing.sign(params, self.private_key, signing.REQUEST_UNSIGNED)
        return f"{self.url or base_url + SANDBOX_PATH}?{urlencode(params)}"

    async def handle_notify(
        self, pool: asyncpg.Pool, provider: str, params: dict[str, str]
    ) -> bool:
        """Apply an asynchronous notification; True when the gateway is to hear `success`.

        A verified duplicate is acknowledged and changes nothing; a refusal is logged and
        changes nothing.
        """
        out_trade_no, trade_no = params.get("out_trade_no", ""), params.get("trade_no", "")
        bound = log.bind(provider=provider, out_trade_no=out_trade_no, trade_no=trade_no)
        reason = self._refusal(params) if provider in PROVIDERS else "unknown_provider"
        amount_fen = parse_fen(params.get("total_amount", ""))
        if reason is None and not trade_no:
            reason = "no_trade_no"
        if reason is None and amount_fen is None:
            reason = "bad_amount"
        if reason is not None or amount_fen is None:
            bound.warning("payment notification refused", reason=reason)
            return False
        async with pool.acquire() as connection, connection.transaction():
            # The row lock serialises concurrent copies of one notification.
            order = await store.lock_order_by_trade_no(connection, out_trade_no)
            if order is None or order["amount_fen"] != amount_fen:
                reason = "unknown_order" if order is None else "amount_mismatch"
                bound.warning(
                    "payment notification refused",
                    reason=reason,
                    total_amount=params["total_amount"],
                )
                return False
            if params.get("trade_status") not in PAID_TRADE_STATUSES:
                bound.info(
                    "payment notification without payment", trade_status=params.get("trade_status")
                )
                return True
            known = await store.payment_order_id(connection, provider, trade_no)
            if known is not None:
                bound.info("payment notification repeated", order_id=known)
                return True
            if order["status"] != "unpaid":
                # Money arrived for an order paid another way or cancelled: acknowledged so
                # the gateway stops retrying, and left to an operator to refund at the gateway.
                bound.error(
                    "payment for an order that is not unpaid",
                    order_id=order["id"],
                    status=order["status"],
                )
                return True
            inserted = await store.insert_payment(
                connection,
                order["id"],
                provider,
                trade_no,
                amount_fen,
                msgspec.json.encode(params).decode(),
            )
            if not inserted:
                bound.info("payment notification repeated", order_id=order["id"])
                return True
            await orders.mark_paid(
                connection, order["id"], method=provider, bank=_bank(provider, params)
            )
        bound.info("payment notification applied", order_id=order["id"])
        return True

    async def verify_return(self, pool: asyncpg.Pool, params: dict[str, str]) -> int:
        """The order a signed browser return speaks of; it never changes anything itself."""
        reason = self._refusal(params)
        if reason is not None:
            log.warning(
                "payment return refused", reason=reason, out_trade_no=params.get("out_trade_no")
            )
            raise PaymentRefused("支付结果校验失败，请在订单中查看支付状态")
        order_id = await store.order_id_by_trade_no(pool, params.get("out_trade_no", ""))
        if order_id is None:
            raise NotFound(orders.NOT_FOUND)
        return order_id

    def _refusal(self, params: dict[str, str]) -> str | None:
        if not signing.verify(params, self.gateway_public_key):
            return "bad_signature"
        if params.get("app_id") != self.app_id:
            return "wrong_app_id"
        if params.get("seller_id") != self.seller_id:
            return "wrong_seller_id"
        return None


def _bank(provider: str, params: dict[str, str]) -> str | None:
    if provider != "bank":
        return None
    bank = parse_qs(params.get("passback_params", "")).get("bank", [""])[0]
    return bank if BANK_CODE.fullmatch(bank) else None


def sandbox_enabled(settings: Settings) -> bool:
    """The built-in sandbox: in development and test, or when asked; never beside a real one."""
    if settings.gateway_url:
        return False
    if settings.sandbox_gateway is None:
        return settings.env != "production"
    return settings.sandbox_gateway


def online_payment(settings: Settings) -> bool:
    """Whether learners can pay through a gateway (a real one configured, or the sandbox)."""
    return bool(settings.gateway_url) or sandbox_enabled(settings)


def sandbox_key(settings: Settings) -> rsa.RSAPrivateKey:
    """The sandbox gateway's own key pair, generated on first use."""
    return signing.generated_private_key(
        Path(settings.data_dir) / KEYS_FOLDER / "sandbox_gateway.pem"
    )


def load_gateway(settings: Settings) -> Gateway | None:
    """Our gateway from the settings; None when online payment is not configured.

    Blocking (files, key generation): run it in a thread.
    """
    if sandbox_enabled(settings):
        private_key_path = settings.gateway_private_key
        private_key = (
            signing.load_private_key(Path(private_key_path))
            if private_key_path
            else signing.generated_private_key(
                Path(settings.data_dir) / KEYS_FOLDER / "merchant.pem"
            )
        )
        return Gateway(
            app_id=settings.gateway_app_id or SANDBOX_APP_ID,
            seller_id=settings.gateway_seller_id or SANDBOX_SELLER_ID,
            private_key=private_key,
            gateway_public_key=sandbox_key(settings).public_key(),
        )
    required = {
        "gateway_url": settings.gateway_url,
        "gateway_app_id": settings.gateway_app_id,
        "gateway_seller_id": settings.gateway_seller_id,
        "gateway_private_key": settings.gateway_private_key,
        "gateway_public_key": settings.gateway_public_key,
    }
    missing = [ENVIRONMENT_NAMES[field] for field, value in required.items() if not value]
    if len(missing) == len(required):
        log.info("online payment off: no gateway configured")
        return None
    if missing:
        raise SettingsError(f"the payment gateway also needs {', '.join(missing)}")
    assert settings.gateway_private_key is not None
    assert settings.gateway_public_key is not None
    return Gateway(
        app_id=settings.gateway_app_id,
        seller_id=settings.gateway_seller_id,
        private_key=signing.load_private_key(Path(settings.gateway_private_key)),
        gateway_public_key=signing.load_public_key(Path(settings.gateway_public_key)),
        url=settings.gateway_url,
    )


async def open_gateway(settings: Settings) -> Gateway | None:
    return await asyncio.to_thread(load_gateway, settings)
