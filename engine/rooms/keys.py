"""Redis keys and channels of the rooms (the convention: engine/keys.py)."""

from engine.keys import user_tag

# Pub/sub channel every node listens on: each room message and hide, published once and
# delivered by each node to the members it holds (README: why one channel).
ROOMS_CHANNEL = "rooms"


def send_counter_key(user_id: int) -> str:
    """`{u:<id>}:chat-sends` STRING: the messages the user sent in the current window.
    TTL: the window (JIXU_CHAT_SEND_WINDOW_S), set by the first send of the window."""
    return f"{user_tag(user_id)}:chat-sends"
