"""Writing a generated population: batches of learners, each batch's rows COPYed in one
transaction."""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

from engine.db import Connection
from engine.population import store
from engine.population.learners import (
    CARD_BATCH,
    CARD_VALUE_FEN,
    USERNAME_PREFIX,
    Ids,
    Rows,
    generate,
)
from engine.population.world import World, load_world

log = structlog.get_logger(__name__)

BATCH = 2_000
COPIERS = 2
# Each table's columns, in the order learners.Rows holds them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "username", "password_hash", "role", "org_id", "real_name", "phone",
              "id_type", "id_number", "birth_date", "gender", "title_status", "title_level",
              "created_at", "updated_at"),
    "accounts": ("learner_id", "balance_fen"),
    "enrolments": ("learner_id", "plan_id", "state", "earned_tenths", "activated_at", "passed_at"),
    "selections": ("learner_id", "plan_id", "course_id", "source", "selected_at",
                   "completed_at"),
    "chapter_progress": ("learner_id", "chapter_id", "hwm_s", "position_s", "position_ms",
                         "complete", "updated_at"),
    "study_cards": ("id", "card_no", "password_hash", "value_fen", "batch_id", "status",
                    "used_by", "used_at", "created_at"),
    "orders": ("id", "out_trade_no", "learner_id", "status", "amount_fen", "method", "bank",
               "created_at", "paid_at", "closed_at"),
    "order_items": ("order_id", "plan_id", "course_id", "title", "hour_tenths", "price_fen"),
    "payments": ("order_id", "provider", "external_id", "amount_fen", "notified_at", "payload"),
    "ledger": ("learner_id", "kind", "amount_fen", "balance_after_fen", "order_id", "card_id",
               "created_at"),
    "exam_attempts": ("id", "exam_id", "learner_id", "number", "started_at", "deadline",
                      "status", "paper", "total_score", "answers", "score", "passed",
                      "submitted_at", "submitted_by"),
    "exam_results": ("learner_id", "exam_id", "best_score", "best_attempt_id", "passed",
                     "passed_at", "passed_score"),
}  # fmt: skip


class NothingToStudy(Exception):
    """No plan with courses and chapters, or no organisation: seed the catalogue first."""


@dataclass
class PopulationReport:
    learners: int
    first: int  # the first learner's number (seed_0000001 is 1)
    rows: int
    seconds: float


Progress = Callable[[int, int], None]  # (learners written, learners in all)


async def seed_population(
    pool: asyncpg.Pool, count: int, seed: int, progress: Progress | None = None
) -> PopulationReport:
    """Add `count` generated learners after those generated before (their numbers go on).

    While batches are copied, the next is generated (in a thread: the copy's work is
    PostgreSQL's, so they overlap). The pool needs two connections; with three, two
    batches are copied at once."""
    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as held:
        allocator = await held.enter_async_context(pool.acquire())
        # Batches are copied on the pool's other connections at once, two at most: the
        # copy's work is PostgreSQL's and one backend uses one core.
        idle: list[Connection] = [
            await held.enter_async_context(pool.acquire())
            for _ in range(min(COPIERS, max(1, pool.get_max_size() - 1)))
        ]
        world = await load_world(allocator, seed)
        if not world.plans or not world.orgs:
            raise NothingToStudy("no plan with courses to study, or no organisation")
        first = await store.last_number(allocator, USERNAME_PREFIX) + 1
        rows_written = learners_written = 0
        writing: deque[tuple[asyncio.Task[int], int]] = deque()  # (copy, its learners)

        async def finish_oldest() -> None:
            nonlocal rows_written, learners_written
            task, learners = writing.popleft()
            rows_written += await task
            learners_written += learners
            _report(progress, learners_written, count)

        try:
            for start in range(first, first + count, BATCH):
                numbers = range(start, min(start + BATCH, first + count))
                ids = await _take_ids(allocator, world, len(numbers))
                rows = await asyncio.to_thread(generate, world, seed, numbers, ids)
                # A copy that ended already gave its connection back (a later one may have
                # ended first): wait for the oldest until one is free.
                while not idle:
                    await finish_oldest()
                task = asyncio.create_task(_write(idle.pop(), idle, rows, ids.card_batch))
                writing.append((task, len(numbers)))
            while writing:
                await finish_oldest()
            await store.analyze(allocator, list(COLUMNS))
        finally:
            for task, _ in writing:
                task.cancel()
            await asyncio.gather(*(task for task, _ in writing), return_exceptions=True)
    report = PopulationReport(count, first, rows_written, round(time.perf_counter() - started, 1))
    log.info("population seeded", **vars(report))
    return report


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


async def _take_ids(connection: Connection, world: World, learners: int) -> Ids:
    """As many ids as the batch could need: a learner makes at most one order per plan,
    redeems the cards of its largest purchases and sits every attempt each exam allows; the
    ids left unused are skipped, as a rolled-back insert's are."""
    take = store.take_ids
    return Ids(
        users=iter(await take(connection, "users", learners)),
        orders=iter(await take(connection, "orders", learners * len(world.plans))),
        cards=iter(
            await take(connection, "study_cards", learners * world.most_cards(CARD_VALUE_FEN))
        ),
        attempts=iter(await take(connection, "exam_attempts", learners * world.most_attempts())),
        card_batch=(await take(connection, "card_batches", 1))[0],
    )


async def _write(
    connection: Connection, idle: list[Connection], rows: Rows, card_batch: int
) -> int:
    """Copy a batch on `connection`, given back to `idle` when done."""
    try:
        tables = {table: (columns, getattr(rows, table)) for table, columns in COLUMNS.items()}
        batch = (card_batch, CARD_BATCH, len(rows.study_cards), CARD_VALUE_FEN)
        return await store.write_batch(connection, tables, batch)
    finally:
        idle.append(connection)
