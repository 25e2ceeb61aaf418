-- The learner's study record (学习记录, issue 15): per chapter, stretches of time from one beat
-- to another with one outcome, merged by the progress core and written by the flusher with
-- the progress. `reason` is NULL where the time was credited. Kept as long as the chapter.
CREATE TABLE study_segments (
    learner_id  bigint NOT NULL REFERENCES users (id),
    chapter_id  bigint NOT NULL REFERENCES chapters (id) ON DELETE CASCADE,
    from_ms     bigint NOT NULL,
    to_ms       bigint NOT NULL CHECK (to_ms >= from_ms),
    credited_s  double precision NOT NULL DEFAULT 0 CHECK (credited_s >= 0),
    reason      text,
    PRIMARY KEY (learner_id, chapter_id, from_ms)
);
