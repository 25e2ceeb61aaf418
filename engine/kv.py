"""Redis: the client and the batcher of hot-path calls (scripts included)."""

import asyncio
import importlib
import math
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import redis.asyncio as redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.connection import Connection
from redis.exceptions import NoScriptError, ResponseError

from engine.errors import Overloaded
from engine.scripts import Scripts

# A single server or a Redis Cluster: the engine speaks to both the same way (README: Redis
# Cluster), as long as each script and MULTI takes keys of one slot (tests/unit/test_slots.py).
Redis = redis.Redis | RedisCluster
Command = tuple[Any, ...]


def _hiredis_packer() -> Callable[..., bytes] | None:
    """hiredis's command packer, when installed: redis-py's asyncio client packs in Python,
    several times slower (the same bytes either way)."""
    try:
        hiredis = importlib.import_module("hiredis")
    except ImportError:
        return None
    packer: Callable[..., bytes] = hiredis.pack_command
    return packer


PACK_COMMAND = _hiredis_packer()

# A batch that Redis has not answered within this long fails for each of its callers.
BATCH_TIMEOUT_S = 5.0
# Batches on their way at once. Calls made meanwhile wait for the next batch, which so
# grows with the load instead of the batches multiplying: an overloaded node would
# otherwise hold a pooled connection per event-loop tick until the pool ran dry.
MAX_BATCHES_IN_FLIGHT = 2
# Commands that may wait for the next batch (the default of JIXU_REDIS_MAX_PENDING); a call
# that would queue more is refused at once (`Overloaded`). One process answers ~6,500 beats/s
# at best (bench/README.md, round 4 (b)), so a full queue goes out within ~1.5 s, well
# inside the batch timeout; the 5,000-learner closed loop (one call in flight per socket)
# never fills it. Calls queued beyond it would be answered seconds late or fail with
# their batch's timeout: refusing them keeps the node answering the others in time.
MAX_PENDING = 10_000


# Connections one client may open. When all are busy a caller waits for one, up to
# POOL_WAIT_S: redis-py's default pool fails at once instead, so a burst of reconnecting
# sockets (hundreds of logins resolved at the same moment) would get HTTP 500s.
MAX_CONNECTIONS = 100
POOL_WAIT_S = 5.0


# `redis+cluster://[user:password@]host:port,host:port,...`: any reachable nodes of a Redis
# Cluster, from which the client learns the others and which slots each serves.
CLUSTER_SCHEME = "redis+cluster"


def create_redis(url: str) -> Redis:
    """A client whose replies are str; connections are made on first use."""
    if url.startswith(f"{CLUSTER_SCHEME}://"):
        return _create_cluster(url)
    pool = redis.BlockingConnectionPool.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT_S,
    )
    return redis.Redis.from_pool(pool)


class WaitingCluster(RedisCluster):
    """A cluster client whose callers wait for a connection rather than fail. redis-py's
    cluster nodes raise MaxConnectionsError at once when all of theirs are busy (the
    single-server client's BlockingConnectionPool waits), so a burst — a thousand sockets
    closing, each releasing its lease — failed calls that a moment later would have passed.
    At most `max_connections` calls and pipelines run at once, each holding at most one
    connection of a node, so no node runs out."""

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS, **kwargs: Any) -> None:
        super().__init__(max_connections=max_connections, **kwargs)
        self.turns = asyncio.Semaphore(max_connections)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.turns:
            return await super().execute_command(*args, **kwargs)

    def pipeline(
        self, transaction: Any | None = None, shard_hint: Any | None = None
    ) -> ClusterPipeline:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # refused there
        # As RedisCluster.pipeline makes its own (redis-py's typing calls the class abstract).
        return _WaitingPipeline(self, transaction)  # type: ignore[abstract]


class _WaitingPipeline(ClusterPipeline):
    cluster_client: WaitingCluster

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        async with self.cluster_client.turns:
            return await super().execute(raise_on_error, allow_redirections)


def _create_cluster(url: str) -> RedisCluster:
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise ValueError(f"{CLUSTER_SCHEME} URL: not host:port: {host!r}")
        nodes.append(ClusterNode(name, int(port)))
    return WaitingCluster(
        startup_nodes=nodes,
        username=unquote(username) or None,
        password=unquote(password) or None,
        decode_responses=True,
        health_check_interval=30,
    )


class Batcher:
    """Sends the commands of every caller within one event-loop tick as one pipeline.

    Thousands of sockets each awaiting their own round trip would make Redis latency the
    ceiling; coalescing them costs each caller one tick and saves a round trip per call.
    Scripts run by EVALSHA (`Script.command`); when Redis has lost them (a restart), the
    batch is re-sent once after loading the registry's scripts again.

    A batch goes out on one pooled connection rather than through redis-py's Pipeline: one
    timeout for the whole batch instead of a timer per reply (the client's socket timeout),
    and packed by hiredis. Under load that divides the cost of a beat's Redis calls by four.
    """

    def __init__(
        self,
        client: Redis,
        scripts: Scripts,
        *,
        max_pending: int = MAX_PENDING,
        on_shed: Callable[[], object] | None = None,
    ) -> None:
        self.client = client
        self.scripts = scripts
        self.max_pending = max_pending
        self.on_shed = on_shed  # told of each call refused (the metric)
        self._pending: list[tuple[Sequence[Command], asyncio.Future[list[Any]]]] = []
        self._pending_commands = 0
        self._scheduled = False
        self._flushes: set[asyncio.Task[None]] = set()

    async def call(self, commands: Sequence[Command]) -> list[Any]:
        """Run `commands` (each a tuple of command name and arguments) in the next pipeline;
        `Overloaded` at once when the next pipeline is full."""
        if self._pending_commands + len(commands) > self.max_pending:
            if self.on_shed is not None:
                self.on_shed()
            raise Overloaded()
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((commands, future))
        self._pending_commands += len(commands)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start_flush)
        return await future

    def _start_flush(self) -> None:
        self._scheduled = False
        if not self._pending or len(self._flushes) >= MAX_BATCHES_IN_FLIGHT:
            return  # the batch in flight starts this one when it is done
        batch, self._pending = self._pending, []
        self._pending_commands = 0
        task = asyncio.create_task(self._flush(batch))
        self._flushes.add(task)
        task.add_done_callback(self._flush_done)

    def _flush_done(self, task: "asyncio.Task[None]") -> None:
        self._flushes.discard(task)
        if self._pending and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start_flush)

    async def _flush(
        self, batch: list[tuple[Sequence[Command], asyncio.Future[list[Any]]]]
    ) -> None:
        try:
            replies = await self._execute(
                [command for commands, _ in batch for command in commands]
            )
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        failed = any(isinstance(reply, Exception) for reply in replies)
        start = 0
        for commands, future in batch:
            end = start + len(commands)
            mine = replies[start:end]
            start = end
            if future.done():
                continue
            error = None
            if failed:
                error = next((reply for reply in mine if isinstance(reply, Exception)), None)
            if error is None:
                future.set_result(mine)
            else:
                future.set_exception(error)

    async def execute(self, commands: list[Command]) -> list[Any]:
        """Run `commands` now, in a round trip of their own: for a caller that is a batch
        itself (the flusher), which should wait neither for a tick nor behind the batches
        in flight. An error reply raises, as in `call`."""
        replies = await self._execute(commands)
        error = next((reply for reply in replies if isinstance(reply, Exception)), None)
        if error is not None:
            raise error
        return replies

    async def _execute(self, commands: list[Command]) -> list[Any]:
        for attempt in range(2):
            replies = await self._round_trip(commands)
            lost = any(isinstance(reply, NoScriptError) for reply in replies)
            if not lost or attempt == 1:
                break
            await self.scripts.load(self.client)
        return replies

    async def _round_trip(self, commands: list[Command]) -> list[Any]:
        """Send the batch and read its replies; a reply that is an error is returned, not raised."""
        if isinstance(self.client, RedisCluster):
            return await self._cluster_round_trip(self.client, commands)
        pool = self.client.connection_pool
        connection: Connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            async with asyncio.timeout(BATCH_TIMEOUT_S):
                if PACK_COMMAND is None:
                    await connection.send_packed_command(connection.pack_commands(commands))
                else:
                    await connection.send_packed_command(
                        b"".join([PACK_COMMAND(command) for command in commands])
                    )
                replies: list[Any] = []
                for _ in commands:
                    try:
                        # math.inf: no timer of its own; the batch's timeout covers it.
                        replies.append(await connection.read_response(timeout=math.inf))
                    except ResponseError as exc:
                        replies.append(exc)
        except BaseException:
            # Replies may still be on their way: the connection is out of step, drop it.
            await connection.disconnect(nowait=True)
            raise
        finally:
            await pool.release(connection)
        return replies

    async def _cluster_round_trip(self, client: RedisCluster, commands: list[Command]) -> list[Any]:
        """On a cluster, redis-py's pipeline: it splits the batch by node, sends each part at
        once, and follows a slot that moved (a failover, a resharding) to its new node."""
        pipeline = client.pipeline()
        for command in commands:
            pipeline.execute_command(*command)
        async with asyncio.timeout(BATCH_TIMEOUT_S):
            return await pipeline.execute(raise_on_error=False)

    async def drain(self) -> None:
        """Wait for the pipelines in flight and those waiting for them (on shutdown)."""
        while self._flushes or self._pending:
            if self._flushes:
                await asyncio.gather(*self._flushes, return_exceptions=True)
            else:
                await asyncio.sleep(0)  # a flush is scheduled for the next tick
