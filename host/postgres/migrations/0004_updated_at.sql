-- When each order last changed (its updated_at, or imported_at for one
-- never changed), for GET /api/v1/orders?updated_after=.
ALTER TABLE orders ADD COLUMN updated_at timestamptz;
UPDATE orders SET updated_at = COALESCE(record->>'updated_at', record->>'imported_at')::timestamptz;
CREATE INDEX orders_by_updated ON orders (updated_at);
