"""Exam use cases: list, start, join, save drafts, submit (by the learner or the deadline)."""

import random
from collections.abc import Sequence

import asyncpg
import msgspec

from engine.db import Executor
from engine.errors import Conflict, DomainError, NotFound
from engine.exams import grading, keys, scripts, store
from engine.exams.eligibility import refusal
from engine.exams.types import (
    AttemptView,
    ExamListing,
    ExamSummary,
    Graded,
    JoinedExam,
    Option,
    Question,
    Result,
    ShownQuestion,
    StartedAttempt,
    UnscheduledExam,
)
from engine.kv import Batcher, Redis
from engine.messages.service import notify_many
from engine.messages.types import NewNotice
from engine.progress.enrolments import refresh_enrolments

_list_decoder = msgspec.json.Decoder(list[str])
_encoder = msgspec.json.Encoder()

AUTO_SUBMITTED = "考试已自动交卷"
NOT_SCHEDULED = "管理员尚未安排本课程的考试，安排后将显示在这里"
SAVE_REFUSALS = {
    "deadline_passed": "考试时间已到，答案未能保存",
    "submitted": "试卷已提交，不能再作答",
    "missing": "考试记录已失效，请重新进入考试",
}


class Drafts(msgspec.Struct, frozen=True):
    answers: dict[int, list[str]]
    flags: list[int]


class Exams:
    def __init__(
        self,
        redis: Redis,
        batcher: Batcher,
        *,
        rng: random.Random,
    ) -> None:
        self.redis = redis
        # Answers go through the batcher: thousands of examinees answering at once would
        # otherwise each hold a pooled connection for their round trip, and drain the pool.
        self.batcher = batcher
        self.rng = rng

    async def list_for(self, db: Executor, learner_id: int, now_ms: int) -> list[ExamListing]:
        """我的考试: each exam with attempts left, best score and why it cannot start now."""
        listed = []
        for exam in await store.summaries(db, learner_id):
            open_attempt = _answerable(exam, now_ms)
            reason = None if open_attempt is not None else refusal(exam, now_ms)
            listed.append(
                ExamListing(
                    id=exam.id,
                    title=exam.title,
                    plan_id=exam.plan_id,
                    plan_title=exam.plan_title,
                    course_id=exam.course_id,
                    opens_ms=exam.opens_ms,
                    closes_ms=exam.closes_ms,
                    duration_s=exam.duration_s,
                    pass_score=exam.pass_score,
                    total_score=exam.total_score,
                    attempts_left=_attempts_left(exam),
                    best_score=exam.best_score,
                    open_attempt=open_attempt,
                    eligible=reason is None,
                    reason=reason,
                )
            )
        return listed

    async def unscheduled(self, db: Executor, learner_id: int) -> list[UnscheduledExam]:
        """Courses the learner must pass an exam in that has not been scheduled (F22)."""
        return [
            UnscheduledExam(**row, reason=NOT_SCHEDULED)
            for row in await store.unscheduled(db, learner_id)
        ]

    async def view(
        self, db: Executor, learner_id: int, attempt_id: int, *, with_paper: bool
    ) -> AttemptView:
        """One of the learner's attempts with its exam; its questions as shown (never their
        answers) when `with_paper`."""
        attempt = await store.attempt(db, learner_id, attempt_id)
        if attempt is None:
            raise NotFound("考试记录不存在")
        found = await store.summaries(db, learner_id, attempt.exam_id)
        if not found:
            raise NotFound("考试不存在")
        questions: list[ShownQuestion] = []
        if with_paper:
            bank = await store.questions(db, [item.question for item in attempt.paper])
            questions = [
                _public_question(bank[item.question], item.order) for item in attempt.paper
            ]
        return AttemptView(
            id=attempt.id,
            number=attempt.number,
            exam=found[0],
            attempts_left=_attempts_left(found[0]),
            deadline_ms=attempt.deadline_ms,
            submitted=attempt.status != "in_progress",
            score=attempt.score,
            passed=attempt.passed,
            total_score=attempt.total_score,
            submitted_ms=attempt.submitted_ms,
            submitted_by=attempt.submitted_by,
            questions=questions,
        )

    async def start(
        self, pool: asyncpg.Pool, learner_id: int, exam_id: int, now_ms: int
    ) -> StartedAttempt:
        """A new attempt (or the one still open) with its paper, never its answers.

        No transaction: the only write is the insert, and two starts racing for the same
        attempt number meet the unique (exam, learner, number) key."""
        async with pool.acquire() as db:
            found = await store.summaries(db, learner_id, exam_id)
            if not found:
                raise NotFound("考试不存在")
            exam = found[0]
            open_id = _answerable(exam, now_ms)
            if open_id is not None:
                attempt = await store.attempt(db, learner_id, open_id)
                if attempt is None:
                    raise NotFound("考试记录不存在")
                by_id = await store.questions(db, [item.question for item in attempt.paper])
            else:
                reason = refusal(exam, now_ms)
                if reason is not None:
                    raise DomainError(reason, code="not_eligible")
                recipe, bank = await store.paper_source(db, exam_id)
                try:
                    paper = grading.draw_paper(bank, recipe, self.rng)
                except grading.BankTooSmall:
                    raise DomainError("题库题目不足，暂不能组卷", code="bank_too_small") from None
                by_id = {question.id: question for question in bank}
                deadline_ms = min(now_ms + exam.duration_s * 1000, exam.closes_ms)
                try:
                    attempt = await store.insert_attempt(
                        db,
                        learner_id,
                        exam_id,
                        exam.attempts_used + 1,
                        now_ms,
                        deadline_ms,
                        paper,
                        sum(by_id[item.question].score for item in paper),
                    )
                except asyncpg.UniqueViolationError:
                    raise Conflict("考试已在另一处开始，请刷新") from None
                except asyncpg.ForeignKeyViolationError:
                    # An administrator deleted the exam (nobody had attempted it) meanwhile.
                    raise NotFound("考试不存在") from None
        await self._open_in_redis(attempt, now_ms)
        return StartedAttempt(
            id=attempt.id,
            deadline_ms=attempt.deadline_ms,
            server_now_ms=now_ms,
            questions=[
                _public_question(by_id[item.question], item.order) for item in attempt.paper
            ],
        )

    async def _open_in_redis(self, attempt: store.AttemptRow, now_ms: int) -> None:
        ttl = attempt.deadline_ms + keys.GRACE_MS + keys.KEEP_MS - now_ms
        key = keys.attempt_key(attempt.learner_id, attempt.id)
        # Through the batcher, like answers: a rush of starts would otherwise each hold a
        # pooled connection. HSETNX: reopening must not turn a closing attempt back to
        # in_progress.
        await self.batcher.call(
            [
                ("HSETNX", key, "status", "in_progress"),
                ("HSET", key, "deadline", attempt.deadline_ms, "exam", attempt.exam_id),
                ("PEXPIRE", key, max(ttl, 1)),
            ]
        )

    async def join(
        self,
        db: Executor,
        learner_id: int,
        attempt_id: int,
        conn_id: str,
        node_id: str,
        now_ms: int,
    ) -> tuple[JoinedExam, Drafts, Result | None]:
        """The attempt's drafts for a (re)joining socket, or its result once graded."""
        attempt = await store.attempt(db, learner_id, attempt_id)
        if attempt is None:
            raise NotFound("考试记录不存在")
        bank = await store.questions(db, [item.question for item in attempt.paper])
        joined = JoinedExam(
            attempt.id,
            attempt.deadline_ms,
            {item.question: (bank[item.question].kind, len(item.order)) for item in attempt.paper},
        )
        if attempt.status != "in_progress":
            return joined, Drafts(attempt.answers, attempt.flags), _result(attempt)
        await self._open_in_redis(attempt, now_ms)
        ttl = attempt.deadline_ms + keys.GRACE_MS + keys.KEEP_MS - now_ms
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.answers_key(learner_id, attempt_id))
            pipe.smembers(keys.flags_key(learner_id, attempt_id))
            pipe.hset(keys.sockets_key(learner_id, attempt_id), conn_id, node_id)
            pipe.pexpire(keys.sockets_key(learner_id, attempt_id), max(ttl, 1))
            answers, flags, _, _ = await pipe.execute()
        return joined, _drafts(answers, flags), None

    async def save(
        self,
        learner_id: int,
        joined: JoinedExam,
        question: int,
        answer: list[str] | None,
        flagged: bool,
        seq: int | None,
        now_ms: int,
    ) -> bool:
        """Store an answer (or, with `answer` None, a flag); returns only once stored, True
        when the frame was stale instead: a later one (a higher `seq`) is stored."""
        shape = joined.questions.get(question)
        if shape is None:
            raise DomainError("试卷中没有这道题", code="bad_question")
        if answer is not None and not grading.valid_answer(shape[0], shape[1], answer):
            raise DomainError("答案不符合题型要求", code="bad_answer")
        operation: scripts.Operation = (
            "answer" if answer is not None else ("flag" if flagged else "unflag")
        )
        outcome = await scripts.save(
            self.batcher,
            learner_id=learner_id,
            attempt_id=joined.attempt_id,
            question=question,
            operation=operation,
            answer_json=_encoder.encode(answer).decode() if answer is not None else "",
            seq=seq,
            now_ms=now_ms,
        )
        if outcome not in ("ok", "stale"):
            raise DomainError(SAVE_REFUSALS[outcome], code=outcome)
        return outcome == "stale"

    async def submit(
        self, pool: asyncpg.Pool, learner_id: int, attempt_id: int, now_ms: int
    ) -> tuple[Result, bool]:
        """Grade the attempt at the learner's request; (result, graded now) — a repeat is
        answered with the result already given."""
        async with pool.acquire() as db, db.transaction():
            attempt = await store.lock_attempt(db, learner_id, attempt_id)
            if attempt is None:
                raise NotFound("考试记录不存在")
            if attempt.status != "in_progress":
                return _result(attempt), False
            [graded] = await self._grade(db, [attempt], now_ms, "learner")
            return graded, True

    async def submit_due(self, pool: asyncpg.Pool, now_ms: int, limit: int) -> list[Result]:
        """Claim up to `limit` attempts past their deadline and grace and grade them together;
        their results, once committed."""
        async with pool.acquire() as db, db.transaction():
            attempts = await store.claim_due(db, now_ms, keys.GRACE_MS, limit)
            return await self._grade(db, attempts, now_ms, "deadline") if attempts else []

    async def next_due(self, db: Executor, after_ms: int) -> int | None:
        """The first instant (ms) an attempt not yet due at `after_ms` may be auto-submitted:
        just past its deadline and grace. None when no attempt is in progress."""
        deadline = await store.next_deadline(db, after_ms - keys.GRACE_MS)
        return deadline + keys.GRACE_MS + 1 if deadline is not None else None

    async def _grade(
        self, db: Executor, attempts: list[store.AttemptRow], now_ms: int, submitted_by: str
    ) -> list[Result]:
        """Grade attempts this transaction has locked, each once; attempts graded already
        are left out. A pass refreshes the hours of the plans the exam counts for."""
        drafts = await self._close(attempts)
        bank = await store.questions(
            db, sorted({item.question for attempt in attempts for item in attempt.paper})
        )
        rules = await store.grading_rules(db, {attempt.exam_id for attempt in attempts})
        graded = []
        for attempt, draft in zip(attempts, drafts, strict=True):
            partial_credit, pass_score = rules[attempt.exam_id]
            score = grading.grade(attempt.paper, bank, draft.answers, partial_credit=partial_credit)
            graded.append(
                Graded(
                    attempt.id,
                    attempt.learner_id,
                    attempt.exam_id,
                    draft.answers,
                    draft.flags,
                    score,
                    score >= pass_score,
                    attempt.total_score,
                )
            )
        stored = await store.grade(db, graded, now_ms, submitted_by)
        if submitted_by == "deadline" and stored:
            await _notify_submitted(db, stored)
        passed = [attempt for attempt in stored if attempt.passed]
        if passed:
            plans = await store.plans_of_exams(
                db,
                [attempt.learner_id for attempt in passed],
                [attempt.exam_id for attempt in passed],
            )
            if plans:
                learners, plan_ids = zip(*plans, strict=True)
                await refresh_enrolments(db, list(learners), list(plan_ids))
        return [
            Result(
                attempt.attempt_id,
                attempt.learner_id,
                attempt.score,
                attempt.passed,
                attempt.total_score,
            )
            for attempt in stored
        ]

    async def _close(self, attempts: list[store.AttemptRow]) -> list[Drafts]:
        """Close the attempts to answers in Redis, in one round trip, and read their drafts:
        done before grading, no answer can be acknowledged that grading misses. An attempt
        Redis no longer knows keeps the answers PostgreSQL holds."""
        closed = await scripts.close(
            self.batcher, [(attempt.learner_id, attempt.id) for attempt in attempts]
        )
        return [
            _drafts(*drafts) if drafts is not None else Drafts(attempt.answers, attempt.flags)
            for attempt, drafts in zip(attempts, closed, strict=True)
        ]

    async def sockets(self, results: Sequence[Result]) -> list[dict[str, str]]:
        """The sockets that joined each attempt (connection id → node id), in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for result in results:
                pipe.hgetall(keys.sockets_key(result.learner_id, result.attempt_id))
            joined: list[dict[str, str]] = await pipe.execute()
        return joined


async def exam_bank(db: Executor, exam_id: int) -> tuple[dict[str, int], list[Question]]:
    """What a paper of the exam is drawn from: its recipe and its course's bank."""
    return await store.paper_source(db, exam_id)


def _attempts_left(exam: ExamSummary) -> int:
    return max(0, exam.attempts_allowed - exam.attempts_used)


def _answerable(exam: ExamSummary, now_ms: int) -> int | None:
    """The id of the learner's attempt at this exam still taking answers, if any."""
    attempt = exam.open_attempt
    if attempt is None or attempt.deadline_ms + keys.GRACE_MS < now_ms:
        return None
    return attempt.id


def _drafts(answers: dict[str, str], flags: list[str] | set[str]) -> Drafts:
    return Drafts(
        {int(question): _list_decoder.decode(value) for question, value in answers.items()},
        sorted(int(question) for question in flags),
    )


def _result(attempt: store.AttemptRow) -> Result:
    return Result(
        attempt.id,
        attempt.learner_id,
        attempt.score or 0,
        bool(attempt.passed),
        attempt.total_score,
    )


def _public_question(question: Question, order: list[str]) -> ShownQuestion:
    """A question as the paper shows it: options re-keyed in shown order, no answer."""
    texts = {option.key: option.text for option in question.options}
    return ShownQuestion(
        id=question.id,
        type=question.kind,
        stem=question.stem,
        options=[Option(grading.SHOWN_KEYS[index], texts[key]) for index, key in enumerate(order)],
        score=question.score,
    )


async def _notify_submitted(db: Executor, graded: list[Graded]) -> None:
    """A 系统通知 of each attempt the server submitted at its deadline, with its score."""
    titles = await store.exam_titles(db, {attempt.exam_id for attempt in graded})
    await notify_many(
        db,
        [
            NewNotice(
                attempt.learner_id,
                AUTO_SUBMITTED,
                f"考试“{titles[attempt.exam_id]}”的答题时间已到，系统已自动交卷。"
                f"得分：{attempt.score}分（满分{attempt.total_score}分），"
                f"{'已通过' if attempt.passed else '未通过'}。",
            )
            for attempt in graded
        ],
    )
