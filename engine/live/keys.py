"""Redis keys of the live operations view (the convention: engine/keys.py)."""

# `live` HASH node id → its latest NodeFigures (JSON): one key that every node writes its
# own field of and any node reads whole, so it lives in one Redis Cluster slot and no node
# has to SCAN for the others. A node that stops writing is left out once its figures are
# `STALE_MS` old, and its field deleted by the next reader. TTL: `TTL_S`, renewed by every
# write, so the key goes away with the last node.
FIGURES_KEY = "live"
STALE_MS = 3_000
TTL_S = 10
