"""The rooms' messages as the protocol sends them, and what a node missed while its bus
was away."""

import asyncpg

from engine.rooms.service import Rooms
from engine.rooms.types import Hidden, History, Seat, StoredMessage
from engine.sessions import protocol
from engine.sessions.hub import CatchUp, Hub


def chat_message(stored: StoredMessage) -> protocol.ChatMessage:
    return protocol.ChatMessage(
        room=stored.room,
        seq=stored.seq,
        id=stored.id,
        author=stored.author,
        author_id=stored.author_id,
        role=stored.role,
        text=stored.text,
        at_ms=stored.at_ms,
        client_id=stored.client_id,
        answer_to=stored.answer_to,
        answered=stored.answered,
        hidden=stored.hidden,
    )


def history_message(seat: Seat, history: History) -> protocol.ChatHistory:
    return protocol.ChatHistory(
        room=seat.room.name,
        role=seat.role,
        messages=[chat_message(stored) for stored in history.messages],
        last_seq=history.last_seq,
        pinned=[chat_message(stored) for stored in history.pinned],
    )


def catch_up(rooms: Rooms, db: asyncpg.Pool) -> CatchUp:
    """The hub's catch-up: each room's messages after the seq the node relayed last."""

    async def missed(relayed: dict[str, int]) -> list[tuple[str, int, bytes]]:
        frames = []
        for room, seq in relayed.items():
            for stored in await rooms.missed(db, room, seq):
                frames.append((room, stored.seq, protocol.encoder.encode(chat_message(stored))))
        return frames

    return missed


async def publish_message(hub: Hub, stored: StoredMessage) -> None:
    """Deliver a message stored outside a socket (an answer from the 问答 queue) to its
    room's members on every node, as `chat.send` does."""
    await hub.publish_room(stored.room, chat_message(stored), stored.seq)


async def publish_hidden(hub: Hub, hidden: Hidden) -> None:
    """Take a message hidden outside a socket (from the reports queue) down for its room's
    members on every node, as `chat.hide` does."""
    await hub.publish_room(hidden.room, protocol.ChatHidden(room=hidden.room, id=hidden.message_id))
