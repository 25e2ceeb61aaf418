"""RSA2 signatures as Alipay specifies them, against a fixed key and openssl's answer."""

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.commerce import signing

FIXED_KEY_PEM = b"""-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDnZmUXS53eZrhp
kLBHwHj49NaR1co8OwrGJXzudhU/IVuGPzB2G38Tr4zuflRKPx8VtRhrxSf/QEud
899JFXdbIYQT8bcoUdPL9HrGaGytbJ61eGOPnwzF/gvzqaygnvaD4ir40VJBLyLO
nXjxmvtUjp7WILSjFG9NORDPTWuGhFnAC6u75mbttKnw8HvxD5A3herYQ3eZnuO+
t/I42zBZM4C4yF4AII1bX5sKRAPvXkCodWvnxRq+o8rt7A80reyUf4VKRmcPorQA
RCEq1tmvu35q4wgisFKVoKfH2wEccirvMt2ztl9ob3T5O4hOcFq6lEXrL0dKQ8nq
2HyUDAz7AgMBAAECggEADguvEyzp1jgR9YZszM4oCaSC6bM6ZVGII+LepHLSc1SJ
A6sOO/0LR5yeR1OvthoCvwSRCOmcteenL11ALmV5KzTrmXJQlcfxvS2HzkdEYXp4
X7eBA5S558K14wJnkhBUEklGJng+L+q2iCgS0UeA/e7yQTkW/dcdsmhGVu7yGeYN
KD6F8YGg48KvWH9X69JY/a+hAjXsABG98p9QMG24U6sQDiowoVacDtue94GG1oHi
BUl8lLOyfcRPPQ92uRoNhgHv3NuaEGswnGUsl4YlrVNkPPVP0hCDjlOi05CQDn6P
obtXVZuKiF6cqkfZjfDb8AJlcpBWWRxfu4F08ZtLwQKBgQD1YoAUNva1qizRMq9Y
HgVE/mNrwAfHDHIK6WWys8IhncDSJJceFmMpLRfDH/EVQ6BL4enV33NmM17C7pWR
QNSP5abXU+tKHSwaFeAWheghMb3v57hMSmZXDOFgWjmr3fj8ps8TbLQWjpsAKQMZ
zbNckG6nVN/X+Xuak26uRJAhcQKBgQDxaQVWZCSx0WTlR8yA7xTLq+b9HCnJIp8j
dd4Z9C27HIhzjTnzXLmRpiDbMHAgeod6jnXXykOZa9A6fdABlZXACqZc9DPMPva6
YG4Ea94KQW3Rav+x+XlfGZh2tylmzxntyAFjgeaadRtOyX6Wi2T25q66dHlVvPqV
ixPM04XfKwKBgQC2sBba9fDHX2LufOW+nNsfeqVaWyVvM/zT0uA8I0is7l3YFhXL
+K7qwP+n7ef3BNoapJ8K88lelXA/gJEqCzI1z6xfM8NA8mcbJJ4pJpij3fyi18mG
Qv3eYWCJ86JsKl5s+2O/+nY5NQKBJAeC9npKt90qBy6ABOXZN1p3s+P6gQKBgEfP
rMXJHl1C45eMpxnHhNEdPqYWRZvOT7Z1rm7cAuqBD1oILa/l6lGYMHfjTcdri3d6
fzWEtl0iBBwSJtkBzT0GLfzCq9Ha/PvuCWwJRlCYq/k6sfsYMfGHJKJT094ARz9D
Wp5mGtnhchEawSw5JPyJHHrcgOdvQr9PUsGAPndnAoGAD+HZxRl9GbcPIiFfvIiU
qXKXuQ+jNy/uoIbqM/qPKyN6sEEw8eI3+LH2dw+6oDHH8LrX55AxCMm/HzWW4Cni
hTTMaRMWscPKeDAFmk3SBMzID1fJTuahruhyhYkCz2tu+tYAJpE8dqr2Z5rOwIoi
1jDp9rBmtpcOBs3zh2T/WXU=
-----END PRIVATE KEY-----
"""
# `openssl dgst -sha256 -sign fixed.pem content.txt | base64` of EXPECTED_CONTENT.
EXPECTED_SIGNATURE = (
    "2WAGP8TwmZRDuVBY5eAiBglUsb7beaj2RdJA5siuhpzN//TyZKOAGGcbgniUFVsVaZ1OPOOhgch3"
    "ARZOJJGSQ2mtXwJv1v3YiG5VCf4Hqhr9FDJKFxM+6qmWJIFy8I5NlFNPeC0lbqXpdATBtoyB8Wfo"
    "Obl8N12otKy4UeR26jO+z6PM+otnjG6Mwjot6d/0g6hd6sftAXaV7m6XThvT4B6o+hW5TFt0nYQ5"
    "sRmKkPjKsw6YBpcE49M3VgHrD2+2lWg5xrbrAaRHZWCAWk1xga/yayFJOnEVQp6WeNpZ85NosyJR"
    "LtpbqY0qwqJMGPEx6An6C0mYlIxCNQp87kh8xg=="
)
EXPECTED_CONTENT = (
    "app_id=2021000000000001&out_trade_no=20240101120000ABCDE"
    "&subject=专业技术人员继续教育&total_amount=12.30&trade_status=TRADE_SUCCESS"
)
NOTIFICATION = {
    "trade_status": "TRADE_SUCCESS",
    "total_amount": "12.30",
    "subject": "专业技术人员继续教育",
    "out_trade_no": "20240101120000ABCDE",
    "app_id": "2021000000000001",
    "passback_params": "",
    "sign_type": "RSA2",
    "sign": "left out",
}


def fixed_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(FIXED_KEY_PEM, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("params", "unsigned", "content"),
    [
        pytest.param(NOTIFICATION, signing.RESPONSE_UNSIGNED, EXPECTED_CONTENT, id="notification"),
        pytest.param({"b": "2", "a": "1", "c": ""}, signing.RESPONSE_UNSIGNED, "a=1&b=2", id="empty-dropped"),
        pytest.param({"a": "x y&z", "B": "1"}, signing.RESPONSE_UNSIGNED, "B=1&a=x y&z", id="raw-values-ascii-order"),
        pytest.param({"sign": "s", "sign_type": "RSA2", "a": "1"}, signing.REQUEST_UNSIGNED, "a=1&sign_type=RSA2", id="request-signs-sign-type"),
        pytest.param({"sign": "s", "sign_type": "RSA2"}, signing.RESPONSE_UNSIGNED, "", id="nothing-left"),
        pytest.param({"biz_content": '{"total_amount":"1.00"}', "app_id": "9"}, signing.REQUEST_UNSIGNED, 'app_id=9&biz_content={"total_amount":"1.00"}', id="json-verbatim"),
    ],
)  # fmt: skip
def test_content_to_sign(params: dict[str, str], unsigned: frozenset[str], content: str) -> None:
    assert signing.content_to_sign(params, unsigned) == content


def test_signature_matches_openssl() -> None:
    assert signing.sign(NOTIFICATION, fixed_key()) == EXPECTED_SIGNATURE


def test_openssl_signature_verifies() -> None:
    params = {**NOTIFICATION, "sign": EXPECTED_SIGNATURE}
    assert signing.verify(params, fixed_key().public_key())


def test_signed_adds_sign_type_and_sign() -> None:
    params = signing.signed({"a": "1"}, fixed_key())
    assert params["sign_type"] == "RSA2"
    assert signing.verify(params, fixed_key().public_key())


def test_request_signature_covers_sign_type() -> None:
    key = fixed_key()
    params = {"app_id": "1", "sign_type": "RSA2"}
    params["sign"] = signing.sign(params, key, signing.REQUEST_UNSIGNED)
    assert signing.verify(params, key.public_key(), signing.REQUEST_UNSIGNED)
    # A notification-style check leaves sign_type out, so it reads another content.
    assert not signing.verify(params, key.public_key())


def tampered(change: str) -> dict[str, str]:
    params = {**NOTIFICATION, "sign": EXPECTED_SIGNATURE}
    if change == "value":
        params["total_amount"] = "0.01"
    elif change == "added":
        params["buyer_id"] = "2088"
    elif change == "removed":
        del params["subject"]
    elif change == "sign-type":
        params["sign_type"] = "RSA"
    elif change == "no-sign-type":
        del params["sign_type"]
    elif change == "not-base64":
        params["sign"] = "***"
    elif change == "non-ascii-sign":  # found by tests/integration/test_fuzz_forms.py: a 500
        params["sign"] = "签名"
    elif change == "empty-sign":
        params["sign"] = ""
    elif change == "no-sign":
        del params["sign"]
    elif change == "truncated":
        params["sign"] = EXPECTED_SIGNATURE[:-8] + "AAAAAAA="
    return params


@pytest.mark.parametrize(
    "change",
    ["value", "added", "removed", "sign-type", "no-sign-type", "not-base64", "non-ascii-sign", "empty-sign", "no-sign", "truncated"],
)  # fmt: skip
def test_tampered_parameters_fail(change: str) -> None:
    assert not signing.verify(tampered(change), fixed_key().public_key())


def test_an_empty_value_may_be_added_or_dropped() -> None:
    """Empty values are not signed, as Alipay specifies; they carry nothing to tamper with."""
    params = {**NOTIFICATION, "sign": EXPECTED_SIGNATURE, "extra": ""}
    assert signing.verify(params, fixed_key().public_key())


def test_another_key_fails() -> None:
    params = {**NOTIFICATION, "sign": EXPECTED_SIGNATURE}
    assert not signing.verify(params, other_key().public_key())


def test_pem_files_round_trip(tmp_path: Path) -> None:
    key = fixed_key()
    (tmp_path / "private.pem").write_bytes(signing.private_key_pem(key))
    (tmp_path / "public.pem").write_bytes(signing.public_key_pem(key.public_key()))
    loaded = signing.load_private_key(tmp_path / "private.pem")
    public = signing.load_public_key(tmp_path / "public.pem")
    params = signing.signed({"a": "1"}, loaded)
    assert signing.verify(params, public)


def test_a_generated_key_is_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "merchant.pem"
    key = signing.generated_private_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = signing.generated_private_key(path)
    assert again.private_numbers() == key.private_numbers()
    assert [entry.name for entry in path.parent.iterdir()] == ["merchant.pem"]


def test_processes_generating_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "shared.pem"
    with ThreadPoolExecutor(4) as pool:
        keys = list(pool.map(lambda _: signing.generated_private_key(path), range(4)))
    numbers = {key.public_key().public_numbers().n for key in keys}
    assert numbers == {signing.load_private_key(path).public_key().public_numbers().n}
