"""Question-bank files: every kind of row error with its row number, the file-level
refusals, the encodings Chinese Excel writes, XLSX, and the templates read back."""

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook

from engine.exams.bank_file import (
    HEADER,
    MAX_BYTES,
    MAX_ROWS,
    BankFileRefused,
    read_bank,
    template_csv,
    template_xlsx,
)
from engine.exams.question_form import question_fields, read_question
from engine.exams.types import Option

SINGLE = ["单选题", "题干一", "甲", "乙", "丙", "丁", "", "", "B", "2", "解析"]
MULTIPLE = ["多选题", "题干二", "甲", "乙", "丙", "", "", "", "AC", "4", ""]
TRUE_FALSE = ["判断题", "题干三", "", "", "", "", "", "", "错误", "1", ""]


def csv_bytes(
    rows: list[list[str]], *, encoding: str = "utf-8", header: list[str] = HEADER
) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (header, *rows):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_cells(row: list[str], **cells: str) -> list[str]:
    """The row with some columns (by header name) replaced."""
    changed = list(row)
    for name, value in cells.items():
        changed[HEADER.index(name)] = value
    return changed


def refusal(data: bytes) -> list[str]:
    with pytest.raises(BankFileRefused) as refused:
        read_bank(data)
    return refused.value.errors


def test_a_valid_file_gives_every_question_with_its_row() -> None:
    read = read_bank(csv_bytes([SINGLE, ["", "", ""], MULTIPLE, TRUE_FALSE]))
    assert [number for number, _ in read] == [2, 4, 5]
    single, multiple, true_false = (question for _, question in read)
    assert (single.kind, single.answer, single.score, single.explanation) == (
        "single",
        ["B"],
        2,
        "解析",
    )
    assert [option.key for option in single.options] == list("ABCD")
    assert (multiple.kind, multiple.answer, len(multiple.options)) == ("multiple", ["A", "C"], 3)
    assert true_false.options == [Option("A", "正确"), Option("B", "错误")]
    assert true_false.answer == ["B"]


ROW_ERRORS = [
    (with_cells(SINGLE, 题型=""), "题型不能为空"),
    (with_cells(SINGLE, 题型="填空题"), "题型“填空题”无效，应为单选题、多选题或判断题"),
    (with_cells(SINGLE, 题干=""), "题干不能为空"),
    (with_cells(SINGLE, 题干="长" * 1001), "题干不能超过 1000 字"),
    (with_cells(SINGLE, 选项C=""), "选项C为空，选项须从 A 起连续填写"),
    (with_cells(SINGLE, 选项B="", 选项C="", 选项D="", 答案="A"), "单选题至少需要 2 个选项"),
    (with_cells(SINGLE, 选项D="甲"), "选项D与选项A内容相同"),
    (with_cells(SINGLE, 选项A="长" * 501), "选项A不能超过 500 字"),
    (with_cells(SINGLE, 答案=""), "答案不能为空"),
    (with_cells(SINGLE, 答案="第二个"), "答案“第二个”应为选项字母，如 A 或 ABD"),
    (with_cells(SINGLE, 答案="G"), "答案 G 不在选项中"),
    (with_cells(SINGLE, 答案="AB"), "单选题只能有一个答案"),
    (with_cells(MULTIPLE, 答案="ABA"), "答案中的 A 重复"),
    (with_cells(MULTIPLE, 答案="AD"), "答案 D 不在选项中"),
    (with_cells(MULTIPLE, 答案="C"), "多选题至少应有两个答案"),
    (with_cells(TRUE_FALSE, 选项A="对", 选项B="错"), "判断题的选项固定为“正确”“错误”，可不填写"),
    (with_cells(TRUE_FALSE, 答案="C"), "判断题的答案“C”应为“正确”或“错误”"),
    (with_cells(SINGLE, 分值=""), "分值不能为空"),
    (with_cells(SINGLE, 分值="2.5"), "分值“2.5”应为 1 到 100 的整数"),
    (with_cells(SINGLE, 分值="0"), "分值“0”应为 1 到 100 的整数"),
    (with_cells(SINGLE, 分值="101"), "分值“101”应为 1 到 100 的整数"),
    (with_cells(SINGLE, 解析="长" * 2001), "解析不能超过 2000 字"),
    ([*SINGLE, "多余"], "表头以外的列有内容"),
]


@pytest.mark.parametrize(("row", "message"), ROW_ERRORS)
def test_each_row_error_names_its_row_and_nothing_is_returned(row: list[str], message: str) -> None:
    # The faulty row is the 4th of the file (the header is row 1): good rows come first.
    assert refusal(csv_bytes([MULTIPLE, TRUE_FALSE, row])) == [f"第 4 行：{message}"]


def test_every_error_of_every_row_is_reported() -> None:
    errors = refusal(
        csv_bytes(
            [
                SINGLE,
                with_cells(SINGLE, 题干="", 答案="G"),
                MULTIPLE,
                with_cells(TRUE_FALSE, 分值="x"),
                with_cells(MULTIPLE, 题干="题干一", 题型="单选题", 答案="B"),
                SINGLE,
            ]
        )
    )
    assert errors == [
        "第 3 行：题干不能为空",
        "第 3 行：答案 G 不在选项中",
        "第 5 行：分值“x”应为 1 到 100 的整数",
        "第 6 行：与第 2 行的题目重复",
        "第 7 行：与第 2 行的题目重复",
    ]


def test_answers_are_read_as_people_type_them() -> None:
    cases = {"a, c": ["A", "C"], "Ａ、Ｃ": ["A", "C"], "C；A": ["A", "C"]}
    for typed, answer in cases.items():
        question, errors = read_question(
            {
                "kind": "多选题",
                "stem": "题",
                "option_a": "甲",
                "option_b": "乙",
                "option_c": "丙",
                "answer": typed,
                "score": "２",
            }
        )
        assert errors == []
        assert question is not None
        assert (question.answer, question.score) == (answer, 2)
    for typed, key in {"对": "A", "√": "A", "×": "B", "错误": "B"}.items():
        question, _ = read_question({"kind": "判断题", "stem": "题", "answer": typed, "score": "1"})
        assert question is not None
        assert question.answer == [key]


def test_a_stored_question_fills_the_form_it_is_read_back_from() -> None:
    for row in (SINGLE, MULTIPLE, TRUE_FALSE):
        [(_, question)] = read_bank(csv_bytes([row]))
        fields = question_fields(
            question.kind,
            question.stem,
            question.options,
            question.answer,
            question.score,
            question.explanation,
        )
        assert read_question(fields) == (question, [])


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"")],
)
def test_csv_in_utf8_with_or_without_bom_and_gb18030(encoding: str, prefix: bytes) -> None:
    read = read_bank(prefix + csv_bytes([SINGLE, MULTIPLE], encoding=encoding))
    assert [question.stem for _, question in read] == ["题干一", "题干二"]
    assert read[0][1].options[1].text == "乙"


def test_xlsx_with_numbers_in_its_cells() -> None:
    rows: list[list[object]] = [
        with_cells(SINGLE),
        [*MULTIPLE[:9], 4.0, None],
        ["判断题", "题干三", None, None, None, None, None, None, "正确", 1, None],
    ]
    read = read_bank(xlsx_bytes(rows))
    assert [(question.kind, question.score) for _, question in read] == [
        ("single", 2),
        ("multiple", 4),
        ("true_false", 1),
    ]


def test_xlsx_row_errors_name_the_sheet_rows() -> None:
    errors = refusal(xlsx_bytes([SINGLE, with_cells(SINGLE, 题干="另一题", 答案="G")]))
    assert errors == ["第 3 行：答案 G 不在选项中"]


def test_the_templates_read_back_as_their_three_examples() -> None:
    for template in (template_xlsx(), template_csv()):
        read = read_bank(template)
        assert [question.kind for _, question in read] == ["single", "multiple", "true_false"]


def broken_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "不是表格")
    return buffer.getvalue()


FILE_ERRORS = [
    (b"", "文件为空"),
    (b"x" * (MAX_BYTES + 1), "文件超过 2 MB，请分批导入"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "不支持旧版 Excel（.xls）文件或设有密码的文件，请另存为不设密码的 .xlsx 或 CSV 后导入"),
    (b"PK\x03\x04" + b"\x00" * 100, "文件不是有效的 XLSX 文件，请使用题库模板"),
    (broken_zip(), "文件不是有效的 XLSX 文件，请使用题库模板"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "文件不是有效的 XLSX 或 CSV 文件，请使用题库模板"),
    (b"\xff\xfe\xfd", "文件编码无法识别，请将 CSV 保存为 UTF-8 或 GB18030 编码"),
    ("题型,题干,选项A,选项B,答案,分值\n".encode(), "文件中没有题目"),
    (csv_bytes([SINGLE])[:30] + b'"unclosed', "第 1 行：CSV 格式有误（引号不成对或内容过长）"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), FILE_ERRORS)
def test_files_refused_whole(data: bytes, message: str) -> None:
    assert refusal(data) == [message]


def test_a_wrong_header_is_refused_naming_each_fault() -> None:
    header = ["题型", "题目", "选项A", "选项B", "选项B", "分值"]
    with pytest.raises(BankFileRefused) as refused:
        read_bank(csv_bytes([SINGLE[:6]], header=header))
    assert refused.value.errors == [
        "表头“题目”不是模板中的列",
        "表头缺少“题干”列",
        "表头缺少“答案”列",
        "表头“选项B”重复",
    ]
    assert refused.value.message.endswith("请下载题库模板，按模板第 1 行的表头填写")


def test_too_many_rows_are_refused_before_they_are_checked() -> None:
    rows = [with_cells(SINGLE, 题干=f"题{number}") for number in range(MAX_ROWS + 1)]
    assert refusal(csv_bytes(rows)) == [f"文件超过 {MAX_ROWS} 道题，请分批导入"]
    assert len(read_bank(csv_bytes(rows[:MAX_ROWS]))) == MAX_ROWS


def test_a_long_error_list_is_cut_and_counted() -> None:
    rows = [with_cells(SINGLE, 题干=f"题{number}", 答案="G") for number in range(150)]
    with pytest.raises(BankFileRefused) as refused:
        read_bank(csv_bytes(rows))
    assert len(refused.value.errors) == 101
    assert refused.value.errors[-1] == "另有 50 处错误未列出"
    assert refused.value.message == "文件有 150 处错误，未导入任何题目"


def test_long_cells_are_quoted_short_and_long_numbers_refused() -> None:
    errors = refusal(csv_bytes([with_cells(SINGLE, 分值="9" * 5000, 题型="题" * 30)]))
    assert errors == [
        f"第 2 行：题型“{'题' * 20}…”无效，应为单选题、多选题或判断题",
        f"第 2 行：分值“{'9' * 20}…”应为 1 到 100 的整数",
    ]
