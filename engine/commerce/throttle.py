"""Study-card guessing: failed redemptions counted per learner and per address."""

from engine.commerce import keys
from engine.kv import Batcher
from engine.settings import Settings
from engine.throttle import FailureThrottle

CARD_THROTTLED = "学习卡充值失败次数过多，请{minutes}分钟后再试"


class CardThrottle:
    """Each redemption is an attempt reserved before the card's password is verified."""

    def __init__(self, batcher: Batcher, settings: Settings) -> None:
        self.throttle = FailureThrottle(
            batcher,
            settings.card_failure_window_s,
            {
                "account": settings.card_max_failures_per_account,
                "address": settings.card_max_failures_per_address,
            },
            CARD_THROTTLED,
        )

    async def reserve(self, learner_id: int, address: str) -> None:
        """Count an attempt against the learner and the address; Throttled, counting none,
        while either is at its limit."""
        await self.throttle.reserve(keys.card_failure_counters(learner_id, address))

    async def release(self, learner_id: int, address: str) -> None:
        """Give the attempt back: it was no guess (the card was named with its password)."""
        await self.throttle.release(keys.card_failure_counters(learner_id, address))
