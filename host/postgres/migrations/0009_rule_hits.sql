-- The hourly rule hit counts the workflow's rule statistics roll up: per
-- hour, policy revision, package, output and rule, how many decisions the
-- rule had an effect in, the first and last of them and the last one's
-- order. Hosts add to the same rows (INSERT ... ON CONFLICT DO UPDATE).
-- The key's text is byte-ordered ("C"), as the bbolt store orders it; a
-- time that is not known is NULL.
CREATE TABLE rule_hits (
	hour          timestamptz NOT NULL,
	revision      text COLLATE "C" NOT NULL,
	package       text COLLATE "C" NOT NULL,
	output        text COLLATE "C" NOT NULL,
	rule          text COLLATE "C" NOT NULL,
	count         bigint NOT NULL,
	first_at      timestamptz,
	last_at       timestamptz,
	last_order_id text NOT NULL DEFAULT '',
	PRIMARY KEY (hour, revision, package, output, rule)
);
