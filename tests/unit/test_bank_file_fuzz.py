"""Whatever a file holds — random bytes, random cells, a damaged workbook — reading it gives
questions or BankFileRefused with messages, never another exception."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.exams.bank_file import HEADER, BankFileRefused, read_bank, template_xlsx
from engine.exams.question_form import KIND_NAMES

TEMPLATE = template_xlsx()
FUZZ = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from([*KIND_NAMES.values(), "A", "ABD", "Ｇ", "正确", "2", "2.0", "-1", "1e9", ""]),
)


def read_or_refuse(data: bytes) -> None:
    try:
        read_bank(data)
    except BankFileRefused as refused:
        errors = refused.errors
    else:
        return
    assert errors
    assert all(isinstance(message, str) and message for message in errors)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    read_or_refuse(data)


@FUZZ
@given(st.lists(st.lists(CELL, max_size=13), max_size=8), st.sampled_from(["utf-8", "gb18030"]))
def test_random_cells_under_the_template_header(rows: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER, *rows])
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # text GB18030 cannot hold (lone surrogates): no such file exists
    read_or_refuse(data)


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(TEMPLATE) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )
)
def test_a_damaged_workbook(changes: list[tuple[int, int]]) -> None:
    damaged = bytearray(TEMPLATE)
    for position, value in changes:
        damaged[position] = value
    read_or_refuse(bytes(damaged))
