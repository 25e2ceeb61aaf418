"""Help and service information: questions with their answers, offline service points."""

import msgspec


class Question(msgspec.Struct, frozen=True):
    """A question of the manual's §10 and its answer, one paragraph per item."""

    number: int
    question: str
    answer: tuple[str, ...]

    def mentions(self, terms: list[str]) -> bool:
        """Whether every term appears in the question or its answer (letters in any case)."""
        text = (self.question + "\n" + "\n".join(self.answer)).casefold()
        return all(term.casefold() in text for term in terms)


class Section(msgspec.Struct, frozen=True):
    key: str
    title: str
    questions: tuple[Question, ...]
    intro: str = ""


class ServicePoint(msgspec.Struct, frozen=True):
    """An offline service point that issues invoices and sells study cards (§9)."""

    id: int
    position: int
    name: str
    unit: str
    phone: str
    address: str
    hours: str
