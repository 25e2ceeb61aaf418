-- The catalogue administered in the browser: named key points (关键目录) in a chapter, and
-- the indexes its pages and guards read by.

-- A moment of a chapter's video and its title, as an administrator names it. A chapter
-- without any shows the player's marks every 30 seconds, as before.
CREATE TABLE chapter_key_points (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chapter_id bigint NOT NULL REFERENCES chapters (id) ON DELETE CASCADE,
    at_s       double precision NOT NULL CHECK (at_s >= 0),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    UNIQUE (chapter_id, at_s)
);

-- A chapter's learners in progress are counted before it may be deleted or its video
-- replaced by one of another length.
CREATE INDEX chapter_progress_chapter_idx ON chapter_progress (chapter_id);
CREATE INDEX teachers_org_idx ON teachers (org_id);
