"""Redis Cluster: every call of every registered script takes keys of one slot.

Each script's wrapper is called with a recorder in place of the Batcher, which keeps the
commands and stops the wrapper there; a script without an entry in CALLS fails the test,
so a new script comes with its call here.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import pytest
from redis.crc import key_slot

from engine.accounts import scripts as account_scripts
from engine.accounts.throttle import LoginThrottle
from engine.commerce.throttle import CardThrottle
from engine.exams import scripts as exam_scripts
from engine.kv import Batcher, Command
from engine.live import scripts as live_scripts
from engine.progress import scripts as progress_scripts
from engine.progress.types import Heartbeat, Rules
from engine.scripts import SCRIPTS
from engine.settings import load_settings

RULES = Rules(interval_s=5, seek_tolerance_s=2, completion_tolerance_s=2)
SETTINGS = load_settings({}, env="test")


class Sent(Exception):
    """Raised by the recorder once the wrapper has handed over its commands."""


class Recorder:
    def __init__(self) -> None:
        self.commands: list[Command] = []

    async def call(self, commands: Sequence[Command]) -> list[Any]:
        self.commands.extend(commands)
        raise Sent()

    async def execute(self, commands: list[Command]) -> list[Any]:
        return await self.call(commands)


Call = Callable[[Batcher], Awaitable[object]]

CALLS: dict[str, Call] = {
    "progress/play": lambda batcher: progress_scripts.play(
        batcher,
        learner_id=42,
        conn_id="c",
        node_id="n",
        chapter_id=7,
        duration_s=600,
        max_rate=2,
        stored_hwm_s=0,
        stored_position_s=0,
        position=None,
        now_ms=0,
        rules=RULES,
    ),
    "progress/beat": lambda batcher: progress_scripts.beat(
        batcher,
        RULES,
        learner_id=42,
        conn_id="c",
        chapter_id=7,
        max_rate=2,
        beat=Heartbeat(seq=1, position=5, playing=True, focused=True, rate=1, now_ms=5000),
    ),
    "progress/answer": lambda batcher: progress_scripts.answer(
        batcher,
        learner_id=42,
        conn_id="c",
        chapter_id=7,
        check_id="k",
        now_ms=0,
        next_check_s=900,
    ),
    "progress/trim": lambda batcher: batcher.execute([progress_scripts.trim(42, 7, "0,5000,5,;")]),
    "exams/save": lambda batcher: exam_scripts.save(
        batcher,
        learner_id=42,
        attempt_id=9,
        question=3,
        operation="answer",
        answer_json='["A"]',
        seq=1,
        now_ms=0,
    ),
    "exams/close": lambda batcher: exam_scripts.close(batcher, [(42, 9), (43, 10)]),
    "accounts/touch_session": lambda batcher: account_scripts.touch_session(
        batcher, user_id=42, digest="d", now_ms=0, idle_ms=1, absolute_ms=2
    ),
    "reserve_attempt": lambda batcher: LoginThrottle(batcher, SETTINGS).reserve(
        "learner", "203.0.113.9"
    ),
    "release_attempt": lambda batcher: CardThrottle(batcher, SETTINGS).release(42, "203.0.113.9"),
    "live/flush_lag": lambda batcher: live_scripts.flush_lag(batcher),
}


def test_every_script_has_a_call_here() -> None:
    assert sorted(SCRIPTS) == sorted(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_each_script_call_takes_keys_of_one_slot(name: str) -> None:
    recorder = Recorder()
    with pytest.raises(Sent):
        await CALLS[name](cast(Batcher, recorder))
    by_sha = {script.sha: script.name for script in SCRIPTS.values()}
    calls = [command for command in recorder.commands if command[1] in by_sha]
    assert name in {by_sha[command[1]] for command in calls}
    for command in calls:
        keys = command[3 : 3 + command[2]]
        assert keys, command
        assert len({key_slot(key.encode()) for key in keys}) == 1, keys
