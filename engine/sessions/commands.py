"""The registry of websocket commands: one handler per client message type."""

from collections.abc import Awaitable, Callable
from typing import Any

from engine.appkeys import CLOCK, DB, EXAMS, HUB, PROGRESS, SETTINGS
from engine.errors import TRANSIENT, DomainError
from engine.exams.types import JoinedExam
from engine.progress.types import BeatOutcome, percent
from engine.sessions import protocol
from engine.sessions.connection import Connection, Playback
from engine.sessions.exam_feed import push_results, result_message

Handler = Callable[[Connection, Any], Awaitable[None]]


async def handle_session_hello(conn: Connection, message: protocol.Hello) -> None:
    conn.send(protocol.Welcome(conn=conn.id, server_now_ms=conn.app[CLOCK]()))


async def handle_session_ping(conn: Connection, message: protocol.Ping) -> None:
    conn.send(protocol.Pong(server_now_ms=conn.app[CLOCK]()))


async def handle_progress_play(conn: Connection, message: protocol.Play) -> None:
    app = conn.app
    hub = app[HUB]
    playing = await app[PROGRESS].play(
        app[DB],
        learner_id=conn.learner_id,
        conn_id=conn.id,
        node_id=hub.node_id,
        chapter_id=message.chapter,
        position=message.position,
        now_ms=app[CLOCK](),
    )
    conn.playback = Playback(playing.chapter_id, playing.max_rate, playing.course)
    if playing.previous_conn and playing.previous_conn != conn.id:
        await hub.send_to(
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
            interval_ms=app[SETTINGS].beat_interval_ms,
            max_rate=playing.max_rate,
            chapter_progress=percent(playing.hwm_s, playing.duration_s, playing.complete),
            course_progress=playing.course.progress(playing.hwm_s, playing.complete),
        )
    )


async def handle_progress_beat(conn: Connection, message: protocol.Beat) -> None:
    await _beat(conn, message.seq, message.position, message.playing, message.focused, message.rate)


async def handle_progress_stop(conn: Connection, message: protocol.Stop) -> None:
    await _beat(conn, message.seq, message.position, False, False, 1.0, release=True)
    conn.playback = None


async def _beat(
    conn: Connection,
    seq: int,
    position: float,
    playing: bool,
    focused: bool,
    rate: float,
    *,
    release: bool = False,
) -> None:
    playback = conn.playback
    if playback is None:
        conn.send(protocol.Error(code="not_playing", message="请先开始播放"))
        return
    outcome = await conn.app[PROGRESS].beat(
        learner_id=conn.learner_id,
        conn_id=conn.id,
        chapter_id=playback.chapter_id,
        max_rate=playback.max_rate,
        seq=seq,
        position=position,
        playing=playing,
        focused=focused,
        rate=rate,
        now_ms=conn.app[CLOCK](),
        release=release,
    )
    conn.send(_ack(seq, outcome, playback))
    if outcome.reason == "superseded":
        conn.playback = None


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


async def handle_exam_join(conn: Connection, message: protocol.ExamJoin) -> None:
    app = conn.app
    now_ms = app[CLOCK]()
    joined, drafts, result = await app[EXAMS].join(
        app[DB], conn.learner_id, message.attempt, conn.id, app[HUB].node_id, now_ms
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


async def handle_exam_answer(conn: Connection, message: protocol.ExamAnswer) -> None:
    await conn.app[EXAMS].save(
        conn.learner_id,
        _joined(conn, message.attempt),
        message.question,
        message.answer,
        False,
        conn.app[CLOCK](),
    )
    conn.send(
        protocol.ExamSaved(attempt=message.attempt, question=message.question, seq=message.seq)
    )


async def handle_exam_flag(conn: Connection, message: protocol.ExamFlag) -> None:
    await conn.app[EXAMS].save(
        conn.learner_id,
        _joined(conn, message.attempt),
        message.question,
        None,
        message.flagged,
        conn.app[CLOCK](),
    )
    conn.send(
        protocol.ExamSaved(attempt=message.attempt, question=message.question, seq=message.seq)
    )


async def handle_exam_submit(conn: Connection, message: protocol.ExamSubmit) -> None:
    app = conn.app
    result, graded_now = await app[EXAMS].submit(
        app[DB], conn.learner_id, message.attempt, app[CLOCK]()
    )
    conn.exams.pop(message.attempt, None)
    conn.send(result_message(result))
    if graded_now:
        await push_results(app[HUB], app[EXAMS], [result], skip=conn.id)


def _joined(conn: Connection, attempt_id: int) -> JoinedExam:
    joined = conn.exams.get(attempt_id)
    if joined is None:
        raise DomainError("请先进入考试", code="not_joined")
    return joined


HANDLERS: dict[type[protocol.Message], Handler] = {
    protocol.Hello: handle_session_hello,
    protocol.Ping: handle_session_ping,
    protocol.Play: handle_progress_play,
    protocol.Beat: handle_progress_beat,
    protocol.Stop: handle_progress_stop,
    protocol.ExamJoin: handle_exam_join,
    protocol.ExamAnswer: handle_exam_answer,
    protocol.ExamFlag: handle_exam_flag,
    protocol.ExamSubmit: handle_exam_submit,
}


async def dispatch(conn: Connection, message: protocol.Message) -> None:
    """Run the message's handler; the one place where errors become `error` messages."""
    try:
        await HANDLERS[type(message)](conn, message)
    except DomainError as exc:
        conn.send(protocol.Error(code=exc.code, message=exc.message))
    except TRANSIENT as exc:
        # An overload, not a bug: one line, no traceback (thousands may fail together).
        conn.log.warning("command failed: store unavailable", error=repr(exc))
        conn.send(protocol.Error(code="unavailable", message="服务器繁忙，请稍后再试"))
    except Exception:
        conn.log.exception("command failed", type=type(message).__name__)
        conn.send(protocol.Error(code="internal", message="服务器内部错误，请稍后再试"))
