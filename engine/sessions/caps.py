"""How many sockets a learner and a client address may hold open, counted across nodes.

Each open socket holds a lease in two sorted sets (the learner's, the address's), scored by
when it runs out; the node holding the socket renews it while the socket lives and drops it
when the socket closes. A node that crashes drops nothing: its sockets' leases run out on
their own, one by one (a counter with a TTL would keep counting them while any other socket
of the learner kept the key alive).
"""

from collections.abc import Sequence

from engine.clock import Clock
from engine.errors import Throttled
from engine.kv import Redis
from engine.sessions import keys
from engine.sessions.connection import Connection

# A lease lasts this long; each node renews its sockets' leases three times within it.
LEASE_MS = 90_000
RENEW_EVERY_S = LEASE_MS / 1000 / 3
# Sockets whose leases one pipeline renews.
RENEW_BATCH = 1_000

TOO_MANY_FOR_LEARNER = "同时打开的页面过多，请关闭其他学习或考试页面后再试"
TOO_MANY_FOR_ADDRESS = "当前网络的连接数已达上限，请稍后再试"


class SocketCaps:
    def __init__(
        self, redis: Redis, clock: Clock, node_id: str, *, per_learner: int, per_address: int
    ) -> None:
        self.redis = redis
        self.clock = clock
        self.node_id = node_id
        self.per_learner = per_learner
        self.per_address = per_address

    async def claim(self, conn_id: str, learner_id: int, address: str) -> None:
        """Take a lease for a socket about to open; Throttled (429) over either cap."""
        member = self._member(conn_id)
        learner_key = keys.learner_sockets_key(learner_id)
        if not await self._take(learner_key, member, self.per_learner):
            raise Throttled(TOO_MANY_FOR_LEARNER, retry_after_s=60)
        if not await self._take(keys.address_sockets_key(address), member, self.per_address):
            await self.redis.zrem(learner_key, member)
            raise Throttled(TOO_MANY_FOR_ADDRESS, retry_after_s=60)

    async def release(self, conn_id: str, learner_id: int, address: str) -> None:
        """Give a closed socket's lease back."""
        member = self._member(conn_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(keys.learner_sockets_key(learner_id), member)
            pipe.zrem(keys.address_sockets_key(address), member)
            await pipe.execute()

    async def renew(self, connections: Sequence[Connection]) -> None:
        """Extend the leases of the sockets this node holds (XX: a released one stays out),
        a bounded pipeline at a time."""
        expiry = self.clock() + LEASE_MS
        for start in range(0, len(connections), RENEW_BATCH):
            async with self.redis.pipeline(transaction=False) as pipe:
                for connection in connections[start : start + RENEW_BATCH]:
                    member = self._member(connection.id)
                    for key in (
                        keys.learner_sockets_key(connection.learner_id),
                        keys.address_sockets_key(connection.address),
                    ):
                        pipe.zadd(key, {member: expiry}, xx=True)
                        pipe.pexpire(key, LEASE_MS)
                await pipe.execute()

    async def _take(self, key: str, member: str, cap: int) -> bool:
        """Add the lease, then take it back if that made too many: the count never passes
        the cap (two claims at once may both be refused where one would fit; they retry)."""
        now = self.clock()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {member: now + LEASE_MS})
            pipe.zcard(key)
            pipe.pexpire(key, LEASE_MS)
            _, _, count, _ = await pipe.execute()
        if count <= cap:
            return True
        await self.redis.zrem(key, member)
        return False

    def _member(self, conn_id: str) -> str:
        return f"{self.node_id}:{conn_id}"
