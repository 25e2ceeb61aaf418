"""The registry of websocket commands: one handler per client message type, built once per
application with the services the handlers call."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from engine.accounts.service import get_user
from engine.admin.scope import require, scope_of
from engine.clock import Clock
from engine.errors import TRANSIENT, DomainError
from engine.exams.service import Exams
from engine.metrics import Metrics
from engine.progress.service import ANSWER_REFUSED, Progress
from engine.progress.types import BeatOutcome, Heartbeat, percent
from engine.rooms.service import Rooms
from engine.sessions import protocol
from engine.sessions.connection import Connection, Playback, PlaybackState
from engine.sessions.exam_feed import push_results, result_message
from engine.sessions.hub import Hub
from engine.sessions.live_feed import LiveFeed
from engine.sessions.rooms_feed import chat_message, history_message

Handler = Callable[[Connection, Any], Awaitable[None]]


@dataclass(kw_only=True, slots=True)
class Commands:
    """Each client message's handler, given the services it calls, and the one `dispatch`
    that runs them."""

    progress: Progress
    exams: Exams
    rooms: Rooms
    hub: Hub
    live: LiveFeed
    metrics: Metrics
    db: asyncpg.Pool
    clock: Clock
    beat_interval_ms: int
    handlers: dict[type[protocol.Message], Handler] = field(init=False)

    def __post_init__(self) -> None:
        self.handlers = {
            protocol.Hello: self.handle_session_hello,
            protocol.Ping: self.handle_session_ping,
            protocol.Play: self.handle_progress_play,
            protocol.Beat: self.handle_progress_beat,
            protocol.Stop: self.handle_progress_stop,
            protocol.ExamJoin: self.handle_exam_join,
            protocol.ExamAnswer: self.handle_exam_answer,
            protocol.ExamFlag: self.handle_exam_flag,
            protocol.ExamSubmit: self.handle_exam_submit,
            protocol.ChatJoin: self.handle_chat_join,
            protocol.ChatSend: self.handle_chat_send,
            protocol.ChatLeave: self.handle_chat_leave,
            protocol.ChatHide: self.handle_chat_hide,
            protocol.ChatReport: self.handle_chat_report,
            protocol.AttentionAnswer: self.handle_attention_answer,
            protocol.LiveSubscribe: self.handle_live_subscribe,
            protocol.LiveUnsubscribe: self.handle_live_unsubscribe,
        }

    async def dispatch(self, conn: Connection, message: protocol.Message) -> None:
        """Run the message's handler; the one place where errors become `error` messages."""
        try:
            await self.handlers[type(message)](conn, message)
        except DomainError as exc:
            room = message.room if isinstance(message, protocol.ChatCommand) else None
            conn.send(protocol.Error(code=exc.code, message=exc.message, room=room))
        except TRANSIENT as exc:
            # An overload, not a bug: one line, no traceback (thousands may fail together).
            conn.log.warning("command failed: store unavailable", error=repr(exc))
            self.metrics.errors.labels("ws").inc()
            conn.send(protocol.Error(code="unavailable", message="服务器繁忙，请稍后再试"))
        except Exception:
            conn.log.exception("command failed", type=type(message).__name__)
            self.metrics.errors.labels("ws").inc()
            conn.send(protocol.Error(code="internal", message="服务器内部错误，请稍后再试"))

    async def handle_session_hello(self, conn: Connection, message: protocol.Hello) -> None:
        """Welcome the client with its connection id and the server's time."""
        conn.send(protocol.Welcome(conn=conn.id, server_now_ms=self.clock()))

    async def handle_session_ping(self, conn: Connection, message: protocol.Ping) -> None:
        """Answer with the server's time."""
        conn.send(protocol.Pong(server_now_ms=self.clock()))

    async def handle_progress_play(self, conn: Connection, message: protocol.Play) -> None:
        """Take the chapter's lease, tell a superseded socket so, and start playing."""
        playing = await self.progress.play(
            self.db,
            learner_id=conn.learner_id,
            conn_id=conn.id,
            node_id=self.hub.node_id,
            chapter_id=message.chapter,
            position=message.position,
            now_ms=self.clock(),
        )
        conn.start_playing(Playback(playing.chapter_id, playing.max_rate, playing.course))
        if playing.previous_conn and playing.previous_conn != conn.id:
            await self.hub.send_to(
                playing.previous_node,
                playing.previous_conn,
                protocol.Superseded(chapter=message.chapter),
            )
        conn.send(
            protocol.Playing(
                chapter=playing.chapter_id,
                lease=conn.id,
                position=playing.position_s,
                hwm=playing.hwm_s,
                duration_s=playing.duration_s,
                interval_ms=self.beat_interval_ms,
                max_rate=playing.max_rate,
                chapter_progress=percent(playing.hwm_s, playing.duration_s, playing.complete),
                course_progress=playing.course.progress(playing.hwm_s, playing.complete),
                blur_grace_ms=self.progress.rules.blur_grace_ms,
            )
        )
        if playing.check is not None:
            conn.send(
                protocol.AttentionCheck(id=playing.check.id, expires_ms=playing.check.expires_ms)
            )

    async def handle_progress_beat(self, conn: Connection, message: protocol.Beat) -> None:
        """Credit the time since the last beat."""
        await self._beat(
            conn,
            Heartbeat(
                message.seq,
                message.position,
                message.playing,
                message.focused,
                message.rate,
                self.clock(),
            ),
        )

    async def handle_progress_stop(self, conn: Connection, message: protocol.Stop) -> None:
        """A last beat that releases the lease."""
        await self._beat(
            conn,
            Heartbeat(message.seq, message.position, False, False, 1.0, self.clock(), release=True),
        )

    async def _beat(self, conn: Connection, beat: Heartbeat) -> None:
        playback = conn.playback
        outcome = await self.progress.beat(
            learner_id=conn.learner_id,
            conn_id=conn.id,
            chapter_id=playback.chapter_id,
            max_rate=playback.max_rate,
            beat=beat,
        )
        self.metrics.count_beat(outcome.reason)
        conn.send(_ack(beat.seq, outcome, playback))
        if outcome.check is not None:
            conn.send(
                protocol.AttentionCheck(id=outcome.check.id, expires_ms=outcome.check.expires_ms)
            )
        if beat.release or outcome.reason == "superseded":
            conn.stop_playing()

    async def handle_attention_answer(
        self, conn: Connection, message: protocol.AttentionAnswer
    ) -> None:
        """Answer a check-in: credit resumes; a socket not playing has none to answer."""
        if conn.playback_state is PlaybackState.IDLE:
            raise DomainError(ANSWER_REFUSED["unknown"], code="unknown")
        await self.progress.answer(
            learner_id=conn.learner_id,
            conn_id=conn.id,
            chapter_id=conn.playback.chapter_id,
            check_id=message.id,
            now_ms=self.clock(),
        )
        conn.send(protocol.AttentionOk(id=message.id))

    async def handle_exam_join(self, conn: Connection, message: protocol.ExamJoin) -> None:
        """Join an attempt: its deadline and drafts, or its result if it is over."""
        now_ms = self.clock()
        joined, drafts, result = await self.exams.join(
            self.db, conn.learner_id, message.attempt, conn.id, self.hub.node_id, now_ms
        )
        if result is not None:
            conn.send(result_message(result))
            return
        conn.exams[joined.attempt_id] = joined
        conn.send(
            protocol.ExamState(
                attempt=joined.attempt_id,
                deadline_ms=joined.deadline_ms,
                server_now_ms=now_ms,
                answers=drafts.answers,
                flags=drafts.flags,
            )
        )

    async def handle_exam_answer(self, conn: Connection, message: protocol.ExamAnswer) -> None:
        """Save a draft answer to a joined attempt, or say a later one is stored."""
        stale = await self.exams.save(
            conn.learner_id,
            conn.joined(message.attempt),
            message.question,
            message.answer,
            False,
            message.seq,
            self.clock(),
        )
        self.metrics.exam_answers.inc()
        conn.send(
            protocol.ExamSaved(
                attempt=message.attempt, question=message.question, seq=message.seq, stale=stale
            )
        )

    async def handle_exam_flag(self, conn: Connection, message: protocol.ExamFlag) -> None:
        """Flag or unflag a question of a joined attempt, or say a later flag is stored."""
        stale = await self.exams.save(
            conn.learner_id,
            conn.joined(message.attempt),
            message.question,
            None,
            message.flagged,
            message.seq,
            self.clock(),
        )
        conn.send(
            protocol.ExamSaved(
                attempt=message.attempt, question=message.question, seq=message.seq, stale=stale
            )
        )

    async def handle_exam_submit(self, conn: Connection, message: protocol.ExamSubmit) -> None:
        """Grade the attempt; its result goes to this socket and every other that joined it."""
        result, graded_now = await self.exams.submit(
            self.db, conn.learner_id, message.attempt, self.clock()
        )
        conn.exams.pop(message.attempt, None)
        conn.send(result_message(result))
        if graded_now:
            await push_results(self.hub, self.exams, [result], skip=conn.id)

    # Rooms: 讨论 and 问答 under the video.

    async def handle_chat_join(self, conn: Connection, message: protocol.ChatJoin) -> None:
        """Become a member, then read the history: a message stored meanwhile comes both
        ways (the client keeps one by its seq), none comes neither way."""
        seat = await self.rooms.seat(self.db, conn.learner_id, message.room)
        self.hub.enter(conn, seat)
        try:
            history = await self.rooms.history(self.db, seat, message.after_seq)
        except BaseException:
            self.hub.leave(conn, seat.room.name)
            raise
        self.hub.joined(seat.room.name, history.last_seq)
        conn.send(history_message(seat, history))

    async def handle_chat_send(self, conn: Connection, message: protocol.ChatSend) -> None:
        """Store the message, then deliver it to every member on every node."""
        seat = conn.seat(message.room)
        stored = await self.rooms.send(
            self.db, seat, message.text, message.client_id, self.clock(), message.answer_to
        )
        await self.hub.publish_room(seat.room.name, chat_message(stored), stored.seq)

    async def handle_chat_leave(self, conn: Connection, message: protocol.ChatLeave) -> None:
        self.hub.leave(conn, message.room)

    async def handle_chat_hide(self, conn: Connection, message: protocol.ChatHide) -> None:
        """A moderator hides a message: every member, on every node, takes it down."""
        seat = conn.seat(message.room)
        hidden = await self.rooms.hide(self.db, seat, message.id, message.reason, self.clock())
        reply = protocol.ChatHidden(room=seat.room.name, id=message.id)
        if hidden is None:  # hidden before: only this moderator needs telling
            conn.send(reply)
        else:
            await self.hub.publish_room(seat.room.name, reply)

    async def handle_chat_report(self, conn: Connection, message: protocol.ChatReport) -> None:
        seat = conn.seat(message.room)
        await self.rooms.report(self.db, seat, message.id, message.reason, self.clock())
        conn.send(protocol.ChatReported(room=seat.room.name, id=message.id))

    # The live operations view.

    async def handle_live_subscribe(
        self, conn: Connection, message: protocol.LiveSubscribe
    ) -> None:
        """A super administrator's socket gets the cluster's figures every second. Not an
        organisation's administrator: the figures are the whole engine's, every org's."""
        user = await get_user(self.db, conn.learner_id)
        require(scope_of(user.id, user.username, user.role, user.org_id), "super")
        self.live.subscribe(conn)

    async def handle_live_unsubscribe(
        self, conn: Connection, message: protocol.LiveUnsubscribe
    ) -> None:
        self.live.unsubscribe(conn)


def _ack(seq: int, outcome: BeatOutcome, playback: Playback) -> protocol.Ack:
    return protocol.Ack(
        seq=seq,
        position=outcome.position_s,
        hwm=outcome.hwm_s,
        credited_s=outcome.credited_s,
        chapter_progress=outcome.chapter_progress(),
        course_progress=playback.course.progress(outcome.hwm_s, outcome.complete),
        reason=outcome.reason or None,
        seek_to=outcome.seek_to,
    )
