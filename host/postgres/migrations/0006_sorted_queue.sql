-- The sorted hold queue: orders by placed_at, and orders on hold by when
-- they went on hold (the earliest held_at of their holds, or imported_at
-- for holds placed before held_at was recorded), for sort= and
-- held_before=/held_after=.
ALTER TABLE orders ADD COLUMN held_at timestamptz;
UPDATE orders SET held_at = (
	SELECT min(coalesce(h->>'held_at', record->>'imported_at')::timestamptz) FROM json_array_elements(record->'holds') AS h)
WHERE status = 'on_hold';
CREATE INDEX orders_by_placed ON orders (placed_at, id);
CREATE INDEX orders_by_held ON orders (held_at, id) WHERE held_at IS NOT NULL;
