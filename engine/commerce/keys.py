"""Redis keys of the commerce domain (the convention: engine/keys.py)."""

from engine.keys import user_tag


def learner_card_failures_key(learner_id: int) -> str:
    """`{u:<learner id>}:card-failures` STRING counter of the learner's failed study-card
    redemptions. TTL: the card failure window, set on the first failure, so old failures
    are forgotten and the count survives a restart."""
    return f"{user_tag(learner_id)}:card-failures"


def address_card_failures_key(address: str) -> str:
    """`card-failures:address:<ip>` STRING counter of failed redemptions from one address,
    across accounts (one person, many registrations). TTL: as `learner_card_failures_key`."""
    return f"card-failures:address:{address}"


def card_failure_counters(learner_id: int, address: str) -> dict[str, str]:
    """The failed-redemption counters by kind: "account" and "address" (STRING, TTL: the
    window)."""
    return {
        "account": learner_card_failures_key(learner_id),
        "address": address_card_failures_key(address),
    }
