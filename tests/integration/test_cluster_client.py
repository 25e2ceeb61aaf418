"""The cluster client under a burst: callers wait for a node's connection, none fails."""

import asyncio
from urllib.parse import urlsplit

import pytest
from redis.asyncio.cluster import ClusterNode

from engine.kv import CLUSTER_SCHEME, WaitingCluster

LIMIT = 2


async def test_a_burst_beyond_the_connections_waits_its_turn(redis_url: str) -> None:
    if not redis_url.startswith(f"{CLUSTER_SCHEME}://"):
        pytest.skip("a Redis Cluster only (JIXU_TEST_REDIS_CLUSTER=1)")
    nodes = [
        ClusterNode(host, int(port))
        for host, _, port in (
            node.rpartition(":") for node in urlsplit(redis_url).netloc.split(",")
        )
    ]
    client = WaitingCluster(startup_nodes=nodes, decode_responses=True, max_connections=LIMIT)
    try:
        # Redis's own client failed most of these at once with MaxConnectionsError.
        await asyncio.gather(*(client.set(f"burst:{n}", n) for n in range(200)))

        async def piped(n: int) -> list[object]:
            async with client.pipeline(transaction=False) as pipe:
                pipe.incr(f"burst:{n}")
                pipe.get(f"burst:{n}")
                result: list[object] = await pipe.execute()
                return result

        results = await asyncio.gather(*(piped(n) for n in range(100)))
        assert results == [[n + 1, str(n + 1)] for n in range(100)]
        assert all(len(node._connections) <= LIMIT for node in client.get_nodes())
    finally:
        await client.aclose()
