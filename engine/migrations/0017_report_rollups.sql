-- 收入统计 at 100,000 learners: a year of orders is ~170,000 orders of ~3,000,000 items, too
-- many to add up within a second. The money is rolled up here by the learner's organisation,
-- plan, payment method and month (China's calendar), kept current by triggers in the same
-- transaction as the facts: every writer of orders and their items (checkout, payment by
-- balance or gateway, refund, the population generator's COPY) passes through them, so none
-- can forget it. A payment counts in the month it was paid, a refund in the month it was
-- refunded; each at the price of the order's items of that plan. The organisation is the
-- learner's when the money moved.
CREATE TABLE revenue_rollup (
    org_id       bigint NOT NULL REFERENCES orgs (id),
    plan_id      bigint NOT NULL REFERENCES plans (id),
    method       text NOT NULL,
    month        date NOT NULL,  -- its first day
    paid_fen     bigint NOT NULL DEFAULT 0,
    refunded_fen bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, org_id, plan_id, method)
);

-- Items added to orders already paid (the generator writes paid orders, then their items).
CREATE FUNCTION revenue_rollup_items() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revenue_rollup AS r (org_id, plan_id, method, month, paid_fen, refunded_fen)
    SELECT u.org_id, m.plan_id, o.method, m.month, sum(m.paid), sum(m.refunded)
    FROM added i
    JOIN orders o ON o.id = i.order_id AND o.status IN ('paid', 'refunded')
    JOIN users u ON u.id = o.learner_id
    CROSS JOIN LATERAL (
        VALUES (i.plan_id, date_trunc('month', o.paid_at AT TIME ZONE 'Asia/Shanghai')::date,
                i.price_fen, 0::bigint),
               (i.plan_id, date_trunc('month', o.closed_at AT TIME ZONE 'Asia/Shanghai')::date,
                0::bigint, CASE WHEN o.status = 'refunded' THEN i.price_fen ELSE 0 END)
    ) AS m (plan_id, month, paid, refunded)
    WHERE m.month IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ORDER BY 4, 1, 2, 3
    ON CONFLICT (month, org_id, plan_id, method) DO UPDATE
        SET paid_fen = r.paid_fen + excluded.paid_fen,
            refunded_fen = r.refunded_fen + excluded.refunded_fen;
    RETURN NULL;
END
$$;
CREATE TRIGGER revenue_rollup_items AFTER INSERT ON order_items
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION revenue_rollup_items();
-- Also under `session_replication_role = replica`, which the population generator sets to
-- skip the foreign keys' checks.
ALTER TABLE order_items ENABLE ALWAYS TRIGGER revenue_rollup_items;

-- Orders paid (unpaid → paid) or refunded (paid → refunded).
CREATE FUNCTION revenue_rollup_orders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revenue_rollup AS r (org_id, plan_id, method, month, paid_fen, refunded_fen)
    SELECT u.org_id, i.plan_id, o.method,
           date_trunc('month', (CASE WHEN o.status = 'paid' THEN o.paid_at ELSE o.closed_at END)
                               AT TIME ZONE 'Asia/Shanghai')::date,
           sum(CASE WHEN o.status = 'paid' THEN i.price_fen ELSE 0 END),
           sum(CASE WHEN o.status = 'refunded' THEN i.price_fen ELSE 0 END)
    FROM after_rows o
    JOIN before_rows b ON b.id = o.id
    JOIN users u ON u.id = o.learner_id
    JOIN order_items i ON i.order_id = o.id
    WHERE (b.status = 'unpaid' AND o.status = 'paid')
       OR (b.status = 'paid' AND o.status = 'refunded')
    GROUP BY 1, 2, 3, 4
    ORDER BY 4, 1, 2, 3
    ON CONFLICT (month, org_id, plan_id, method) DO UPDATE
        SET paid_fen = r.paid_fen + excluded.paid_fen,
            refunded_fen = r.refunded_fen + excluded.refunded_fen;
    RETURN NULL;
END
$$;
CREATE TRIGGER revenue_rollup_orders AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_rollup_orders();
ALTER TABLE orders ENABLE ALWAYS TRIGGER revenue_rollup_orders;

-- What was paid and refunded before this migration.
INSERT INTO revenue_rollup (org_id, plan_id, method, month, paid_fen, refunded_fen)
SELECT u.org_id, m.plan_id, o.method, m.month, sum(m.paid), sum(m.refunded)
FROM orders o
JOIN users u ON u.id = o.learner_id
JOIN order_items i ON i.order_id = o.id
CROSS JOIN LATERAL (
    VALUES (i.plan_id, date_trunc('month', o.paid_at AT TIME ZONE 'Asia/Shanghai')::date,
            i.price_fen, 0::bigint),
           (i.plan_id, date_trunc('month', o.closed_at AT TIME ZONE 'Asia/Shanghai')::date,
            0::bigint, CASE WHEN o.status = 'refunded' THEN i.price_fen ELSE 0 END)
) AS m (plan_id, month, paid, refunded)
WHERE o.status IN ('paid', 'refunded') AND m.month IS NOT NULL
GROUP BY 1, 2, 3, 4;
