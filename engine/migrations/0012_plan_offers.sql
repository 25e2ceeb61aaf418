-- The plans a learner is offered: the platform's own (no organisation) and those of the
-- learner's organisation or any organisation above it. One definition for every query
-- that lists, shows, activates or sells a plan.
CREATE FUNCTION plan_offered(plan_org bigint, learner bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT plan_org IS NULL
        OR plan_org IN (SELECT org_ancestry(u.org_id) FROM users u WHERE u.id = learner)
$$;
