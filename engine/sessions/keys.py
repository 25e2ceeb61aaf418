"""Redis keys of the sessions domain (the convention: engine/keys.py)."""

from engine.keys import user_tag


def learner_sockets_key(user_id: int) -> str:
    """`{u:<id>}:sockets` ZSET of `<node>:<connection>` scored by when its lease runs out
    (ms): the learner's open sockets, on any node. TTL: the lease, renewed with it."""
    return f"{user_tag(user_id)}:sockets"


def address_sockets_key(address: str) -> str:
    """`sockets:address:<ip>` ZSET of `<node>:<connection>` scored by when its lease runs
    out (ms): the open sockets of one client address. TTL: the lease, renewed with it."""
    return f"sockets:address:{address}"
