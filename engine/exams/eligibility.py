"""Whether a learner may start an exam now, and if not, why (F19, F22)."""

from engine.exams.types import ExamSummary


def refusal(exam: ExamSummary, now_ms: int) -> str | None:
    """None when the learner may start an attempt; otherwise the reason, in Chinese."""
    if not exam.course_complete:
        return "课程学习进度未达到100%，完成全部章节后才能参加考试"
    if now_ms < exam.opens_ms:
        return "考试尚未开始，请在考试时间内参加"
    if now_ms >= exam.closes_ms:
        return "考试已结束"
    if exam.attempts_used >= exam.attempts_allowed:
        return "考试次数已用完"
    return None
