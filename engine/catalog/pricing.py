"""What a course costs: the one price formula, for the catalogue's listing and the cart."""


def price_fen(hour_tenths: int, price_per_hour_fen: int) -> int:
    """A course's hours at its plan's price per hour, rounded down to the fen."""
    return hour_tenths * price_per_hour_fen // 10
