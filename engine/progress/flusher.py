"""The flusher: moves accepted progress from Redis to PostgreSQL, on every node.

It reads the `progress` stream through a consumer group, so each entry goes to one node;
entries left pending by a node that died are claimed by another after `claim_idle_ms`, or
at once by its successor under the same node id (`jixu serve --workers` restarts a worker
so): a flusher's first passes take its consumer's own pending entries (its predecessor's)
before reading on.
State is absolute and written with GREATEST, so an entry written twice changes nothing.
The state is read back, and the entries acknowledged, in round trips of the node's Batcher
(`execute`: packed by hiredis, no timer per reply), not behind the beats' batches.
"""

from typing import Any

import asyncpg
import structlog
from redis.exceptions import ResponseError

from engine.errors import TRANSIENT
from engine.kv import Batcher, Command, Redis
from engine.progress import keys, scripts, store
from engine.progress.enrolments import announce_passes
from engine.progress.timeline import LIVE_FIELDS, live_segments

log = structlog.get_logger(__name__)

# What the flusher reads of a chapter's state: the progress, then its timeline.
FIELDS = ("hwm", "pos", "complete", *LIVE_FIELDS)


# Entries read per pass. Under load a pass takes as long as its ~10 awaits wait behind the
# sockets' callbacks; a large batch keeps the flusher ahead of the beats (a learner's
# several entries in one batch are written once).
BATCH = 10_000


class Flusher:
    def __init__(
        self,
        redis: Redis,
        batcher: Batcher,
        pool: asyncpg.Pool,
        consumer: str,
        *,
        batch: int = BATCH,
        block_ms: int = 500,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.redis = redis
        self.batcher = batcher
        self.pool = pool
        self.consumer = consumer
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.flushed = 0
        # Until a read of this consumer's own pending entries, at startup, comes back empty.
        self.inherited = True

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(keys.STREAM, keys.FLUSH_GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def step(self) -> None:
        """The background loop's pass: wait up to `block_ms` for entries, and flush them."""
        await self.run_once(block=True)

    async def finish(self) -> None:
        """On shutdown, once the loop is stopped: flush what is left."""
        try:
            # The blocking read that the stop cancelled may have left entries in this
            # consumer's pending list.
            while entries := await self.read(block=False, start="0"):
                await self._flush(entries)
            while await self.run_once() > 0:
                pass
        except TRANSIENT as exc:
            # Nothing is lost: the entries stay pending in Redis for another node to claim.
            log.error("flusher stopped without its final flush", error=repr(exc))
            return
        log.info("flusher stopped", flushed=self.flushed)

    async def run_once(self, *, block: bool = False) -> int:
        """One pass: a predecessor's pending entries, else those of dead consumers, else new
        ones; flush; acknowledge."""
        entries = await self._inherit() or await self._claim() or await self.read(block)
        if not entries:
            return 0
        await self._flush(entries)
        return len(entries)

    async def read(self, block: bool, start: str = ">") -> list[tuple[str, dict[str, str]]]:
        """New entries (`>`), or this consumer's own pending ones (`0`)."""
        reply: Any = await self.redis.xreadgroup(
            keys.FLUSH_GROUP,
            self.consumer,
            {keys.STREAM: start},
            count=self.batch,
            block=self.block_ms if block else None,
        )
        return reply[0][1] if reply else []

    async def _inherit(self) -> list[tuple[str, dict[str, str]]]:
        if not self.inherited:
            return []
        entries = await self.read(block=False, start="0")
        if entries:
            log.info("flusher took over its predecessor's pending entries", count=len(entries))
        else:
            self.inherited = False
        return entries

    async def _claim(self) -> list[tuple[str, dict[str, str]]]:
        reply: Any = await self.redis.xautoclaim(
            keys.STREAM,
            keys.FLUSH_GROUP,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch,
        )
        claimed: list[tuple[str, dict[str, str]]] = reply[1]
        if claimed:
            log.info("flusher reclaimed entries of another consumer", count=len(claimed))
        return claimed

    async def _flush(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        trims = await self.save(entries)
        ids = [entry_id for entry_id, _ in entries]
        # One round trip, in this order: should the XDEL be lost, an acknowledged entry
        # merely stays in the stream, where the group never delivers it again; should all
        # be lost, the entries are flushed again, which changes nothing.
        await self.batcher.execute(
            [*trims, ("XACK", keys.STREAM, keys.FLUSH_GROUP, *ids), ("XDEL", keys.STREAM, *ids)]
        )
        self.flushed += len(entries)

    async def save(self, entries: list[tuple[str, dict[str, str]]]) -> list[Command]:
        """Write the current state and timeline of every (learner, chapter) the entries name;
        the calls that forget the closed timeline segments written, to make once acknowledged."""
        pairs = sorted({(int(fields["l"]), int(fields["c"])) for _, fields in entries if fields})
        if not pairs:
            return []  # entries deleted before they were claimed: nothing to write
        states = await self.batcher.execute(
            [
                ("HMGET", keys.state_key(learner_id, chapter_id), *FIELDS)
                for learner_id, chapter_id in pairs
            ]
        )
        rows = []
        segments = []
        trims = []
        for (learner_id, chapter_id), state in zip(pairs, states, strict=True):
            hwm, pos, complete, at = state[0], state[1], state[2], state[6]
            if hwm is None:
                continue
            rows.append((learner_id, chapter_id, float(hwm), float(pos), int(at), complete == "1"))
            segments += [
                (learner_id, chapter_id, s.from_ms, s.to_ms, s.credited_s, s.reason)
                for s in live_segments(state[3:])
            ]
            if closed := state[7]:
                trims.append(scripts.trim(learner_id, chapter_id, closed))
        async with self.pool.acquire() as connection, connection.transaction():
            await announce_passes(connection, await store.save_progress(connection, rows, segments))
        return trims
