"""A course's measures: its 学时, stored in tenths of an hour, and its price in a plan."""


def hours(tenths: int) -> float:
    """学时 as people count them: 15 tenths → 1.5."""
    return tenths / 10


def tenths(hours: float) -> int:
    """学时 as stored: 1.5 → 15 tenths."""
    return round(hours * 10)


def price_fen(hour_tenths: int, price_per_hour_fen: int) -> int:
    """A course's hours at its plan's price per hour, rounded down to the fen."""
    return hour_tenths * price_per_hour_fen // 10
