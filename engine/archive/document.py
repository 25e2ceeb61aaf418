"""A certificate as a PDF: Chinese set in an embedded TrueType face, a QR code to its verify
page, its serial and content hash. The same facts give the same bytes: the document's dates
and file identifier come from the certificate, never from the time it is printed."""

from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path

import segno
from fontTools.ttLib import TTCollection
from fpdf import FPDF
from fpdf.fonts import FontFace

from engine.archive.types import CertificateFacts

# 文泉驿微米黑 (WenQuanYi Micro Hei): TrueType outlines, GB 18030's common hanzi, from the PyPI
# package paperang-p2-fonts-cjk, so `pip install` brings it on any machine.
FONT_PACKAGE = "paperang_p2_fonts_cjk"
FONT_FILE = "fonts/wqy-microhei.ttc"
FONT_FACE = 0  # the proportional face of the collection; 1 is its monospaced twin
FAMILY = "cjk"
KIND_LABELS = {"public": "公需科目", "professional": "专业科目"}
QR_SIZE_MM = 34.0
INK = (25, 25, 25)
FRAME = (31, 111, 178)


def font_path() -> Path:
    return Path(str(files(FONT_PACKAGE) / FONT_FILE))


@cache
def font_characters() -> frozenset[int]:
    """Every code point the face has a glyph for."""
    collection = TTCollection(font_path(), lazy=True)
    try:
        return frozenset(collection.fonts[FONT_FACE].getBestCmap())
    finally:
        collection.close()


def missing_characters(text: str) -> set[str]:
    """The characters of `text` the face cannot draw (whitespace aside)."""
    have = font_characters()
    return {
        character for character in text if not character.isspace() and ord(character) not in have
    }


def _hours(value: float) -> str:
    return f"{value:g}"


def render(
    facts: CertificateFacts, content_hash: str, verify_url: str, issued_at: datetime, site_name: str
) -> bytes:
    """The certificate's PDF (A4, portrait)."""
    pdf = Document(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(issued_at)
    pdf.set_title(f"培训合格证书 {facts.serial}")
    pdf.set_author(site_name)
    pdf.set_creator(site_name)
    pdf.add_font(FAMILY, "", font_path(), collection_font_number=FONT_FACE)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(22, 20, 22)
    pdf.add_page()
    pdf.set_text_color(*INK)

    pdf.set_y(26)
    pdf.set_font(FAMILY, size=26)
    pdf.cell(0, 14, "培训合格证书", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=11)
    pdf.cell(0, 7, site_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font(FAMILY, size=13)
    pdf.multi_cell(
        0,
        9,
        f"兹证明{facts.learner_name}（{facts.id_label}：{facts.id_masked}）参加"
        f"“{facts.plan_title}”，完成规定的学习内容，考核合格，获得{_hours(facts.earned_hours)}"
        f"学时{_split(facts)}。特发此证。",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)

    top = pdf.get_y()
    pdf.set_font(FAMILY, size=11)
    details = [
        ("姓名", facts.learner_name),
        (facts.id_label, facts.id_masked),
        ("工作单位", facts.org_name),
        ("培训计划", facts.plan_title),
        ("计划类别", f"{facts.plan_year}年{KIND_LABELS.get(facts.plan_kind, facts.plan_kind)}"),
        ("考核学时", f"{_hours(facts.required_hours)}学时"),
        ("获得学时", f"{_hours(facts.earned_hours)}学时"),
        ("学习时间", f"{facts.activated_on} 至 {facts.passed_on}"),
        ("发证日期", facts.issued_on),
        ("证书编号", facts.serial),
    ]
    for label, value in details:
        pdf.set_x(pdf.l_margin)
        pdf.cell(24, 7.5, label)
        pdf.multi_cell(pdf.epw - 24 - QR_SIZE_MM - 6, 7.5, value, new_x="LMARGIN", new_y="NEXT")
    details_bottom = pdf.get_y()
    _qr(pdf, verify_url, pdf.w - pdf.r_margin - QR_SIZE_MM, top)
    # On screen, the code is also a link to the page it encodes.
    pdf.link(pdf.w - pdf.r_margin - QR_SIZE_MM, top, QR_SIZE_MM, QR_SIZE_MM, verify_url)
    pdf.set_xy(pdf.w - pdf.r_margin - QR_SIZE_MM - 4, top + QR_SIZE_MM + 1)
    pdf.set_font(FAMILY, size=8)
    pdf.multi_cell(QR_SIZE_MM + 8, 4.5, "扫码验证证书真伪", align="C")
    pdf.set_y(max(details_bottom, pdf.get_y()) + 3)

    pdf.set_font(FAMILY, size=8.5)
    pdf.multi_cell(0, 4.8, f"内容哈希（SHA-256）：{content_hash}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 4.8, f"验证地址：{verify_url}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)

    pdf.set_font(FAMILY, size=12)
    pdf.cell(0, 8, "课程与考核", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)
    with pdf.table(
        col_widths=(76, 16, 16, 28, 30),
        text_align=("LEFT", "CENTER", "CENTER", "CENTER", "CENTER"),
        headings_style=FontFace(emphasis="", fill_color=(232, 239, 247)),
        line_height=6.5,
    ) as table:
        table.row(("课程名称", "类别", "学时", "完成日期", "考试成绩"))
        for course in facts.courses:
            score = (
                f"{course.exam_score}/{course.exam_total}"
                if course.exam_score is not None
                else "无需考试"
            )
            table.row(
                (
                    course.title,
                    "必修" if course.compulsory else "选修",
                    _hours(course.hours),
                    course.completed_on or "",
                    score,
                )
            )
    return bytes(pdf.output())


def _split(facts: CertificateFacts) -> str:
    """（必修…，选修…） where the plan had compulsory courses; nothing where it had none."""
    if not facts.compulsory_earned:
        return ""
    return f"（必修{_hours(facts.compulsory_earned)}学时，选修{_hours(facts.elective_earned)}学时）"


class Document(FPDF):
    """Every page of a certificate is framed."""

    def header(self) -> None:
        _frame(self)


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*FRAME)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, pdf.w - 26, pdf.h - 26)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)


def _qr(pdf: FPDF, url: str, x: float, y: float) -> None:
    """The QR code drawn as vector squares: sharp at any zoom, and the same on every print."""
    code = segno.make(url, error="m", micro=False)
    matrix = [list(row) for row in code.matrix]
    module = QR_SIZE_MM / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        start = None
        # Runs of dark modules in a row become one rectangle each.
        for column, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                pdf.rect(
                    x + start * module,
                    y + row_index * module,
                    (column - start) * module,
                    module,
                    style="F",
                )
                start = None
