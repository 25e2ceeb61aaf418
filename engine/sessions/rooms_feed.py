"""The rooms' messages as the protocol sends them."""

from engine.rooms.types import History, Seat, StoredMessage
from engine.sessions import protocol


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
