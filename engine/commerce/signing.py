"""Alipay-style RSA2 signatures (RSA PKCS#1 v1.5 over SHA-256, base64) and their keys."""

import base64
import os
import secrets
from collections.abc import Collection, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGN_TYPE = "RSA2"
KEY_BITS = 2048
# What is left out of the signed content. Alipay signs a request's sign_type with the rest,
# but verifies notifications and browser returns without it.
REQUEST_UNSIGNED = frozenset({"sign"})
RESPONSE_UNSIGNED = frozenset({"sign", "sign_type"})


def content_to_sign(
    params: Mapping[str, str], unsigned: Collection[str] = RESPONSE_UNSIGNED
) -> str:
    """The signed text: non-empty parameters but the unsigned ones, sorted, as k=v joined by &."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key not in unsigned and params[key]
    )


def sign(
    params: Mapping[str, str],
    private_key: rsa.RSAPrivateKey,
    unsigned: Collection[str] = RESPONSE_UNSIGNED,
) -> str:
    """The base64 RSA2 signature of `params`."""
    signature = private_key.sign(
        content_to_sign(params, unsigned).encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(signature).decode("ascii")


def signed(
    params: Mapping[str, str],
    private_key: rsa.RSAPrivateKey,
    unsigned: Collection[str] = RESPONSE_UNSIGNED,
) -> dict[str, str]:
    """`params` with sign_type=RSA2 and their signature added."""
    result = {**params, "sign_type": SIGN_TYPE}
    result["sign"] = sign(result, private_key, unsigned)
    return result


def verify(
    params: Mapping[str, str],
    public_key: rsa.RSAPublicKey,
    unsigned: Collection[str] = RESPONSE_UNSIGNED,
) -> bool:
    """Whether sign_type is RSA2 and params["sign"] is its signature of the other parameters."""
    if params.get("sign_type") != SIGN_TYPE:
        return False
    try:
        signature = base64.b64decode(params.get("sign", ""), validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII at all
        return False
    if not signature:
        return False
    try:
        public_key.verify(
            signature,
            content_to_sign(params, unsigned).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return False
    return True


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: not an RSA private key")
    return key


def load_public_key(path: Path) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path}: not an RSA public key")
    return key


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def generated_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The key stored at `path`, generated (mode 0600) on first use.

    The new key is written to a private temporary file and linked into place, so engine
    processes starting together all end up with the one key that won.
    """
    if path.exists():
        return load_private_key(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(private_key_pem(key))
        try:
            os.link(temporary, path)
        except FileExistsError:
            return load_private_key(path)
    finally:
        temporary.unlink()
    return key
