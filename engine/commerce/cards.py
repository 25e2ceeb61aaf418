"""学习卡 (F14): cards sold offline with a number and a password, redeemed once into a balance."""

import asyncio
import csv
import io
import os
import re
import secrets
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import asyncpg
import structlog

from engine.accounts.passwords import HASHER, dummy_hash, verify_password
from engine.commerce import balance, store
from engine.commerce.throttle import CardThrottle
from engine.commerce.types import CardBatch, NewBatch
from engine.db import Connection
from engine.errors import Conflict, DomainError, InvalidInput

log = structlog.get_logger(__name__)

CARD_NO_LENGTH = 16
# Printed on a card and typed by a person: no 0/O, 1/I/L look-alikes. 31**10 ≈ 2**49.
PASSWORD_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PASSWORD_LENGTH = 10
MAX_PASSWORD_INPUT = 64
MAX_CARDS_PER_CALL = 100_000
MAX_VALUE_FEN = 1_000_000_00  # ¥1,000,000: a typo guard, not a business rule
HASH_THREADS = 8
# Rounds of drawing numbers for cards whose number was taken (odds: cards issued / 9e14).
DRAWS = 10

WRONG = "学习卡卡号或密码错误"
USED = "该学习卡已被使用"
VOID = "该学习卡已作废"
EXPIRED = "该学习卡已过有效期"
ELSEWHERE = "该学习卡仅限发卡单位及其下属单位的学员使用"

CARD_NO = re.compile(r"[0-9]{16}")


class CardRefused(DomainError):
    code = "card_invalid"


def check_digit(payload: str) -> str:
    """The Luhn digit of `payload`: it catches any single mistyped digit and most swaps."""
    total = 0
    for index, character in enumerate(reversed(payload)):
        digit = int(character)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str(-total % 10)


def new_card_no() -> str:
    """16 digits, random (numbers are not guessable in sequence), the last one a check digit."""
    payload = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(CARD_NO_LENGTH - 2)
    )
    return payload + check_digit(payload)


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def normalize_card_no(value: str) -> str:
    """As typed: full-width digits, spaces and dashes between groups are all accepted."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value))


def normalize_password(value: str) -> str:
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value)).upper()


def card_no_error(card_no: str) -> str | None:
    """Why a (normalised) card number cannot be one of ours; None when it can."""
    if not CARD_NO.fullmatch(card_no):
        return "学习卡卡号应为16位数字"
    if check_digit(card_no[:-1]) != card_no[-1]:
        return "学习卡卡号有误，请核对后重新输入"
    return None


CSV_HEADER = ("card_no", "password", "value_fen", "batch", "valid_until")


def cards_csv(batch: CardBatch, issued: list[tuple[str, str]]) -> str:
    """The batch's cards with their passwords, one CSV row each: handed out once, at creation."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    until = batch.valid_until.isoformat() if batch.valid_until else ""
    writer.writerows(
        (card_no, password, batch.value_fen, batch.name, until) for card_no, password in issued
    )
    return out.getvalue()


def batch_errors(batch: NewBatch, today: date | None = None) -> dict[str, str]:
    """Why `batch` cannot be created, by field; `today` (China's date) bounds its validity."""
    errors: dict[str, str] = {}
    if not 1 <= batch.count <= MAX_CARDS_PER_CALL:
        errors["count"] = f"数量应为1–{MAX_CARDS_PER_CALL}"
    if not 1 <= batch.value_fen <= MAX_VALUE_FEN:
        errors["value_fen"] = "面值应为1分至100万元"
    name = batch.name.strip()
    if not name or len(name) > 64 or "\x00" in name:
        errors["name"] = "批次名称应为1–64个字符"
    if batch.valid_until is not None and today is not None and batch.valid_until < today:
        errors["valid_until"] = "有效期不能早于今天"
    return errors


async def hash_passwords(count: int) -> tuple[list[str], list[str]]:
    """`count` new passwords and their argon2 hashes, hashed in one thread per core (argon2
    releases the GIL), off the event loop."""
    passwords = [new_password() for _ in range(count)]
    return passwords, await asyncio.to_thread(_hash_all, passwords)


async def issue(
    connection: Connection,
    batch: NewBatch,
    created_by: int | None,
    passwords: list[str],
    hashes: list[str],
) -> tuple[int, list[tuple[str, str]]]:
    """Insert the batch and one active card per hash, inside the caller's transaction;
    return the batch's id and the cards' (card_no, password).

    The passwords exist only in the return value: the database keeps their hashes.
    """
    batch_id = await store.insert_batch(connection, batch, created_by)
    accepted: dict[int, str] = {}
    pending = list(range(len(hashes)))
    for _ in range(DRAWS):
        drawn = {index: new_card_no() for index in pending}
        taken = await store.insert_cards(
            connection,
            list(drawn.values()),
            [hashes[index] for index in drawn],
            batch.value_fen,
            batch_id,
        )
        # A number already on a card, or drawn twice in this round (the first row in
        # array order got it): those cards draw again.
        pending = []
        for index, card_no in drawn.items():
            if card_no in taken:
                taken.discard(card_no)
                accepted[index] = card_no
            else:
                pending.append(index)
        if not pending:
            break
    else:
        raise RuntimeError("could not draw unused card numbers")
    log.info(
        "study cards generated",
        batch_id=batch_id,
        count=len(hashes),
        value_fen=batch.value_fen,
        org_id=batch.org_id,
    )
    return batch_id, [(accepted[index], passwords[index]) for index in range(len(hashes))]


async def generate(
    pool: asyncpg.Pool, count: int, value_fen: int, batch: str
) -> list[tuple[str, str]]:
    """A platform batch of `count` cards worth `value_fen`, without an end date; their
    (card_no, password). Not audited: the demo's and the tests' cards. Administrators
    create batches through `engine.commerce.admin.create_batch`."""
    new = NewBatch(name=batch.strip(), count=count, value_fen=value_fen)
    errors = batch_errors(new)
    if errors:
        raise InvalidInput(errors)
    passwords, hashes = await hash_passwords(count)
    async with pool.acquire() as connection, connection.transaction():
        _, cards = await issue(connection, new, None, passwords, hashes)
    return cards


async def redeem(
    pool: asyncpg.Pool,
    throttle: CardThrottle,
    learner_id: int,
    card_no: str,
    password: str,
    address: str,
) -> int:
    """充值: credit the card's value to the learner's balance, once; return the new balance.

    Each attempt is counted against the learner and the address before the password is
    verified; only a wrong number or password keeps it. A used or void card is named only to
    someone who gave its password, and that is no guess: it is given back. The password is
    verified before the card row is locked (argon2 takes tens of milliseconds); the locked row
    is then checked again, so of any number of concurrent redemptions exactly one credits it.
    A card is usable while neither it nor its batch is void, up to its batch's last valid
    day, by the learners of its batch's organisation subtree (every learner: the platform's).
    """
    card_no, password = normalize_card_no(card_no), normalize_password(password)
    missing = {
        field: message
        for field, message, value in (
            ("card_no", "请输入学习卡卡号", card_no),
            ("card_password", "请输入学习卡密码", password),
        )
        if not value
    }
    if missing:
        raise InvalidInput(missing)
    # Reserved before the (slow) verification, so that parallel guesses cannot all pass.
    await throttle.reserve(learner_id, address)
    # The check digit is public: refusing a mistyped number reveals nothing, so it is not counted.
    error = card_no_error(card_no)
    if error is not None:
        await throttle.release(learner_id, address)
        raise InvalidInput({"card_no": error}, error)
    card = await store.card_by_no(pool, card_no, learner_id)
    # An unknown number costs the same argon2 verification as a wrong password.
    known_hash = card["password_hash"] if card is not None else dummy_hash()
    valid = len(password) <= MAX_PASSWORD_INPUT and await verify_password(known_hash, password)
    if card is None or not valid:
        log.info("study card refused", learner_id=learner_id, address=address, card=card_no[-4:])
        raise CardRefused(WRONG)
    await throttle.release(learner_id, address)
    _check_usable(card)
    async with pool.acquire() as connection, connection.transaction():
        locked = await store.lock_card(connection, card["id"], learner_id)
        # Nothing deletes cards or changes their passwords; should that change, refuse.
        if locked is None or locked["password_hash"] != known_hash:
            raise CardRefused(WRONG)
        _check_usable(locked)
        await store.mark_card_used(connection, card["id"], learner_id)
        after = await balance.move(
            connection, learner_id, locked["value_fen"], "recharge", card_id=card["id"]
        )
    log.info(
        "study card redeemed",
        learner_id=learner_id,
        card_id=card["id"],
        value_fen=locked["value_fen"],
    )
    return after


def _check_usable(card: asyncpg.Record) -> None:
    """Refuse a used, void or expired card, or one issued for another organisation."""
    if card["status"] == "used":
        raise Conflict(USED, code="card_used")
    if card["status"] == "void" or card["batch_void"]:
        raise Conflict(VOID, code="card_void")
    if card["expired"]:
        raise Conflict(EXPIRED, code="card_expired")
    if not card["for_learner"]:
        raise Conflict(ELSEWHERE, code="card_elsewhere")


def _hash_all(passwords: list[str]) -> list[str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # Each hash holds 19 MiB while it runs: a cap keeps a big machine's memory in check.
    workers = min(HASH_THREADS, cores or 1)
    with ThreadPoolExecutor(workers, thread_name_prefix="card-hash") as executor:
        return list(executor.map(HASHER.hash, passwords))
