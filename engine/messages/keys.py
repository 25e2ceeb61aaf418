"""Redis keys of the messages domain (the convention: engine/keys.py)."""

from engine.keys import user_tag


def letters_sent_key(learner_id: int) -> str:
    """`{u:<learner id>}:letters-sent` STRING counter of the 站内信 a learner sent in the
    current window. TTL: the window, set on the first letter, so the rate holds across
    nodes and restarts and old letters stop counting."""
    return f"{user_tag(learner_id)}:letters-sent"
