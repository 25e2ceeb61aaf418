"""The rows of generated learners: who they are, which plans they activate, what they buy and
how they pay, how far they watch, how they sit exams. Each learner's rows come from a
generator seeded by (seed, learner number), so the same numbers always give the same rows.

Hours earned and plans passed follow from these facts by the engine's rule, as the
flusher would have found them.
"""

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from engine.accounts.validation import id_card_check_character
from engine.catalog.demo_titles import GIVEN_NAMES, SURNAMES
from engine.clock import CHINA
from engine.commerce.cards import check_digit
from engine.commerce.payments import BANKS
from engine.population.world import Course, Exam, Plan, World

# A row of one table, in the column order of load.COLUMNS.
Row = tuple[object, ...]

USERNAME_PREFIX = "seed_"
# Never a valid argon2 hash: a generated learner cannot log in until a password is reset.
NO_PASSWORD = "!generated"
CARD_BATCH = "生成的学员所用学习卡（测试数据）"
REGION = "120116"  # 滨海新区: the base data's learners are numbered under 120101 and 120103
FIRST_BIRTH = date(1960, 1, 1)
BIRTH_DAYS = 14_000  # born 1960–1998
# A portal grows: a learner joins in one of the catalogue's years, later years likelier
# (weights 2, 3, 4… from the first year), then activates each year's public plan from then
# on with this chance, and one professional plan of a year since joining with the other.
PUBLIC_UPTAKE = 0.9
PROFESSIONAL_UPTAKE = 0.75
REFUND_RATE = 0.03
METHODS = (("balance", 0.45), ("alipay", 0.35), ("bank", 0.20))
CARD_VALUE_FEN = 10_000  # ¥100 a card: a purchase redeems as many as it needs
TITLE_LEVELS = (
    ("senior", 0.04), ("associate_senior", 0.12), ("intermediate", 0.38), ("junior", 0.30),
    ("assistant", 0.08), ("none", 0.08),
)  # fmt: skip


@dataclass
class Ids:
    """Identity values taken from the tables' own sequences for one batch."""

    users: Iterator[int]
    orders: Iterator[int]
    cards: Iterator[int]
    attempts: Iterator[int]
    card_batch: int  # the batch of study cards these learners redeem


@dataclass
class Rows:
    """One batch of rows per table, in each table's column order (see load.COLUMNS)."""

    users: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    enrolments: list[Row] = field(default_factory=list)
    selections: list[Row] = field(default_factory=list)
    chapter_progress: list[Row] = field(default_factory=list)
    study_cards: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    order_items: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    ledger: list[Row] = field(default_factory=list)
    exam_attempts: list[Row] = field(default_factory=list)
    exam_results: list[Row] = field(default_factory=list)


def username(number: int) -> str:
    return f"{USERNAME_PREFIX}{number:07d}"


def generate(world: World, seed: int, numbers: range, ids: Ids) -> Rows:
    """The rows of learners `numbers` (1-based, across every run on this database)."""
    rows = Rows()
    for number in numbers:
        _Learner(world, random.Random(seed * 10_000_019 + number), number, ids, rows).live()
    return rows


class _Learner:
    def __init__(self, world: World, rng: random.Random, number: int, ids: Ids, rows: Rows):
        self.world, self.rng, self.number, self.ids, self.rows = world, rng, number, ids, rows
        self.id = next(ids.users)
        # (when, kind, amount, order id, card id): the balance's movements, in any order
        self.movements: list[tuple[datetime, str, int, int | None, int | None]] = []

    def live(self) -> None:
        rng, plans = self.rng, self.world.plans
        years = sorted({plan.year for plan in plans})
        joined = rng.choices(years, weights=range(2, len(years) + 2))[0]
        self._register(joined)
        diligence = rng.random()
        professional = [p for p in plans if p.kind == "professional" and p.year >= joined]
        chosen = rng.choice(professional) if professional else None
        for plan in plans:
            if plan.year < joined:
                continue
            uptake = PUBLIC_UPTAKE if plan.kind == "public" else 0.0
            if plan is chosen:
                uptake = PROFESSIONAL_UPTAKE
            if rng.random() < uptake:
                self._study(plan, diligence)
        if self.movements:
            self._settle()

    def _register(self, joined: int) -> None:
        rng, number = self.rng, self.number
        male = rng.random() < 0.5
        birth = FIRST_BIRTH + timedelta(days=number % BIRTH_DAYS)
        # (birth day, sequence) is unique for the first 7,000,000 learners.
        sequence = (number // BIRTH_DAYS) % 500 * 2 + (1 if male else 0)
        first17 = f"{REGION}{birth:%Y%m%d}{sequence:03d}"
        level = _weighted(rng, TITLE_LEVELS)
        created = datetime(joined, 1, 1, tzinfo=CHINA) + timedelta(minutes=number % 14_400)
        self.rows.users.append(
            (
                self.id,
                username(self.number),
                NO_PASSWORD,
                "learner",
                rng.choice(self.world.orgs),
                rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
                f"13{number % 1_000_000_000:09d}",
                "id_card",
                first17 + id_card_check_character(first17),
                birth,
                "male" if male else "female",
                "none" if level == "none" else "obtained",
                level,
                created,
                created,
            )
        )

    def _study(self, plan: Plan, diligence: float) -> None:
        rng = self.rng
        activated = plan.opens_at + timedelta(
            days=_between(rng, 10, 300), minutes=_between(rng, 0, 1439)
        )
        compulsory = [course for course in plan.courses if course.compulsory]
        electives = [course for course in plan.courses if not course.compulsory]
        wanted = plan.elective_tenths if diligence > 0.15 else plan.elective_tenths // 2
        bought: list[Course] = []
        total = 0
        for course in rng.sample(electives, min(len(electives), plan.most_bought)):
            if total >= wanted:
                break
            bought.append(course)
            total += course.hour_tenths
        kept = list(compulsory)
        if bought:
            paid = activated + timedelta(minutes=_between(rng, 5, 60 * 24 * 14))
            if not self._order(plan, bought, paid):
                kept += bought
        watched = [(course, self._watch(plan, course, activated, diligence)) for course in kept]
        earned = [(course, at) for course, at in watched if at is not None]
        # The engine's rule (progress.store.REFRESH_ENROLMENTS): every compulsory course and
        # the elective hours earned; tests check that the rule agrees with these rows.
        passes = all(any(course is done for done, _ in earned) for course in compulsory) and sum(
            course.hour_tenths for course, _ in earned if not course.compulsory
        ) >= (plan.elective_tenths)
        self.rows.enrolments.append(
            (self.id, plan.id, "passed" if passes else "learning",
             sum(course.hour_tenths for course, _ in earned), activated,
             max(at for _, at in earned) if passes else None)
        )  # fmt: skip

    def _order(self, plan: Plan, courses: list[Course], paid: datetime) -> bool:
        """A paid order for these courses; True when it was refunded afterwards."""
        rng = self.rng
        order_id = next(self.ids.orders)
        amount = sum(course.price_fen for course in courses)
        method = _weighted(rng, METHODS)
        bank = rng.choice(sorted(BANKS)) if method == "bank" else None
        created = paid - timedelta(minutes=_between(rng, 1, 30))
        refunded = rng.random() < REFUND_RATE
        closed = paid + timedelta(days=_between(rng, 1, 7)) if refunded else None
        trade_no = (
            f"{created:%Y%m%d%H%M%S}{hashlib.sha1(str(order_id).encode()).hexdigest()[:10].upper()}"
        )
        self.rows.orders.append(
            (order_id, trade_no, self.id, "refunded" if refunded else "paid", amount, method, bank,
             created, paid, closed)
        )  # fmt: skip
        self.rows.order_items += [
            (order_id, plan.id, course.id, course.title, course.hour_tenths, course.price_fen)
            for course in courses
        ]
        if method == "balance":
            for _ in range(-(-amount // CARD_VALUE_FEN)):
                card_id = next(self.ids.cards)
                payload = f"9{card_id:014d}"
                self.rows.study_cards.append(
                    (card_id, payload + check_digit(payload), NO_PASSWORD, CARD_VALUE_FEN,
                     self.ids.card_batch, "used", self.id, created, created)
                )  # fmt: skip
                self._move("recharge", CARD_VALUE_FEN, created, card_id=card_id)
            self._move("payment", -amount, paid, order_id=order_id)
        else:
            external = int(hashlib.sha256(f"{method}:{order_id}".encode()).hexdigest(), 16)
            self.rows.payments.append(
                (order_id, "alipay" if method == "alipay" else "bank", f"{external % 10**28:028d}",
                 amount, paid, '{"trade_status": "TRADE_SUCCESS"}')
            )  # fmt: skip
        if closed is not None:
            # Refunds go to the balance (`jixu orders refund`), whatever paid the order.
            self._move("refund", amount, closed, order_id=order_id)
        return refunded

    def _move(
        self, kind: str, amount: int, at: datetime, *, order_id: int | None = None,
        card_id: int | None = None,
    ) -> None:  # fmt: skip
        self.movements.append((at, kind, amount, order_id, card_id))

    def _settle(self) -> None:
        """The ledger in time order (plans overlap: one's refund may follow another's
        payment) and the balance it leaves; never below zero, since every payment by balance
        follows its own recharge."""
        balance = 0
        for at, kind, amount, order_id, card_id in sorted(self.movements, key=lambda m: m[0]):
            balance += amount
            self.rows.ledger.append((self.id, kind, amount, balance, order_id, card_id, at))
        self.rows.accounts.append((self.id, balance))

    def _watch(
        self, plan: Plan, course: Course, activated: datetime, diligence: float
    ) -> datetime | None:
        """Select and watch the course; returns when it was completed (and its exam passed,
        if it has one), or None."""
        rng = self.rng
        source = "compulsory" if course.compulsory else "purchase"
        complete = rng.random() < 0.3 + 0.65 * diligence
        started = activated + timedelta(days=_between(rng, 0, 30))
        done = started + timedelta(days=_between(rng, 1, 60)) if complete else None
        self.rows.selections.append((self.id, plan.id, course.id, source, activated, done))
        chapters = course.chapters
        watched = len(chapters) if complete else _between(rng, 0, len(chapters))
        for index, (chapter_id, duration) in enumerate(chapters[: watched + 1]):
            whole = index < watched
            if not whole and rng.random() < 0.5:
                break
            hwm = duration if whole else round(duration * rng.random(), 1)
            at = done if done is not None else started + timedelta(days=index)
            self.rows.chapter_progress.append(
                (self.id, chapter_id, hwm, hwm, int(at.timestamp() * 1000), whole, at)
            )
        if done is None or not course.examined:
            return done
        exam = self.world.exam(plan.id, course.id)
        return self._sit(exam, done, diligence) if exam is not None else None

    def _sit(self, exam: Exam, completed: datetime, diligence: float) -> datetime | None:
        """Attempts until one passes or none are left; returns when it passed, or None."""
        rng = self.rng
        best: tuple[int, int] | None = None  # (score, attempt id)
        passed_at = None
        started = completed
        for number in range(1, exam.attempts_allowed + 1):
            started += timedelta(days=_between(rng, 0, 5), minutes=_between(rng, 1, 600))
            deadline = started + timedelta(seconds=exam.duration_s)
            skill = min(0.999, max(0.0, diligence + rng.gauss(0.1 * number, 0.25)))
            sitting = exam.sittings[int(skill * len(exam.sittings))]
            by_deadline = rng.random() < 0.1
            submitted = (
                deadline
                if by_deadline
                else started + timedelta(seconds=int(exam.duration_s * rng.uniform(0.5, 0.95)))
            )
            attempt_id = next(self.ids.attempts)
            passed = sitting.score >= exam.pass_score
            self.rows.exam_attempts.append(
                (attempt_id, exam.id, self.id, number, started, deadline, "submitted",
                 sitting.paper, exam.total_score, sitting.answers, sitting.score, passed,
                 submitted, "deadline" if by_deadline else "learner")
            )  # fmt: skip
            if best is None or sitting.score > best[0]:
                best = (sitting.score, attempt_id)
            if passed:
                passed_at = submitted
                break
            if rng.random() < 0.3:
                break  # gave up
            started = submitted
        assert best is not None
        self.rows.exam_results.append(
            (self.id, exam.id, best[0], best[1], passed_at is not None, passed_at,
             best[0] if passed_at is not None else None)
        )  # fmt: skip
        return passed_at


def _between(rng: random.Random, low: int, high: int) -> int:
    """randint's draw at a fraction of its cost (no rejection sampling: a bias of at most
    2⁻⁵³, nothing a generated population can show)."""
    return low + int(rng.random() * (high - low + 1))


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    draw = rng.random()
    for value, weight in choices:
        draw -= weight
        if draw < 0:
            return value
    return choices[-1][0]
