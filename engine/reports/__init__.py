"""统计报表 (F31 reports): completion, yearly hours, exams and revenue of an administrator's
learners, with their CSV exports."""
