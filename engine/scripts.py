"""The one registry of the engine's Lua scripts: found once, loaded into Redis once.

Every `engine/<package>/lua/<name>.lua` is a script, named `<package>/<name>` (a script of
`engine/lua/` by its name alone). Redis runs them by their SHA1 (EVALSHA): `load` sends
them all at startup, and the `Batcher` sends them again when Redis has lost them (a
restart). Each script is called only through a typed wrapper in the domain that owns it
(`engine/progress/scripts.py`, `engine/exams/scripts.py`, `engine/accounts/scripts.py`,
`engine/throttle.py`), which builds the call with `Script.command` and sends it through
the `Batcher`. No other module registers, loads or EVALs a script (tests/unit/test_scripts.py).
A script's header declares its KEYS and ARGV; every key it touches comes in KEYS, built
by its domain's `keys.py` (the convention: `engine/keys.py`).
"""

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from redis.asyncio import Redis, RedisCluster


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    source: str
    sha: str

    def command(self, keys: tuple[str, ...], *args: Any) -> tuple[Any, ...]:
        """The call of this script on `keys` with `args`, for the Batcher."""
        # Concatenated tuples: the beat's hot path, twice as fast as unpacking both.
        return ("EVALSHA", self.sha, len(keys)) + keys + args  # noqa: RUF005


class Scripts(Mapping[str, Script]):
    """The scripts by name; a name that is not there fails as soon as a module asks for it."""

    def __init__(self, scripts: Sequence[Script]) -> None:
        self._scripts = {script.name: script for script in scripts}

    @classmethod
    def find(cls, package: str = "engine") -> "Scripts":
        """Every `lua/*.lua` file of `package` and its subpackages."""
        return cls(list(_found(resources.files(package), "")))

    def __getitem__(self, name: str) -> Script:
        return self._scripts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._scripts)

    def __len__(self) -> int:
        return len(self._scripts)

    async def load(self, client: Redis | RedisCluster) -> None:
        """SCRIPT LOAD every script, so that the first EVALSHA of each finds it (on a
        cluster, redis-py sends it to every primary)."""
        for script in self._scripts.values():
            await client.script_load(script.source)


def _found(folder: Traversable, prefix: str) -> Iterator[Script]:
    for entry in folder.iterdir():
        if entry.is_dir() and entry.name == "lua":
            for file in entry.iterdir():
                if file.name.endswith(".lua"):
                    source = file.read_text(encoding="utf-8")
                    yield Script(
                        prefix + file.name.removesuffix(".lua"),
                        source,
                        hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest(),
                    )
        elif entry.is_dir() and not entry.name.startswith(("_", ".")):
            yield from _found(entry, f"{prefix}{entry.name}/")


SCRIPTS = Scripts.find()
