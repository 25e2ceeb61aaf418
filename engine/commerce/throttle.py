"""Study-card guessing: failed redemptions counted per learner and per address."""

from engine.commerce import keys
from engine.kv import Batcher
from engine.settings import Settings
from engine.throttle import FailureThrottle, Limits

CARD_THROTTLED = "学习卡充值失败次数过多，请{minutes}分钟后再试"


class CardThrottle:
    def __init__(self, batcher: Batcher, settings: Settings) -> None:
        self.throttle = FailureThrottle(
            batcher,
            Limits(
                settings.card_failure_window_s,
                settings.card_max_failures_per_account,
                settings.card_max_failures_per_address,
            ),
            CARD_THROTTLED,
        )

    async def check(self, learner_id: int, address: str) -> None:
        """Raise Throttled while either the learner or the address is over its limit."""
        await self.throttle.check(keys.card_failure_counters(learner_id, address))

    async def record_failure(self, learner_id: int, address: str) -> None:
        await self.throttle.record_failure(keys.card_failure_counters(learner_id, address))
