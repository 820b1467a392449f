-- ordergate schema 1. Text keys that the API pages by sort as bytes
-- (COLLATE "C"), as they do on bbolt, whatever the database's locale.

CREATE TABLE orders (
	id          text COLLATE "C" PRIMARY KEY, -- a ULID: sorts by import time
	channel_id  text COLLATE "C" NOT NULL,
	external_id text COLLATE "C" NOT NULL,
	number      text COLLATE "C" NOT NULL,
	status      text COLLATE "C" NOT NULL,
	placed_at   timestamptz NOT NULL,
	-- fingerprint finds look-alikes for duplicate protection; NULL once
	-- the order is canceled (a canceled order is nobody's original).
	fingerprint text COLLATE "C",
	-- json, not jsonb: the exact text, as a record may hold \u0000
	-- (jsonb refuses it), and nothing is parsed on the way in; compressed
	-- with lz4, several times cheaper than the default pglz.
	record      json COMPRESSION lz4 NOT NULL,
	UNIQUE (channel_id, external_id)
);
-- Every list filter walks one of these newest first.
CREATE INDEX orders_by_status ON orders (status, id);
CREATE INDEX orders_by_channel ON orders (channel_id, id);
CREATE INDEX orders_by_external_id ON orders (external_id, id);
CREATE INDEX orders_by_number ON orders (number, id);
CREATE INDEX orders_by_fingerprint ON orders (fingerprint, id) WHERE fingerprint IS NOT NULL;

-- The many-valued list filters: tags, hold reasons and SKUs of orders.
-- (No foreign key: orders are never deleted, and the key's check would
-- cost a lookup per label of every order.)
CREATE TABLE order_labels (
	kind     "char" NOT NULL, -- 't' tag, 'h' hold reason, 'k' SKU
	value    text COLLATE "C" NOT NULL,
	order_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (kind, value, order_id)
);

CREATE TABLE idempotency_keys (
	channel_id   text COLLATE "C" NOT NULL,
	key          text COLLATE "C" NOT NULL,
	order_id     text COLLATE "C" NOT NULL,
	request_hash text NOT NULL,
	PRIMARY KEY (channel_id, key)
);

CREATE TABLE channels (
	id   text COLLATE "C" PRIMARY KEY,
	data jsonb NOT NULL -- secrets sealed
);

CREATE TABLE channel_cursors (
	channel_id text COLLATE "C" PRIMARY KEY,
	cursor     text NOT NULL
);

CREATE TABLE import_runs (
	channel_id text COLLATE "C" NOT NULL,
	id         text COLLATE "C" NOT NULL,
	data       jsonb NOT NULL,
	PRIMARY KEY (channel_id, id)
);

CREATE TABLE api_keys (
	id         text COLLATE "C" PRIMARY KEY,
	hash       text NOT NULL UNIQUE,
	channel_id text COLLATE "C",
	created_at timestamptz NOT NULL,
	data       jsonb NOT NULL
);
CREATE INDEX api_keys_by_channel ON api_keys (channel_id) WHERE channel_id IS NOT NULL;

CREATE TABLE catalog_items (
	sku  text COLLATE "C" PRIMARY KEY,
	data jsonb NOT NULL
);

CREATE TABLE sources (
	id   text COLLATE "C" PRIMARY KEY,
	data jsonb NOT NULL
);

CREATE TABLE stock (
	sku        text COLLATE "C" NOT NULL,
	source_id  text COLLATE "C" NOT NULL REFERENCES sources ON DELETE CASCADE,
	available  bigint NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (sku, source_id)
);
CREATE INDEX stock_by_source ON stock (source_id, sku);

CREATE TABLE routing_groups (
	id         text COLLATE "C" PRIMARY KEY,
	is_default boolean NOT NULL,
	data       jsonb NOT NULL
);
CREATE UNIQUE INDEX routing_groups_one_default ON routing_groups (is_default) WHERE is_default;

CREATE TABLE routing_channels (
	channel_id text COLLATE "C" PRIMARY KEY REFERENCES channels ON DELETE CASCADE,
	group_id   text COLLATE "C" NOT NULL REFERENCES routing_groups ON DELETE CASCADE
);

CREATE TABLE routing_sources (
	group_id  text COLLATE "C" NOT NULL REFERENCES routing_groups ON DELETE CASCADE,
	source_id text COLLATE "C" NOT NULL REFERENCES sources,
	PRIMARY KEY (group_id, source_id)
);
CREATE INDEX routing_sources_by_source ON routing_sources (source_id);

CREATE TABLE shipping_mappings (
	channel_id text COLLATE "C" PRIMARY KEY REFERENCES channels ON DELETE CASCADE,
	data       jsonb NOT NULL
);

CREATE TABLE settings (
	id   int PRIMARY KEY CHECK (id = 1),
	data jsonb NOT NULL
);

CREATE TABLE alert_destinations (
	name text COLLATE "C" PRIMARY KEY,
	data jsonb NOT NULL -- secrets sealed
);

CREATE TABLE alert_deliveries (
	id              text COLLATE "C" PRIMARY KEY,
	status          text NOT NULL,
	destination     text COLLATE "C" NOT NULL,
	created_at      timestamptz NOT NULL,
	next_attempt_at timestamptz NOT NULL,
	data            json COMPRESSION lz4 NOT NULL -- json, as order records
);
CREATE INDEX alert_deliveries_by_created ON alert_deliveries (created_at, id);
CREATE INDEX alert_deliveries_by_status ON alert_deliveries (status, created_at, id);
CREATE INDEX alert_deliveries_by_destination ON alert_deliveries (destination, created_at, id);
-- The dispatcher's queue: pending deliveries only, by when they are due.
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at, id) WHERE status = 'pending';

-- Counts of orders by status and hold reason and of the outbox by
-- destination and state. Writers append their changes to count_changes
-- (no row is shared by two writers, so concurrent transactions never wait
-- on a counter); readers fold them into count_totals.
CREATE TABLE count_changes (
	kind  text COLLATE "C" NOT NULL, -- 'status', 'hold' or 'outbox'
	name  text COLLATE "C" NOT NULL, -- the status, hold reason or destination
	state text COLLATE "C" NOT NULL, -- the outbox state; '' for orders
	n     bigint NOT NULL
);
CREATE TABLE count_totals (
	kind  text COLLATE "C" NOT NULL,
	name  text COLLATE "C" NOT NULL,
	state text COLLATE "C" NOT NULL,
	n     bigint NOT NULL,
	PRIMARY KEY (kind, name, state)
);

-- Hosts sharing the database: each writes its row at start and its
-- heartbeat (the database's clock) every third of the lease TTL.
CREATE TABLE hosts (
	id           text COLLATE "C" PRIMARY KEY,
	pid          int NOT NULL,
	addr         text NOT NULL,
	version      text NOT NULL,
	revision     text NOT NULL,
	started_at   timestamptz NOT NULL,
	heartbeat_at timestamptz NOT NULL
);

-- One importer per b2c channel: the holder of its lease, which renews it
-- with the database's clock. epoch grows each time the lease changes
-- hands, and a page commits only under the lease's current holder and
-- epoch (fencing).
CREATE TABLE channel_leases (
	channel_id       text COLLATE "C" PRIMARY KEY,
	holder           text COLLATE "C" NOT NULL,
	epoch            bigint NOT NULL,
	expires_at       timestamptz NOT NULL,
	import_requested boolean NOT NULL DEFAULT false
);
CREATE INDEX channel_leases_by_holder ON channel_leases (holder);

-- A delivery a host is sending is claimed until claimed_until; a crashed
-- host's claims run out and the delivery returns to the queue.
ALTER TABLE alert_deliveries ADD COLUMN claimed_until timestamptz;
