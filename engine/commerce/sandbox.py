"""The built-in sandbox gateway: a stand-in for Alipay and the banks' pages in development.

It behaves as the real gateway does towards us: it checks our signed request, and on
payment signs with its own key an asynchronous notification, POSTed to our notify URL with
retries, and a return for the learner's browser. It keeps no state: one out_trade_no always
gets the same trade_no, as a real gateway pays an order number only once.
"""

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode, urlsplit

import aiohttp
import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.clock import china_time
from engine.commerce import signing
from engine.commerce.gateway import (
    PAGE_PAY,
    TIMESTAMP_FORMAT,
    Gateway,
    PaymentRefused,
    sandbox_key,
)
from engine.commerce.money import parse_fen
from engine.commerce.payments import BANKS
from engine.settings import Settings

log = structlog.get_logger(__name__)

NOTIFY_TIMEOUT_S = 3.0
# Pauses between attempts; a real gateway goes on for hours, the sandbox for a moment.
NOTIFY_RETRY_DELAYS_S = (0.2, 0.5)
SANDBOX_BUYER_ID = "2088102177846880"
SANDBOX_BUYER_LOGON_ID = "lea***@sandbox.example"


class Checkout(msgspec.Struct, frozen=True):
    """A verified payment request, as the gateway's page shows it."""

    out_trade_no: str
    subject: str
    total_amount: str
    bank: str | None
    notify_url: str
    return_url: str
    quit_url: str | None
    passback_params: str | None


class Sandbox:
    def __init__(
        self,
        gateway: Gateway,
        private_key: rsa.RSAPrivateKey,
        session: aiohttp.ClientSession,
        clock: Callable[[], int],
    ) -> None:
        # The merchant it knows, as the real gateway knows our app and uploaded public key.
        self.app_id = gateway.app_id
        self.seller_id = gateway.seller_id
        self.merchant_key = gateway.private_key.public_key()
        self.private_key = private_key
        self.session = session
        self.clock = clock

    def checkout(self, params: dict[str, str]) -> Checkout:
        """Our signed request, checked; PaymentRefused when it is not one."""
        if not signing.verify(params, self.merchant_key, signing.REQUEST_UNSIGNED):
            raise PaymentRefused("支付请求签名错误")
        if params.get("app_id") != self.app_id or params.get("method") != PAGE_PAY:
            raise PaymentRefused("支付请求的应用或接口不正确")
        try:
            business = msgspec.json.decode(params.get("biz_content", ""), type=dict[str, str])
        except msgspec.DecodeError:
            raise PaymentRefused("支付请求内容不正确") from None
        amount = business.get("total_amount", "")
        bank = business.get("bank_code")
        urls = [params.get("notify_url", ""), params.get("return_url", "")]
        if (
            not business.get("out_trade_no")
            or not parse_fen(amount)
            or (bank is not None and bank not in BANKS)
            or not all(_web_address(url) for url in urls)
        ):
            raise PaymentRefused("支付请求内容不正确")
        quit_url = business.get("quit_url")
        return Checkout(
            out_trade_no=business["out_trade_no"],
            subject=business.get("subject", ""),
            total_amount=amount,
            bank=bank,
            notify_url=urls[0],
            return_url=urls[1],
            quit_url=quit_url if quit_url and _web_address(quit_url) else None,
            passback_params=business.get("passback_params"),
        )

    async def pay(self, params: dict[str, str]) -> str:
        """确认支付: notify the merchant, then the address that returns the browser."""
        checkout = self.checkout(params)
        trade_no = self.trade_no(checkout.out_trade_no)
        notification = self.notification(checkout, trade_no)
        if not await self._deliver(checkout.notify_url, notification):
            log.warning("sandbox notification not acknowledged", out_trade_no=checkout.out_trade_no)
        returned = self.sign(
            {
                "app_id": self.app_id,
                "auth_app_id": self.app_id,
                "charset": "utf-8",
                "method": f"{PAGE_PAY}.return",
                "out_trade_no": checkout.out_trade_no,
                "seller_id": self.seller_id,
                "timestamp": self._now().strftime(TIMESTAMP_FORMAT),
                "total_amount": checkout.total_amount,
                "trade_no": trade_no,
                "version": "1.0",
            }
        )
        separator = "&" if "?" in checkout.return_url else "?"
        return f"{checkout.return_url}{separator}{urlencode(returned)}"

    def trade_no(self, out_trade_no: str) -> str:
        """The gateway's trade number: 28 digits, the same for the same order number."""
        digest = hashlib.sha256(f"{self.app_id}:{out_trade_no}".encode()).digest()
        return f"{int.from_bytes(digest) % 10**28:028d}"

    def notification(self, checkout: Checkout, trade_no: str) -> dict[str, str]:
        """The signed asynchronous notification of a successful payment."""
        now = self._now().strftime(TIMESTAMP_FORMAT)
        params = {
            "notify_time": now,
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": self.app_id,
            "auth_app_id": self.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade_no,
            "out_trade_no": checkout.out_trade_no,
            "buyer_id": SANDBOX_BUYER_ID,
            "buyer_logon_id": SANDBOX_BUYER_LOGON_ID,
            "seller_id": self.seller_id,
            "trade_status": "TRADE_SUCCESS",
            "total_amount": checkout.total_amount,
            "receipt_amount": checkout.total_amount,
            "buyer_pay_amount": checkout.total_amount,
            "invoice_amount": checkout.total_amount,
            "point_amount": "0.00",
            "subject": checkout.subject,
            "gmt_create": now,
            "gmt_payment": now,
        }
        if checkout.passback_params:
            params["passback_params"] = checkout.passback_params
        return self.sign(params)

    def sign(self, params: dict[str, str]) -> dict[str, str]:
        return signing.signed(params, self.private_key)

    async def close(self) -> None:
        await self.session.close()

    async def _deliver(self, url: str, params: dict[str, str]) -> bool:
        """POST the notification until it is answered `success`, a few times at most."""
        for attempt in range(len(NOTIFY_RETRY_DELAYS_S) + 1):
            if attempt:
                await asyncio.sleep(NOTIFY_RETRY_DELAYS_S[attempt - 1])
            try:
                async with self.session.post(url, data=params) as response:
                    answer = await response.text()
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("sandbox notification failed", attempt=attempt, error=repr(exc))
                continue
            if response.status == 200 and answer.strip() == "success":
                return True
            log.warning("sandbox notification refused", attempt=attempt, status=response.status)
        return False

    def _now(self) -> datetime:
        return china_time(self.clock())


async def open_sandbox(settings: Settings, gateway: Gateway, clock: Callable[[], int]) -> Sandbox:
    key = await asyncio.to_thread(sandbox_key, settings)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=NOTIFY_TIMEOUT_S))
    return Sandbox(gateway, key, session, clock)


def _web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)
