"""The demo catalogue: the plans of the manual (§2) at their real course counts and hours.

Five yearly public plans (公需科目, 2014–2018) and the six 2018 professional plans (专业科目).
Everything is derived from fixed seeds, so every machine builds the same catalogue, and
rows are keyed by code, so seeding again (engine/demo.py) changes nothing. Chapters play
the committed demo clips (scripts/make_demo_media.py): a 3-hour course is a few minutes of
video here, which keeps the demo testable by hand.
"""

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import msgspec

from engine.catalog import demo_titles as words
from engine.catalog.types import ChapterRow, CourseRow, PlanCourseRow, PlanRow, TeacherRow
from engine.clock import CHINA

MANIFEST = Path(__file__).resolve().parents[2] / "media" / "demo" / "clips.json"
MEDIA_FOLDER = "demo/"  # a chapter names its file relative to the media folder
# Asia/Shanghai has kept +08:00 without daylight saving since 1991.
# Far in the future on purpose: in the demo a learner can still study the 2014 plan.
DEMO_CLOSES_AT = datetime(2035, 12, 31, 23, 59, 59, tzinfo=CHINA)
PRICE_PER_HOUR_FEN = 500  # 5 元/学时 (manual §2)
COMPULSORY_TENTHS = 60
PUBLIC_REQUIRED = (60, 260)  # 32 学时 = 6 compulsory + 26 elective (manual §2)
# The manual sets no requirement for professional plans. The national rule (专业技术人员继续
# 教育规定, 2015) asks for 90 hours a year, at least two thirds professional: 60 hours, which
# every 2018 professional plan can cover (the smallest has 78).
PROFESSIONAL_REQUIRED_TENTHS = 600
EXAMINED_ELECTIVES_2014 = 5  # "部分选修课须考试"; the manual does not say how many
TEACHERS_PER_CATEGORY = {
    "public": 40, "engineering": 32, "economics": 18, "accounting": 6, "law": 10,
    "human-resources": 10, "culture": 10,
}  # fmt: skip


@dataclass(frozen=True)
class PlanSpec:
    code: str
    title: str
    kind: str
    year: int
    category: str | None
    words: str  # the key into the word lists of demo_titles
    courses: int
    hours: int


PUBLIC_COUNTS = {
    2018: (104, 172),
    2017: (83, 254),
    2016: (72, 229),
    2015: (59, 226),
    2014: (46, 224),
}
PROFESSIONAL_COUNTS = [
    ("engineering", "工程技术类", 278, 614), ("economics", "经济类", 141, 656),
    ("accounting", "会计审计类", 30, 78), ("law", "法律类", 54, 186),
    ("human-resources", "人力资源管理", 72, 277), ("culture", "群众文化", 62, 107),
]  # fmt: skip
PLANS = [
    PlanSpec(f"public-{year}", f"{year}年天津市专业技术人员继续教育公需科目", "public", year,
             None, "public", courses, hours)
    for year, (courses, hours) in PUBLIC_COUNTS.items()
] + [
    PlanSpec(f"professional-2018-{key}", f"2018年专业科目（{category}）", "professional", 2018,
             category, key, courses, hours)
    for key, category, courses, hours in PROFESSIONAL_COUNTS
]  # fmt: skip


class Clip(msgspec.Struct, frozen=True):
    file: str
    title: str
    duration_s: float
    frames: int


class ClipManifest(msgspec.Struct):
    clips: list[Clip]


@dataclass
class DemoCatalogue:
    plans: list[PlanRow] = field(default_factory=list)
    teachers: list[TeacherRow] = field(default_factory=list)
    courses: list[CourseRow] = field(default_factory=list)
    chapters: list[ChapterRow] = field(default_factory=list)
    links: list[PlanCourseRow] = field(default_factory=list)


def load_clips(path: Path = MANIFEST) -> list[Clip]:
    """The demo clips with their durations as measured when they were made."""
    return msgspec.json.decode(path.read_bytes(), type=ClipManifest).clips


def spread_hours(rng: random.Random, count: int, total_tenths: int) -> list[int]:
    """`count` course lengths in half hours around the mean, summing exactly to the total."""
    units, rest = divmod(total_tenths, 5)
    assert rest == 0, "totals are whole or half hours"
    mean = units / count
    low = max(2, int(mean * 0.5))  # never under one hour
    high = max(low + 1, round(mean * 1.5))
    lengths = [rng.randint(low, high) for _ in range(count)]
    missing = units - sum(lengths)
    while missing:
        index = rng.randrange(count)
        step = 1 if missing > 0 else -1
        if low <= lengths[index] + step <= high:
            lengths[index] += step
            missing -= step
    return [length * 5 for length in lengths]


def course_titles(key: str) -> list[str]:
    """Every title of one category's word lists, in a fixed shuffled order."""
    picked, topics, forms = words.TITLE_SOURCES[key]
    made = [form.format(topic) for topic in topics for form in forms]
    random.Random(f"jixu-demo/titles/{key}").shuffle(made)
    return picked + made


def make_teachers(key: str, taken: set[str]) -> list[TeacherRow]:
    rng = random.Random(f"jixu-demo/teachers/{key}")
    titles, affiliations, fields = words.TEACHER_SOURCES[key]
    teachers: list[TeacherRow] = []
    while len(teachers) < TEACHERS_PER_CATEGORY[key]:
        name = rng.choice(words.SURNAMES) + rng.choice(words.GIVEN_NAMES)
        if name in taken:
            continue
        taken.add(name)
        title = rng.choice(titles)
        profile = (
            f"{name}，{rng.choice(affiliations)}{title}，"
            f"{words.SUPERVISORS.get(title) or rng.choice(words.DEGREES)}。"
            f"长期从事{rng.choice(fields)}领域的教学与研究工作，主持或参与国家级、省部级课题"
            f"{rng.randint(3, 20)}项，发表学术论文{rng.randint(20, 120)}篇，出版专著"
            f"{rng.randint(1, 6)}部。{rng.choice(words.HONOURS)}"
        )
        teachers.append(TeacherRow(name=name, title=title, profile=profile))
    return teachers


def describe(rng: random.Random, title: str) -> str:
    sentences = (words.DESCRIPTION_OPENINGS, words.DESCRIPTION_MIDDLES, words.DESCRIPTION_ENDINGS)
    return "".join(rng.choice(choices).format(t=title) for choices in sentences)


def build_catalogue(clips: list[Clip]) -> DemoCatalogue:
    """The whole demo catalogue as rows; the same on every call."""
    catalogue = DemoCatalogue()
    taken_names: set[str] = set()
    teachers = {key: make_teachers(key, taken_names) for key in TEACHERS_PER_CATEGORY}
    catalogue.teachers = [teacher for pool in teachers.values() for teacher in pool]
    titles = {key: iter(course_titles(key)) for key in words.TITLE_SOURCES}
    used_titles: set[str] = set()

    def next_title(key: str, preferred: list[str]) -> str:
        for title in itertools.chain(preferred, titles[key]):
            if title not in used_titles:
                used_titles.add(title)
                return title
        raise ValueError(f"the word lists of {key!r} ran out of distinct titles")

    for spec in PLANS:
        rng = random.Random(f"jixu-demo/{spec.code}")
        catalogue.plans.append(plan_row(spec))
        courses = plan_courses(spec, rng, next_title)
        for number, (title, tenths, is_compulsory, is_examined) in enumerate(courses, 1):
            code = f"{spec.code}-{number:03d}"
            teacher = rng.choice(teachers[spec.words])
            catalogue.courses.append(
                CourseRow(code, title, teacher.name, teacher.profile, describe(rng, title), tenths)
            )
            catalogue.links.append(PlanCourseRow(spec.code, code, is_compulsory, is_examined))
            count = 3 if is_compulsory else rng.randint(1, 4)
            first_clip = rng.randrange(len(clips))
            catalogue.chapters += [
                chapter_row(code, position, count, clips[(first_clip + position) % len(clips)])
                for position in range(1, count + 1)
            ]
    return catalogue


# (title, hour tenths, compulsory, examined)
PlannedCourse = tuple[str, int, bool, bool]


def plan_courses(
    spec: PlanSpec, rng: random.Random, next_title: Callable[[str, list[str]], str]
) -> list[PlannedCourse]:
    """The courses of one plan, compulsory first, their hours summing to the manual's."""
    compulsory = words.COMPULSORY_TITLES.get(spec.year) if spec.kind == "public" else None
    elective_tenths = spec.hours * 10 - (COMPULSORY_TENTHS if compulsory else 0)
    hours = spread_hours(rng, spec.courses - (compulsory is not None), elective_tenths)
    year_titles = [
        form.format(topic)
        for topic in words.PUBLIC_TOPICS_BY_YEAR.get(spec.year, [])
        for form in rng.sample(words.PUBLIC_FORMS, words.FORMS_PER_YEAR_TOPIC)
    ] if spec.kind == "public" else []  # fmt: skip
    titles = [next_title(spec.words, year_titles) for _ in hours]
    # Mixed, so that the year's own topics are not all at the top of the list.
    rng.shuffle(titles)
    examined: set[int] = set()
    if spec.year == 2014 and spec.kind == "public":
        examined = set(rng.sample(range(len(hours)), EXAMINED_ELECTIVES_2014))
    courses: list[PlannedCourse] = (
        [(compulsory, COMPULSORY_TENTHS, True, True)] if compulsory else []
    )
    courses += [
        (title, tenths, False, index in examined)
        for index, (title, tenths) in enumerate(zip(titles, hours, strict=True))
    ]
    return courses


def plan_row(spec: PlanSpec) -> PlanRow:
    compulsory, elective = (
        PUBLIC_REQUIRED if spec.kind == "public" else (0, PROFESSIONAL_REQUIRED_TENTHS)
    )
    return PlanRow(
        code=spec.code,
        title=spec.title,
        kind=spec.kind,
        year=spec.year,
        category=spec.category,
        compulsory_tenths=compulsory,
        elective_tenths=elective,
        price_per_hour_fen=PRICE_PER_HOUR_FEN,
        opens_at=datetime(spec.year, 1, 1, tzinfo=CHINA),
        closes_at=DEMO_CLOSES_AT,
        max_rate=1.0,
    )


def chapter_row(course_code: str, position: int, count: int, clip: Clip) -> ChapterRow:
    part = words.CHAPTER_PARTS[count][position - 1]
    return ChapterRow(
        course_code=course_code,
        position=position,
        title=f"第{words.CHAPTER_NUMERALS[position - 1]}讲 {part}",
        media=MEDIA_FOLDER + clip.file,
        duration_s=clip.duration_s,
    )
