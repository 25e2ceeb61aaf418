"""China's civil time: the portal's dates and years are Beijing time."""

from datetime import UTC, datetime, timedelta, timezone

# Asia/Shanghai has kept +08:00 without daylight saving since 1991.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_time(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).astimezone(CHINA)
