"""Server time: epoch milliseconds from an injectable clock, and their conversions.

Every reading of the time goes through the clock the application was built with (tests
inject their own); these functions turn its milliseconds into datetimes.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

# Server time in epoch milliseconds.
Clock = Callable[[], int]

# Asia/Shanghai has kept +08:00 without daylight saving since 1991.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def system_clock() -> int:
    """The host's time in epoch milliseconds."""
    return int(time.time() * 1000)


def utc_time(epoch_ms: int) -> datetime:
    """An aware UTC datetime, as PostgreSQL's timestamptz columns take it."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def china_time(epoch_ms: int) -> datetime:
    """Beijing time: the portal's dates and years are China's civil time."""
    return utc_time(epoch_ms).astimezone(CHINA)
