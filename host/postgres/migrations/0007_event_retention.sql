-- Event retention: each event's time of change (for pruning), and the
-- position of the last event pruned (a cursor before it is gone).
ALTER TABLE events ADD COLUMN at timestamptz;
UPDATE events SET at = (data->>'at')::timestamptz;
ALTER TABLE events ALTER COLUMN at SET NOT NULL;
ALTER TABLE event_fanout ADD COLUMN pruned_xid xid8 NOT NULL DEFAULT '0', ADD COLUMN pruned_seq bigint NOT NULL DEFAULT 0;
