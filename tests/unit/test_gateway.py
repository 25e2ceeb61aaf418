"""Our side of the gateway without a server: amounts, the signed request, configuration."""

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.commerce import signing
from engine.commerce.gateway import Gateway, load_gateway, order_subject, sandbox_enabled
from engine.commerce.money import parse_fen, plain_yuan
from engine.commerce.types import Order, OrderItem
from engine.settings import SettingsError, load_settings
from web.middleware import CONTENT_SECURITY_POLICY, security_headers_for


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (1, "0.01"), (10, "0.10"), (1230, "12.30"), (100000, "1000.00")]
)
def test_plain_yuan(fen: int, text: str) -> None:
    assert plain_yuan(fen) == text
    assert parse_fen(text) == fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("12.3", 1230),
        ("12", 1200),
        ("0.1", 10),
        ("12.301", None),
        ("012.30", None),
        ("-12.30", None),
        ("+12.30", None),
        ("1e3", None),
        ("12.30 ", None),
        ("１２.30", None),
        ("NaN", None),
        ("", None),
        ("12,30", None),
    ],
)
def test_parse_fen_takes_plain_amounts_only(text: str, fen: int | None) -> None:
    assert parse_fen(text) == fen


def order(items: int = 1, amount_fen: int = 1230) -> Order:
    return Order(
        id=7,
        out_trade_no="20240101120000ABCDE",
        status="unpaid",
        amount_fen=amount_fen,
        method=None,
        bank=None,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        paid_at=None,
        closed_at=None,
        items=[OrderItem(1, 10 + index, f"课程{index}", 2.0, 1000) for index in range(items)],
    )


def test_subject_names_the_first_course_and_counts_the_rest() -> None:
    assert order_subject(order(1)) == "课程0"
    assert order_subject(order(3)) == "课程0等3门课程"


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    generate = rsa.generate_private_key
    return generate(public_exponent=65537, key_size=2048), generate(65537, 2048)


def request_params(
    keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey], provider: str, bank: str | None
) -> tuple[str, dict[str, str]]:
    ours, theirs = keys
    gateway = Gateway(
        app_id="app", seller_id="seller", private_key=ours, gateway_public_key=theirs.public_key()
    )
    url = gateway.payment_url(
        order(),
        provider,
        bank,
        base_url="https://jixu.example",
        now=datetime(2024, 1, 1, 4, tzinfo=UTC),
    )
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", dict(parse_qsl(parts.query))


def test_alipay_request_is_signed_with_our_key(
    keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
) -> None:
    address, params = request_params(keys, "alipay", None)
    assert address == "https://jixu.example/sandbox/gateway"
    assert signing.verify(params, keys[0].public_key(), signing.REQUEST_UNSIGNED)
    assert not signing.verify(params, keys[1].public_key(), signing.REQUEST_UNSIGNED)
    business = msgspec.json.decode(params.pop("biz_content"))
    del params["sign"]
    assert params == {
        "app_id": "app",
        "method": "alipay.trade.page.pay",
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2024-01-01 12:00:00",  # Beijing time
        "version": "1.0",
        "notify_url": "https://jixu.example/api/v1/payments/alipay/notify",
        "return_url": "https://jixu.example/payments/return",
    }
    assert business == {
        "out_trade_no": "20240101120000ABCDE",
        "product_code": "FAST_INSTANT_TRADE_PAY",
        "total_amount": "12.30",
        "subject": "课程0",
        "quit_url": "https://jixu.example/orders/7/pay",
    }


def test_bank_request_names_the_bank(keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]) -> None:
    _, params = request_params(keys, "bank", "icbc")
    assert params["notify_url"] == "https://jixu.example/api/v1/payments/bank/notify"
    business = msgspec.json.decode(params["biz_content"])
    assert business["bank_code"] == "icbc"
    assert business["passback_params"] == "bank=icbc"


def test_production_without_a_gateway_has_no_online_payment(tmp_path: Path) -> None:
    settings = load_settings({}, env="production", data_dir=str(tmp_path))
    assert load_gateway(settings) is None
    assert list(tmp_path.iterdir()) == []


def test_a_half_configured_gateway_is_refused(tmp_path: Path) -> None:
    settings = load_settings({"JIXU_ENV": "production", "JIXU_GATEWAY_APP_ID": "app"})
    with pytest.raises(SettingsError, match=r"JIXU_GATEWAY_URL.*JIXU_GATEWAY_PUBLIC_KEY"):
        load_gateway(settings)


def test_production_gateway_reads_its_keys(
    tmp_path: Path, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    (tmp_path / "ours.pem").write_bytes(signing.private_key_pem(keys[0]))
    (tmp_path / "theirs.pem").write_bytes(signing.public_key_pem(keys[1].public_key()))
    settings = load_settings(
        {
            "JIXU_ENV": "production",
            "JIXU_GATEWAY_URL": "https://openapi.alipay.com/gateway.do",
            "JIXU_GATEWAY_APP_ID": "app",
            "JIXU_GATEWAY_SELLER_ID": "seller",
            "JIXU_GATEWAY_PRIVATE_KEY": str(tmp_path / "ours.pem"),
            "JIXU_GATEWAY_PUBLIC_KEY": str(tmp_path / "theirs.pem"),
        }
    )
    gateway = load_gateway(settings)
    assert gateway is not None
    assert gateway.url == "https://openapi.alipay.com/gateway.do"
    assert gateway.gateway_public_key.public_numbers() == keys[1].public_key().public_numbers()


def test_sandbox_keys_are_generated_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings({}, env="development", data_dir=str(tmp_path))
    gateway = load_gateway(settings)
    assert gateway is not None
    assert gateway.url is None
    assert sorted(path.name for path in (tmp_path / "keys").iterdir()) == [
        "merchant.pem",
        "sandbox_gateway.pem",
    ]
    again = load_gateway(settings)
    assert again is not None
    assert again.private_key.private_numbers() == gateway.private_key.private_numbers()


@pytest.mark.parametrize(
    ("env", "value", "on"),
    [("development", None, True), ("test", None, True), ("production", None, False),
     ("production", True, True), ("development", False, False)],
)  # fmt: skip
def test_sandbox_default(env: str, value: bool | None, on: bool, tmp_path: Path) -> None:
    settings = load_settings({}, env=env, sandbox_gateway=value, data_dir=str(tmp_path))
    assert sandbox_enabled(settings) is on


def test_no_sandbox_unless_told() -> None:
    assert not sandbox_enabled(load_settings({}))


@pytest.mark.parametrize("env", ["development", "test"])
def test_a_real_gateway_replaces_the_default_sandbox(env: str) -> None:
    settings = load_settings({"JIXU_GATEWAY_URL": "https://openapi.alipay.com/gateway.do"}, env=env)
    assert not sandbox_enabled(settings)


def test_a_real_gateway_is_allowed_as_the_pay_forms_target() -> None:
    assert security_headers_for(None, False)["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    policy = security_headers_for("https://openapi.alipay.com/gateway.do?charset=utf-8", False)
    assert "form-action 'self' https://openapi.alipay.com;" in policy["Content-Security-Policy"]
