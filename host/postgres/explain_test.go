package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/pgtest"
)

// TestListQueriesUseIndexes fills a database with 100,000 orders (and
// their labels and 100,000 alert deliveries), spread as a merchant's
// are, and asks PostgreSQL for the plan of every list filter of the API:
// none may read a table whole (a sequential scan).
func TestListQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	db, err := Open(ctx, srv.NewDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Ids sort as ULIDs do; statuses 80% open, 15% on hold, 5% canceled;
	// 10 channels, 1,000 SKUs, 5 tags, 6 hold reasons.
	for _, sql := range []string{
		`INSERT INTO orders (id, channel_id, external_id, number, status, placed_at, fingerprint, record)
		 SELECT lpad(i::text, 26, '0'), 'ch' || (i % 10), 'ext' || i, '#' || i,
			CASE WHEN i % 20 = 0 THEN 'canceled' WHEN i % 7 = 0 THEN 'on_hold' ELSE 'open' END,
			now() - (100000 - i) * interval '1 minute', md5((i % 50000)::text), '{}'
		 FROM generate_series(1, 100000) AS i`,
		`INSERT INTO order_labels (kind, value, order_id) SELECT 'k', 'SKU' || (i % 1000), lpad(i::text, 26, '0') FROM generate_series(1, 100000) AS i`,
		`INSERT INTO order_labels (kind, value, order_id) SELECT 't', 'tag' || (i % 5), lpad(i::text, 26, '0') FROM generate_series(1, 100000) AS i WHERE i % 3 = 0`,
		`INSERT INTO order_labels (kind, value, order_id) SELECT 'h', (ARRAY['custom_rule','duplicate_order','not_managed_item','insufficient_quantity','disabled_source','unmapped_shipping_policy'])[1 + i % 6], lpad(i::text, 26, '0')
		 FROM generate_series(1, 100000) AS i WHERE i % 7 = 0`,
		`UPDATE orders SET updated_at = placed_at + (id::int % 90) * interval '1 minute'`,
		`UPDATE orders SET held_at = placed_at + (id::int % 60) * interval '1 minute' WHERE status = 'on_hold'`,
		// 1 in 100 held orders has a timed hold due within 3 days.
		`UPDATE orders SET due_at = now() + (id::int % 4320) * interval '1 minute' WHERE status = 'on_hold' AND id::int % 100 = 0`,
		`INSERT INTO alert_deliveries (id, status, destination, created_at, next_attempt_at, data)
		 SELECT 'alrt_' || i, CASE WHEN i % 100 = 0 THEN 'pending' WHEN i % 50 = 0 THEN 'failed' ELSE 'delivered' END, 'dest' || (i % 5),
			now() - (100000 - i) * interval '1 minute', now(), '{}' FROM generate_series(1, 100000) AS i`,
		// The feed: 100,000 events of 1,000 transactions.
		`INSERT INTO events (xid, id, type, channel_id, data, at) OVERRIDING SYSTEM VALUE
		 SELECT (1000 + i / 100)::text::xid8, 'evt_' || i, (ARRAY['order.imported','order.held','order.released'])[1 + i % 3], 'ch' || (i % 10), '{}',
			now() - (100000 - i) * interval '1 minute'
		 FROM generate_series(1, 100000) AS i`,
		`ANALYZE`,
	} {
		if _, err := db.pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	day := time.Now().Add(-24 * time.Hour)
	for name, f := range map[string]host.OrderFilter{
		"none":                      {},
		"status open":               {Status: "open"},
		"status on_hold":            {Status: "on_hold"},
		"status canceled":           {Status: "canceled"},
		"tag":                       {Tag: "tag2"},
		"hold_reason":               {HoldReason: "duplicate_order"},
		"channel_id":                {ChannelID: "ch3"},
		"external_id":               {ExternalID: "ext777"},
		"number":                    {Number: "#777"},
		"sku":                       {SKU: "SKU42"},
		"imported_after":            {ImportedAfter: day},
		"imported_before":           {ImportedBefore: day},
		"cursor":                    {After: strings.Repeat("0", 21) + "50000"},
		"status and channel_id":     {Status: "on_hold", ChannelID: "ch3"},
		"hold_reason and tag":       {HoldReason: "custom_rule", Tag: "tag1"},
		"sku and status":            {SKU: "SKU42", Status: "open", After: strings.Repeat("0", 21) + "90000"},
		"due_before":                {DueBefore: time.Now().Add(time.Hour)},
		"status and due_before":     {Status: "on_hold", DueBefore: time.Now().Add(24 * time.Hour)},
		"updated_after":             {UpdatedAfter: time.Now().Add(-time.Hour)},
		"sort placed_at":            {Sort: host.SortPlacedAt},
		"sort -placed_at":           {Sort: host.SortPlacedAtDesc},
		"sort held_at":              {Sort: host.SortHeldAt},
		"sort -held_at from cursor": {Sort: host.SortHeldAtDesc, After: host.SortCursor{At: time.Now().Add(-30 * 24 * time.Hour), ID: "00000000000000000000050000"}.String()},
		"held_before":               {HeldBefore: time.Now().Add(-24 * time.Hour)},
		"sort held_at and channel":  {Sort: host.SortHeldAt, ChannelID: "ch3"},
		"sort held_at and tag":      {Sort: host.SortHeldAt, Tag: "tag1"},
		"status and updated_after":  {Status: "on_hold", UpdatedAfter: time.Now().Add(-time.Hour)},
	} {
		f.Limit = 100
		q, args := listOrdersQuery(f)
		checkPlan(t, db, "orders, "+name, q, args)
	}
	for name, f := range map[string]host.DeliveryFilter{
		"none":        {},
		"status":      {Status: "pending"},
		"destination": {Destination: "dest2"},
		"since":       {Since: day},
		"all three":   {Status: "failed", Destination: "dest1", Since: day},
	} {
		q, args := listDeliveriesAfter(f, nil, 100)
		checkPlan(t, db, "alerts, "+name, q, args)
	}
	checkPlan(t, db, "due alerts", `SELECT id FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY next_attempt_at, id LIMIT 256`, []any{time.Now()})
	checkPlan(t, db, "due holds", `SELECT id FROM orders WHERE due_at <= $1 AND (due_claimed_until IS NULL OR due_claimed_until < now()) ORDER BY due_at LIMIT 100`, []any{time.Now()})
	for name, args := range map[string][]any{
		"feed from the beginning": {"0", 0, host.EventScanLimit, 100, []string{}, ""},
		"feed after a cursor":     {"1500", 50000, host.EventScanLimit, 100, []string{}, ""},
		"feed of a type":          {"1500", 50000, host.EventScanLimit, 100, likePatterns([]string{"order.released"}), ""},
		"feed of a channel":       {"1500", 50000, host.EventScanLimit, 100, []string{}, "ch3"},
	} {
		checkPlan(t, db, name, feedQuery, args)
	}
	checkPlan(t, db, "fan-out", fanOutQuery, []any{"1500", 50000, 501})
	checkPlan(t, db, "look-alikes", `SELECT id, status, channel_id, external_id, number, placed_at FROM orders WHERE fingerprint = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, []any{"abc", "\x7f", 1001})
}

func checkPlan(t *testing.T, db *DB, name, q string, args []any) {
	t.Helper()
	rows, err := db.pool.Query(context.Background(), "EXPLAIN "+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var plan []string
	for rows.Next() {
		var line string
		rows.Scan(&line)
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	text := strings.Join(plan, "\n")
	if strings.Contains(text, "Seq Scan") {
		t.Errorf("%s reads a table whole:\n%s\n%s", name, q, text)
	}
}
