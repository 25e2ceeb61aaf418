"""The statutory yearly hours (F32), in one place.

Source: the manual §10.2 Q4 — 《天津市专业技术人员和管理人员继续教育条例》 asks at least 12
days a year, 18 for holders of a senior title (高级专业技术职称), at 8 学时 a day: 96 and 144
学时 — and Q14: each year's hours are due by 31 December of that year.
"""

from datetime import date

REQUIRED_TENTHS = 960  # 12 days × 8 学时
SENIOR_REQUIRED_TENTHS = 1440  # 18 days × 8 学时
# 职称级别 (engine.accounts.options.TITLE_LEVELS) that are senior titles: 正高级, 副高级.
SENIOR_TITLE_LEVELS = frozenset({"senior", "associate_senior"})


def required_tenths(title_level: str | None) -> int:
    """The hours a learner of this 职称级别 owes each year, in tenths."""
    return SENIOR_REQUIRED_TENTHS if title_level in SENIOR_TITLE_LEVELS else REQUIRED_TENTHS


def deadline(year: int) -> date:
    """The last day on which a year's hours count for that year."""
    return date(year, 12, 31)


def days_left(year: int, today: date) -> int | None:
    """Days from today to the year's deadline, the deadline itself included; None after it."""
    last = deadline(year)
    return (last - today).days + 1 if today <= last else None
