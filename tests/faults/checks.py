"""What must hold after each kill, read from the stores and set against the clients' logs."""

import json
from datetime import datetime

from engine.db import Executor
from engine.exams.keys import GRACE_MS
from engine.exams.service import AUTO_SUBMITTED
from tests.faults.clients import Examinee, Player

# Float sums of many beats' credit.
EPSILON_S = 1e-6
# How late after its deadline and grace an attempt may be graded.
GRADING_SLACK_MS = 10_000


async def stored_hwm(db: Executor, players: list[Player]) -> dict[int, float]:
    rows = await db.fetch(
        """SELECT learner_id, hwm_s FROM chapter_progress
           WHERE learner_id = ANY($1::bigint[]) AND chapter_id = $2""",
        [player.learner_id for player in players],
        players[0].chapter,
    )
    return {row[0]: row[1] for row in rows}


def unflushed(acked: dict[int, float], stored: dict[int, float]) -> dict[int, tuple[float, float]]:
    """Learners whose acknowledged high-water mark PostgreSQL does not hold (yet):
    learner → (acknowledged, stored)."""
    return {
        learner: (hwm, stored.get(learner, 0.0))
        for learner, hwm in acked.items()
        if stored.get(learner, 0.0) < hwm - EPSILON_S
    }


async def progress_problems(
    db: Executor, players: list[Player], redis_hwm: dict[int, float]
) -> list[str]:
    """Once everything is flushed: every acknowledged second stored, none twice."""
    problems = []
    stored = await stored_hwm(db, players)
    credited: dict[int, float] = dict(
        await db.fetch(  # type: ignore[arg-type]
            """SELECT learner_id, sum(credited_s) FROM study_segments
               WHERE learner_id = ANY($1::bigint[]) AND chapter_id = $2 GROUP BY learner_id""",
            [player.learner_id for player in players],
            players[0].chapter,
        )
    )
    for player in players:
        hwm = stored.get(player.learner_id, 0.0)
        acked_credit = sum(ack.credited_s for ack in player.acks)
        if hwm < player.acked_hwm - EPSILON_S:
            problems.append(
                f"learner {player.learner_id}: acked hwm {player.acked_hwm}, stored {hwm}"
            )
        if abs(hwm - redis_hwm.get(player.learner_id, 0.0)) > EPSILON_S:
            problems.append(
                f"learner {player.learner_id}: stored hwm {hwm}, Redis {redis_hwm.get(player.learner_id)}"
            )
        if acked_credit > hwm + EPSILON_S * len(player.acks):
            problems.append(f"learner {player.learner_id}: acked credit {acked_credit} > hwm {hwm}")
        segments = credited.get(player.learner_id, 0.0)
        if abs(segments - hwm) > EPSILON_S * max(1, len(player.acks)):
            problems.append(f"learner {player.learner_id}: segments credit {segments} != hwm {hwm}")
    return problems


async def exam_problems(db: Executor, examinees: list[Examinee]) -> list[str]:
    """Every attempt graded once, by its deadline + grace + 10 s, with its acknowledged answers."""
    problems = []
    for examinee in examinees:
        row = await db.fetchrow(
            "SELECT status, answers, submitted_at, submitted_by FROM exam_attempts WHERE id = $1",
            examinee.attempt,
        )
        name = f"attempt {examinee.attempt}"
        if row is None or row["status"] != "submitted":
            problems.append(f"{name}: not graded")
            continue
        late_ms = _ms(row["submitted_at"]) - (examinee.deadline_ms + GRACE_MS)
        if late_ms > GRADING_SLACK_MS:
            problems.append(f"{name}: graded {late_ms} ms after deadline and grace")
        notices = await db.fetchval(
            "SELECT count(*) FROM messages WHERE learner_id = $1 AND title = $2",
            examinee.learner_id,
            AUTO_SUBMITTED,
        )
        if row["submitted_by"] == "deadline" and notices != 1:
            problems.append(f"{name}: {notices} auto-submission notices")
        stored = {int(question): answer for question, answer in json.loads(row["answers"]).items()}
        problems += [f"{name}: {problem}" for problem in answer_problems(examinee, stored)]
    return problems


def answer_problems(examinee: Examinee, stored: dict[int, list[str]]) -> list[str]:
    """Each question's stored answer is its last acknowledged one, or a later frame sent
    but never acknowledged (the server may have stored it before its node died)."""
    problems = []
    for question in {sent.question for sent in examinee.sent}:
        frames = [sent for sent in examinee.sent if sent.question == question]
        acked = [sent for sent in frames if sent.acked]
        last_seq = acked[-1].seq if acked else 0
        allowed = [
            sent.answer
            for sent in frames
            if sent.seq >= last_seq and (sent.acked or sent.seq > last_seq)
        ]
        if question not in stored:
            if acked:
                problems.append(f"question {question}: acknowledged answer lost")
        elif stored[question] not in allowed:
            problems.append(
                f"question {question}: stored {stored[question]}, acknowledged {acked[-1].answer if acked else None}"
            )
    return problems


async def payment_problems(db: Executor, order_id: int, ledger_rows: int) -> list[str]:
    row = await db.fetchrow(
        """SELECT o.status,
                  (SELECT count(*) FROM payments p WHERE p.order_id = o.id) AS payments,
                  (SELECT count(*) FROM ledger l WHERE l.order_id = o.id) AS ledger
           FROM orders o WHERE o.id = $1""",
        order_id,
    )
    assert row is not None
    if (row["status"], row["payments"], row["ledger"]) != ("paid", 1, ledger_rows):
        return [
            f"order {order_id}: {dict(row)}, expected paid, 1 payment, {ledger_rows} ledger rows"
        ]
    return []


def _ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)
