"""A survey's questions as an administrator types them in one text box: blocks separated by
an empty line, each starting with `单选：`, `多选：` or `问答：` and its question, the options
of a choice one a line below it."""

import re

from engine.errors import InvalidInput
from engine.messages.types import QuestionDraft

KINDS = {"单选": "single", "多选": "multiple", "问答": "text"}
HEAD = re.compile(r"^(单选|多选|问答)[：:]\s*(.*)$")
BLOCKS = re.compile(r"\n\s*\n")
EXAMPLE = "单选：课程难度如何？\n偏难\n适中\n偏易\n\n问答：还有什么建议？"


def questions(text: str) -> list[QuestionDraft]:
    """The questions of the text; InvalidInput naming the first block it cannot read."""
    drafts = []
    blocks = [block for block in BLOCKS.split(text.replace("\r\n", "\n").strip()) if block]
    for number, block in enumerate(blocks, 1):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        head = HEAD.match(lines[0])
        if head is None:
            message = f"第{number}题应以“单选：”“多选：”或“问答：”开头"
            raise InvalidInput({"questions": message}, message)
        kind = KINDS[head[1]]
        drafts.append(QuestionDraft(kind, head[2], lines[1:]))  # type: ignore[arg-type]
    if not drafts:
        raise InvalidInput({"questions": "请填写问卷的题目"}, "请填写问卷的题目")
    return drafts
