"""Study-card guessing: failed redemptions counted per learner and per address."""

from engine.commerce import keys
from engine.kv import Redis
from engine.settings import Settings
from engine.throttle import FailureThrottle


class CardThrottle:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.throttle = FailureThrottle(
            redis,
            window_s=settings.card_failure_window_s,
            limits={
                "account": settings.card_max_failures_per_account,
                "address": settings.card_max_failures_per_address,
            },
            message="学习卡充值失败次数过多，请{minutes}分钟后再试",
        )

    async def check(self, learner_id: int, address: str) -> None:
        """Raise Throttled while either the learner or the address is over its limit."""
        await self.throttle.check(_counters(learner_id, address))

    async def record_failure(self, learner_id: int, address: str) -> None:
        await self.throttle.record_failure(_counters(learner_id, address))


def _counters(learner_id: int, address: str) -> dict[str, str]:
    return {
        "account": keys.learner_card_failures_key(learner_id),
        "address": keys.address_card_failures_key(address),
    }
