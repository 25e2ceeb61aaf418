"""Background loops run as named tasks whose failure is logged and shows in /healthz."""

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class Loops:
    """The node's background loops, by name."""

    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.stopping = False

    def start(self, name: str, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(self._ended)
        self.tasks[name] = task
        return task

    def failures(self) -> dict[str, str]:
        """Loops that ended while the node is running, with why."""
        failed = {}
        for name, task in self.tasks.items():
            if task.done() and not self.stopping:
                error = None if task.cancelled() else task.exception()
                failed[name] = repr(error) if error else "stopped"
        return failed

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self.stopping or task.cancelled():
            return
        error = task.exception()
        log.critical(
            "background loop died", loop=task.get_name(), error=repr(error), exc_info=error
        )
