-- The change feed: every order event and operational event, written in
-- the transaction of its change. xid is that transaction's id. A reader
-- returns only events of transactions older than every transaction still
-- running (pg_snapshot_xmin), in (xid, seq) order, so an event whose
-- transaction commits late is never behind a cursor already handed out.
CREATE TABLE events (
	xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
	seq        bigint GENERATED ALWAYS AS IDENTITY,
	id         text COLLATE "C" NOT NULL,
	type       text COLLATE "C" NOT NULL,
	channel_id text COLLATE "C" NOT NULL DEFAULT '',
	data       json COMPRESSION lz4 NOT NULL,
	PRIMARY KEY (xid, seq)
);
CREATE UNIQUE INDEX events_by_id ON events (id);

-- Where fanning events out to subscribed destinations stands: the
-- position of the last event fanned out. Hosts take turns on this row.
CREATE TABLE event_fanout (
	id  int PRIMARY KEY CHECK (id = 1),
	xid xid8 NOT NULL,
	seq bigint NOT NULL
);
INSERT INTO event_fanout VALUES (1, '0', 0);
