"""`live.figures` frames: the cluster's figures, each second, to the sockets of this node
that subscribed (the live operations view)."""

from engine.live.types import ClusterFigures
from engine.sessions.connection import Connection
from engine.sessions.hub import Hub
from engine.sessions.protocol import LiveFigures, encoder


class LiveFeed:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.viewers: dict[str, Connection] = {}
        self.latest: bytes | None = None  # the last second's frame, for a new viewer

    def subscribe(self, connection: Connection) -> None:
        """Send the socket the figures from now on, starting with the last second's."""
        self.viewers[connection.id] = connection
        if self.latest is not None:
            connection.send_raw(self.latest)

    def unsubscribe(self, connection: Connection) -> None:
        self.viewers.pop(connection.id, None)

    def show(self, figures: ClusterFigures) -> None:
        """Encode once, queue to every viewer; a socket since closed is dropped here (the
        hub no longer holds it), so closing needs no hook of its own."""
        self.latest = encoder.encode(LiveFigures(figures))
        for conn_id, connection in list(self.viewers.items()):
            if self.hub.connections.get(conn_id) is connection:
                connection.send_raw(self.latest)
            else:
                del self.viewers[conn_id]
