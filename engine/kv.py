"""Redis: the client, the Lua script loader, and the batcher of hot-path calls."""

import asyncio
from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis.asyncio as redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Redis = redis.Redis
Command = tuple[Any, ...]


def create_redis(url: str) -> Redis:
    """A client whose replies are str; connections are made on first use."""
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


def script_source(package: str, name: str) -> str:
    return (resources.files(package) / "lua" / f"{name}.lua").read_text(encoding="utf-8")


def load_script(client: Redis, package: str, name: str) -> AsyncScript:
    """Register `<package>/lua/<name>.lua`; it runs by EVALSHA, re-sent only if Redis lost it."""
    return client.register_script(script_source(package, name))


class Batcher:
    """Sends the commands of every caller within one event-loop tick as one pipeline.

    Thousands of sockets each awaiting their own round trip would make Redis latency the
    ceiling; coalescing them costs each caller one tick and saves a round trip per call.
    Scripts run by EVALSHA; when Redis has lost them (a restart), the batch is re-sent once
    after loading them again.
    """

    def __init__(self, client: Redis, scripts: Sequence[AsyncScript]) -> None:
        self.client = client
        self.scripts = scripts
        self._pending: list[tuple[Sequence[Command], asyncio.Future[list[Any]]]] = []
        self._scheduled = False
        self._flushes: set[asyncio.Task[None]] = set()

    async def call(self, commands: Sequence[Command]) -> list[Any]:
        """Run `commands` (each a tuple of command name and arguments) in the next pipeline."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((commands, future))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start_flush)
        return await future

    async def load(self) -> None:
        for script in self.scripts:
            await self.client.script_load(script.script)

    def _start_flush(self) -> None:
        batch, self._pending, self._scheduled = self._pending, [], False
        task = asyncio.create_task(self._flush(batch))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

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
        start = 0
        for commands, future in batch:
            mine = replies[start : start + len(commands)]
            start += len(commands)
            if future.done():
                continue
            error = next((reply for reply in mine if isinstance(reply, Exception)), None)
            if error is None:
                future.set_result(mine)
            else:
                future.set_exception(error)

    async def _execute(self, commands: list[Command]) -> list[Any]:
        for attempt in range(2):
            async with self.client.pipeline(transaction=False) as pipe:
                for command in commands:
                    pipe.execute_command(*command)
                replies: list[Any] = await pipe.execute(raise_on_error=False)
            lost = any(isinstance(reply, NoScriptError) for reply in replies)
            if not lost or attempt == 1:
                break
            await self.load()
        return replies

    async def drain(self) -> None:
        """Wait for the pipelines in flight (on shutdown)."""
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
