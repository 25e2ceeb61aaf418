"""Question-bank files: the XLSX/CSV template, and reading an uploaded file into checked
questions — every row checked first, every error reported with its row, and nothing
returned from a file with any error."""

import csv
import io
import zipfile
import zlib
from collections.abc import Iterator

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from engine.errors import InvalidInput
from engine.exams.question_form import COLUMNS, NewQuestion, read_question

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
# An XLSX is a zip: its parts may not unpack to more than this (a zip bomb would).
MAX_UNPACKED = 40 * 1024 * 1024
# Errors listed at most; the count says how many more there are.
MAX_LISTED = 100
REQUIRED = ("题型", "题干", "选项A", "选项B", "答案", "分值")
HEADER = list(COLUMNS)
_ZIP = b"PK\x03\x04"
# Excel 97–2003 (.xls), and any workbook saved with a password (an encrypted container).
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOM = b"\xef\xbb\xbf"
EXAMPLES = [
    ["单选题", "继续教育证书由哪个部门验证盖章？", "学员所在单位", "继续教育（人力资源）部门", "学员本人", "培训机构", "", "", "B", "2", "见常见政策问题。"],
    ["多选题", "专业技术人员继续教育的内容包括哪些？", "公需科目", "专业科目", "娱乐活动", "", "", "", "AB", "4", ""],
    ["判断题", "学习进度达到 100% 后才可参加考试。", "", "", "", "", "", "", "正确", "2", ""],
]  # fmt: skip
INSTRUCTIONS = [
    "题型：单选题、多选题或判断题。",
    "题干：不能为空。",
    "选项A…选项F：单选题、多选题至少填 2 个选项，须从选项A起连续填写；判断题不填选项。",
    "答案：单选题填一个选项字母（如 B）；多选题填两个或更多字母（如 ABD）；判断题填“正确”或“错误”。",
    "分值：1 到 100 的整数。",
    "解析：可不填。",
    f"每个文件最多 {MAX_ROWS} 道题、{MAX_BYTES // 1024 // 1024} MB；CSV 文件可为 UTF-8 或 GB18030 编码。",
    "文件中任何一行有错误时，整个文件都不会导入，请按错误提示修改后重新导入。",
]


class BankFileRefused(InvalidInput):
    """The file was not imported; `errors` lists why (row by row where rows are at fault)."""

    def __init__(self, errors: list[str], *, hint: str = "") -> None:
        listed = errors[:MAX_LISTED]
        if len(errors) > MAX_LISTED:
            listed.append(f"另有 {len(errors) - MAX_LISTED} 处错误未列出")
        message = (
            f"未导入任何题目：{errors[0]}"
            if len(errors) == 1
            else f"文件有 {len(errors)} 处错误，未导入任何题目"
        )
        super().__init__({"file": listed[0]}, f"{message}。{hint}" if hint else message)
        self.errors = listed


# A question and the row of the file it came from (the header is row 1).
NumberedQuestion = tuple[int, NewQuestion]


def read_bank(data: bytes) -> list[NumberedQuestion]:
    """The questions of an uploaded XLSX or CSV file, or BankFileRefused."""
    if not data:
        raise BankFileRefused(["文件为空"])
    if len(data) > MAX_BYTES:
        raise BankFileRefused([f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请分批导入"])
    if data.startswith(_OLE2):
        raise BankFileRefused(
            ["不支持旧版 Excel（.xls）文件或设有密码的文件，请另存为不设密码的 .xlsx 或 CSV 后导入"]
        )
    rows = _xlsx_rows(data) if data.startswith(_ZIP) else _csv_rows(data)
    return _questions(rows)


def _questions(rows: Iterator[list[str]]) -> list[NumberedQuestion]:
    header = next(rows, None)
    if header is None:
        raise BankFileRefused(["文件中没有内容"])
    fields = _fields(header)
    errors: list[str] = []
    questions: list[NumberedQuestion] = []
    first_row_of: dict[tuple[str, str], int] = {}
    filled = 0
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        filled += 1
        if filled > MAX_ROWS:
            raise BankFileRefused([f"文件超过 {MAX_ROWS} 道题，请分批导入"])
        if any(cell.strip() for cell in cells[len(fields) :]):
            errors.append(f"第 {number} 行：表头以外的列有内容")
        question, found = read_question(dict(zip(fields, cells, strict=False)))
        errors += [f"第 {number} 行：{message}" for _, message in found]
        if question is None:
            continue
        earlier = first_row_of.setdefault((question.kind, question.stem), number)
        if earlier != number:
            errors.append(f"第 {number} 行：与第 {earlier} 行的题目重复")
        questions.append((number, question))
    if errors:
        raise BankFileRefused(errors)
    if not questions:
        raise BankFileRefused(["文件中没有题目"])
    return questions


def _fields(header: list[str]) -> list[str]:
    """The field of each column, or BankFileRefused naming what is wrong with the header."""
    names = [cell.strip() for cell in header]
    while names and not names[-1]:
        names.pop()
    errors = [f"表头“{name}”不是模板中的列" for name in names if name not in COLUMNS]
    errors += [f"表头缺少“{name}”列" for name in REQUIRED if name not in names]
    errors += [f"表头“{name}”重复" for name in dict.fromkeys(names) if names.count(name) > 1]
    if errors:
        raise BankFileRefused(errors, hint="请下载题库模板，按模板第 1 行的表头填写")
    return [COLUMNS[name] for name in names]


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    """The first worksheet's rows as text, read whole here so that a broken file is refused
    before anything is checked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED:
            raise BankFileRefused(["文件内容过大，请分批导入"])
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows: list[list[str]] = []
            filled = 0
            # Blank rows are skipped later; past the limit in filled rows, reading stops.
            for row in book.worksheets[0].iter_rows(values_only=True):
                rows.append([_cell_text(value) for value in row])
                filled += any(value is not None for value in row)
                if filled > MAX_ROWS + 1:
                    break
        finally:
            book.close()
    # A damaged package fails in any of these, depending on which part is damaged and how.
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,  # a compression method zipfile does not know
        RuntimeError,  # zipfile: a part marked encrypted
        InvalidFileException,
        KeyError,
        ValueError,
        SyntaxError,
    ):
        raise BankFileRefused(["文件不是有效的 XLSX 文件，请使用题库模板"]) from None
    except IndexError:
        raise BankFileRefused(["文件中没有工作表"]) from None
    return iter(rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    if b"\x00" in data:
        raise BankFileRefused(["文件不是有效的 XLSX 或 CSV 文件，请使用题库模板"])
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        yield from reader
    except csv.Error:
        raise BankFileRefused(
            [f"第 {reader.line_num} 行：CSV 格式有误（引号不成对或内容过长）"]
        ) from None


def _decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GB18030 (Chinese Excel's CSV)."""
    if data.startswith(_BOM):
        encodings = ["utf-8"]
        data = data[len(_BOM) :]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BankFileRefused(["文件编码无法识别，请将 CSV 保存为 UTF-8 或 GB18030 编码"])


def template_xlsx() -> bytes:
    """The bank template: the header, one example of each kind, and a sheet of instructions."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "题目"
    for row in (HEADER, *EXAMPLES):
        sheet.append(row)
    for column, width in zip("ABCDEFGHIJK", (8, 40, 18, 18, 18, 18, 18, 18, 8, 6, 30), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("填写说明")
    for line in INSTRUCTIONS:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    """The bank template as CSV, UTF-8 with a BOM so that Excel reads its Chinese."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER, *EXAMPLES])
    return _BOM + buffer.getvalue().encode("utf-8")
