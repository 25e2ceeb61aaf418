"""Redis keys of the commerce domain.

- `{u:<learner id>}:card-failures` STRING counter of the learner's failed study-card
  redemptions. TTL: the card failure window, set on the first failure, so old failures
  are forgotten and the count survives a restart.
- `card-failures:address:<ip>` STRING counter of failed redemptions from one address,
  across accounts (one person, many registrations). TTL: as above.
"""


def learner_card_failures_key(learner_id: int) -> str:
    return f"{{u:{learner_id}}}:card-failures"


def address_card_failures_key(address: str) -> str:
    return f"card-failures:address:{address}"
