-- Exam administration: questions are never edited in place nor deleted once they exist.
-- Papers of attempts (in progress or graded) reference questions by id and are graded and
-- reviewed against the question row, so an edit stores a new version and retires the old
-- row, and a deletion only retires it. A retired question is never drawn again.
ALTER TABLE questions ADD COLUMN retired_at timestamptz;
ALTER TABLE questions ADD COLUMN replaced_by bigint REFERENCES questions (id);
DROP INDEX questions_course_idx;
CREATE INDEX questions_bank_idx ON questions (course_id, kind, id) WHERE retired_at IS NULL;
