-- Administration: four roles, the organisation that owns each plan and course, the
-- organisation subtree an administrator's scope covers, and the append-only audit log.

-- A teacher account answers Q&A and moderates in the courses granted to it
-- (course_teachers); an administrator manages its organisation's subtree; the super
-- administrator manages everything. The base data's administrator sits at the root.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('learner', 'teacher', 'admin', 'super'));
UPDATE users SET role = 'super'
WHERE role = 'admin' AND org_id IN (SELECT id FROM orgs WHERE parent_id IS NULL);

-- A locked account cannot log in; a reset password must be changed at the next login.
ALTER TABLE users ADD COLUMN locked_at timestamptz;
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

-- The organisation and every organisation below it (itself first).
CREATE FUNCTION org_subtree(root bigint) RETURNS SETOF bigint
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE tree(id) AS (
        SELECT id FROM orgs WHERE id = root
        UNION ALL
        SELECT o.id FROM orgs o JOIN tree t ON o.parent_id = t.id
    )
    SELECT id FROM tree
$$;

-- The organisation and every organisation above it: the plans a learner is offered are
-- those owned by their organisation or one of its ancestors.
CREATE FUNCTION org_ancestry(leaf bigint) RETURNS SETOF bigint
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE chain(id, parent_id) AS (
        SELECT id, parent_id FROM orgs WHERE id = leaf
        UNION ALL
        SELECT o.id, o.parent_id FROM orgs o JOIN chain c ON o.id = c.parent_id
    )
    SELECT id FROM chain
$$;

-- The organisation owning a plan, a course or a teacher: its administrators manage it, and
-- a plan is offered to the learners of that organisation's subtree. NULL: the platform's
-- own (the base data's catalogue), offered to every learner, managed by the super
-- administrator alone.
ALTER TABLE plans ADD COLUMN org_id bigint REFERENCES orgs (id);
CREATE INDEX plans_org_idx ON plans (org_id);
ALTER TABLE courses ADD COLUMN org_id bigint REFERENCES orgs (id);
CREATE INDEX courses_org_idx ON courses (org_id);
ALTER TABLE teachers ADD COLUMN org_id bigint REFERENCES orgs (id);

-- Every administrative action: who, when, what, and the object before and after. Rows
-- are only ever inserted: the triggers below refuse UPDATE, DELETE and TRUNCATE for
-- every role, superusers included (privileges alone do not bind a superuser).
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint REFERENCES users (id),
    actor_name  text NOT NULL,
    actor_role  text NOT NULL,
    org_id      bigint REFERENCES orgs (id),  -- the organisation the object belongs to
    action      text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    object_kind text NOT NULL,
    object_id   text NOT NULL,
    before      jsonb,
    after       jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at DESC);
CREATE INDEX audit_log_object_idx ON audit_log (object_kind, object_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
