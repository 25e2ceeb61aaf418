"""Money as text: fen (integers, as stored) to yuan and back, with integer arithmetic only."""

import re
from decimal import Decimal

# Yuan with at most two decimals, as gateways write amounts; nothing else is parsed.
AMOUNT = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")


def yuan(fen: int) -> str:
    """Money as people read it: 3000 → ¥30.00, -150000 → -¥1,500.00."""
    sign, whole, cents = _parts(fen)
    return f"{sign}¥{whole:,}.{cents:02d}"


def plain_yuan(fen: int) -> str:
    """Yuan with two decimals and nothing else, as gateways and "…元" texts write it: 1230 → 12.30."""
    sign, whole, cents = _parts(fen)
    return f"{sign}{whole}.{cents:02d}"


def parse_fen(amount: str) -> int | None:
    """A gateway amount in yuan as fen, exactly; None when it is not a plain amount."""
    if not AMOUNT.fullmatch(amount):
        return None
    return int(Decimal(amount) * 100)


def _parts(fen: int) -> tuple[str, int, int]:
    whole, cents = divmod(abs(fen), 100)
    return "-" if fen < 0 else "", whole, cents
