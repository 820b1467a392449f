-- Timed holds: when each order's next timed hold falls due (NULL when
-- none is to act on), for the timer and the due_before filter, and the
-- claim of the host whose timer acts on it.
ALTER TABLE orders ADD COLUMN due_at timestamptz, ADD COLUMN due_claimed_until timestamptz;
CREATE INDEX orders_by_due ON orders (due_at) WHERE due_at IS NOT NULL;
