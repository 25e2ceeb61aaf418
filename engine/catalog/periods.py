"""A plan's open period as people set it: from its first day to its last, China's dates."""

from datetime import date, datetime, time, timedelta

from engine.clock import CHINA


def plan_period(opens_on: date, closes_on: date) -> tuple[datetime, datetime]:
    """From the first day's midnight to the midnight that ends the last."""
    return (
        datetime.combine(opens_on, time(), CHINA),
        datetime.combine(closes_on + timedelta(days=1), time(), CHINA),
    )


def period_days(opens_at: datetime, closes_at: datetime) -> tuple[date, date]:
    """The first and last days of an open period."""
    last = closes_at.astimezone(CHINA) - timedelta(microseconds=1)
    return opens_at.astimezone(CHINA).date(), last.date()
