package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Kinds of order label (order_labels.kind).
const (
	labelTag  = "t"
	labelHold = "h"
	labelSKU  = "k"
	// labelEmail and labelName find a customer's orders (migration 0005),
	// normalized as host.NormalizeEmail and host.NormalizeName make them.
	labelEmail = "e"
	labelName  = "m"
)

type label struct{ kind, value string }

// labels lists what the many-valued list filters find an order by.
func labels(r *host.Record) []label {
	var out []label
	add := func(kind, value string) {
		if value != "" && !slices.Contains(out, label{kind, value}) {
			out = append(out, label{kind, value})
		}
	}
	for _, t := range r.View().Tags {
		add(labelTag, t)
	}
	for _, reason := range holdReasons(r) {
		add(labelHold, reason)
	}
	for _, li := range r.LineItems {
		add(labelSKU, li.SKU)
	}
	add(labelEmail, host.NormalizeEmail(r.Customer.Email))
	add(labelName, host.NormalizeName(r.Customer.Name))
	return out
}

// lastChanged is when the order last changed: the updated_at column.
func lastChanged(r *host.Record) *time.Time {
	if r.UpdatedAt != nil {
		return r.UpdatedAt
	}
	return r.ImportedAt
}

// holdReasons lists an order's hold reasons, each once.
func holdReasons(r *host.Record) []string {
	var out []string
	for _, h := range r.Holds {
		if !slices.Contains(out, h.Reason) {
			out = append(out, h.Reason)
		}
	}
	return out
}

// row is an order ready to store.
type row struct {
	r           *host.Record
	record      []byte
	fingerprint *string
	labels      []label
	deliveries  []*host.Delivery
	events      []*host.Event
}

// encodeOrder encodes r, changed from old (nil for a new order).
func encodeOrder(r, old *host.Record) (row, error) {
	data, err := gojson.Marshal(r)
	if err != nil {
		return row{}, fmt.Errorf("encoding order %s: %w", r.ID, err)
	}
	out := row{r: r, record: data, labels: labels(r), deliveries: host.Deliveries(r, time.Now().UTC()), events: host.OrderEvents(old, r)}
	if r.Status != sdk.StatusCanceled {
		fp := host.Fingerprint(&r.Order)
		out.fingerprint = &fp
	}
	return out, nil
}

func decodeOrder(data []byte) (*host.Record, error) {
	var r host.Record
	if err := gojson.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decoding an order: %w", err)
	}
	return &r, nil
}

// queueInsert adds the inserts of new orders, their labels, alert
// deliveries and events to a batch.
func queueInsert(b *pgx.Batch, rows []row, counts countChanges) error {
	n := len(rows)
	ids, channels, externals, numbers, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	placed, fps, records, dues, updated, held := make([]time.Time, n), make([]*string, n), make([]string, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	var lOrders, lKinds, lValues []string
	var deliveries []*host.Delivery
	var events []*host.Event
	for i, w := range rows {
		r := w.r
		ids[i], channels[i], externals[i], numbers[i], statuses[i] = r.ID, r.ChannelID, r.ExternalID, r.Number, string(r.Status)
		placed[i], fps[i], records[i], dues[i], updated[i], held[i] = r.PlacedAt, w.fingerprint, string(w.record), r.DueAt(), lastChanged(r), r.HeldAt()
		for _, l := range w.labels {
			lOrders, lKinds, lValues = append(lOrders, r.ID), append(lKinds, l.kind), append(lValues, l.value)
		}
		deliveries = append(deliveries, w.deliveries...)
		events = append(events, w.events...)
		counts.order(r, 1)
	}
	b.Queue(`INSERT INTO orders (id, channel_id, external_id, number, status, placed_at, fingerprint, record, due_at, updated_at, held_at)
		SELECT id, c, e, n, s, p, f, r::json, due, upd, hld FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[]) AS u(id, c, e, n, s, p, f, r, due, upd, hld)`,
		ids, channels, externals, numbers, statuses, placed, fps, records, dues, updated, held)
	if len(lOrders) > 0 {
		b.Queue(`INSERT INTO order_labels (order_id, kind, value) SELECT o, k::"char", v FROM unnest($1::text[], $2::text[], $3::text[]) AS u(o, k, v)`, lOrders, lKinds, lValues)
	}
	queueEnqueue(b, deliveries)
	return queueEvents(b, events)
}

// lockLookAlikes returns the keys of the advisory locks that serialize
// the commits of look-alike orders (one per fingerprint, sorted, so two
// transactions take them in the same order and cannot deadlock): two
// look-alikes committed on two hosts at once take turns, and the second
// sees the first.
func lockLookAlikes(orders []host.NewOrder) []int64 {
	var keys []int64
	for _, no := range orders {
		if no.LookAlikes != nil {
			h := fnv.New64a()
			h.Write([]byte("lookalike\x00" + no.LookAlikes.Fingerprint))
			if k := int64(h.Sum64()); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// CommitPage implements host.OrderStore.
func (d *DB) CommitPage(ctx context.Context, orders []host.NewOrder, page host.PageCommit) ([]host.CreateResult, error) {
	return d.createOrders(ctx, orders, &page)
}

type channelExternal struct{ channel, external string }

// stored is an order the transaction found stored, or stores.
type stored struct {
	r           *host.Record
	requestHash string // for idempotency keys
}

func (d *DB) createOrders(ctx context.Context, orders []host.NewOrder, page *host.PageCommit) ([]host.CreateResult, error) {
	encoded := make([]row, len(orders))
	for i, no := range orders {
		w, err := encodeOrder(no.Record, nil)
		if err != nil {
			return nil, err
		}
		if no.Copied {
			w.events = nil
		}
		encoded[i] = w
	}
	var results []host.CreateResult
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	err := d.inPipeline(ctx, func(send func(*pgx.Batch) error) (*pgx.Batch, error) {
		results = make([]host.CreateResult, len(orders))
		// First round trip: the locks, then what is stored already.
		b := &pgx.Batch{}
		leaseHeld := false
		if page != nil && page.Lease != nil {
			queueLeaseCheck(b, page.Lease, &leaseHeld)
		}
		if keys := lockLookAlikes(orders); len(keys) > 0 {
			b.Queue(`SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) WITH ORDINALITY AS u(k, i) ORDER BY i`, keys)
		}
		var chans, exts, idemChans, idemKeys []string
		for _, no := range orders {
			chans, exts = append(chans, no.Record.ChannelID), append(exts, no.Record.ExternalID)
			if no.IdempotencyKey != "" {
				idemChans, idemKeys = append(idemChans, no.Record.ChannelID), append(idemKeys, no.IdempotencyKey)
			}
		}
		byExternal := map[channelExternal]stored{}
		byIdem := map[channelExternal]stored{}
		b.Queue(`SELECT o.record FROM orders o JOIN unnest($1::text[], $2::text[]) AS u(c, e) ON o.channel_id = u.c AND o.external_id = u.e`, chans, exts).
			Query(func(rows pgx.Rows) error {
				var data []byte
				_, err := pgx.ForEachRow(rows, []any{&data}, func() error {
					r, err := decodeOrder(data)
					if err == nil {
						byExternal[channelExternal{r.ChannelID, r.ExternalID}] = stored{r: r}
					}
					return err
				})
				return err
			})
		if len(idemKeys) > 0 {
			b.Queue(`SELECT i.channel_id, i.key, i.request_hash, o.record FROM idempotency_keys i JOIN unnest($1::text[], $2::text[]) AS u(c, k) ON i.channel_id = u.c AND i.key = u.k JOIN orders o ON o.id = i.order_id`, idemChans, idemKeys).
				Query(func(rows pgx.Rows) error {
					var c, k, hash string
					var data []byte
					_, err := pgx.ForEachRow(rows, []any{&c, &k, &hash, &data}, func() error {
						r, err := decodeOrder(data)
						if err == nil {
							byIdem[channelExternal{c, k}] = stored{r: r, requestHash: hash}
						}
						return err
					})
					return err
				})
		}
		committed := map[int][]lookAlike{} // by order: look-alikes committed after its facts were read
		for i, no := range orders {
			if c := no.LookAlikes; c != nil {
				b.Queue(`SELECT id, placed_at FROM orders WHERE fingerprint = $1 AND id > $2 ORDER BY id DESC`, c.Fingerprint, c.Horizon).
					Query(func(rows pgx.Rows) error {
						var la lookAlike
						_, err := pgx.ForEachRow(rows, []any{&la.id, &la.placedAt}, func() error {
							committed[i] = append(committed[i], la)
							return nil
						})
						return err
					})
			}
		}
		if err := send(b); err != nil {
			return nil, fmt.Errorf("reading stored orders: %w", err)
		}
		// The look-alikes' locks are held: one queued now waits for this
		// transaction.
		host.LookAlikesQueued(orders)
		if page != nil && page.Lease != nil && !leaseHeld {
			return nil, host.ErrLeaseLost
		}

		// Then decide, order by order, as the store would one at a time.
		var fresh []row
		var freshIdem []host.NewOrder
		for i, no := range orders {
			r := no.Record
			idem := channelExternal{r.ChannelID, no.IdempotencyKey}
			if no.IdempotencyKey != "" {
				if s, ok := byIdem[idem]; ok {
					if s.requestHash != no.RequestHash {
						results[i] = host.CreateResult{Err: host.Errorf(host.ECONFLICT,
							"Idempotency-Key %q was already used with a different request body (order %s)", no.IdempotencyKey, s.r.ID)}
					} else {
						results[i] = host.CreateResult{Record: s.r}
					}
					continue
				}
			}
			if s, ok := byExternal[channelExternal{r.ChannelID, r.ExternalID}]; ok {
				results[i] = host.CreateResult{Record: s.r}
				continue
			}
			if c := no.LookAlikes; c != nil {
				others := committed[i]
				for _, w := range fresh { // earlier orders of this call
					if w.fingerprint != nil && *w.fingerprint == c.Fingerprint && w.r.ID > c.Horizon {
						others = append(others, lookAlike{w.r.ID, w.r.PlacedAt})
					}
				}
				if raced(c, others) {
					results[i] = host.CreateResult{Err: host.ErrLookAlikeRaced}
					continue
				}
			}
			fresh = append(fresh, encoded[i])
			byExternal[channelExternal{r.ChannelID, r.ExternalID}] = stored{r: r}
			if no.IdempotencyKey != "" {
				byIdem[idem] = stored{r: r, requestHash: no.RequestHash}
				freshIdem = append(freshIdem, no)
			}
			results[i] = host.CreateResult{Record: r, Created: true}
		}

		// Second round trip: every write.
		b = &pgx.Batch{}
		counts := countChanges{}
		if len(fresh) > 0 {
			if err := queueInsert(b, fresh, counts); err != nil {
				return nil, err
			}
		}
		if len(freshIdem) > 0 {
			var cs, ks, ids, hashes []string
			for _, no := range freshIdem {
				cs, ks, ids, hashes = append(cs, no.Record.ChannelID), append(ks, no.IdempotencyKey), append(ids, no.Record.ID), append(hashes, no.RequestHash)
			}
			b.Queue(`INSERT INTO idempotency_keys (channel_id, key, order_id, request_hash) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`, cs, ks, ids, hashes)
		}
		// A page commits once none of its orders must be decided again.
		if page != nil && !slices.ContainsFunc(results, func(r host.CreateResult) bool { return errors.Is(r.Err, host.ErrLookAlikeRaced) }) {
			if page.Cursor != "" {
				queueCursor(b, page.ChannelID, page.Cursor)
			}
			if err := queueRun(b, page.Run(results), true); err != nil {
				return nil, err
			}
		}
		counts.queue(b)
		return b, nil
	})
	if err != nil {
		return nil, fmt.Errorf("storing orders: %w", err)
	}
	return results, nil
}

type lookAlike struct {
	id       string
	placedAt time.Time
}

// raced reports whether a look-alike of the new order was committed after
// the order's facts were read (see host.LookAlikeCheck): one newer than
// the horizon its facts saw, placed within the window, that the decision
// did not count; or one the decision counted (c.Seen) that is not stored.
// others are the look-alikes stored above the horizon.
func raced(c *host.LookAlikeCheck, others []lookAlike) bool {
	for _, id := range c.Seen {
		if !slices.ContainsFunc(others, func(o lookAlike) bool { return o.id == id }) {
			return true // counted as a look-alike, but it was not stored
		}
	}
	lo, hi := c.PlacedAt.Add(-c.Window), c.PlacedAt.Add(c.Window)
	for _, o := range others {
		if slices.Contains(c.Seen, o.id) {
			continue
		}
		if !o.placedAt.Before(lo.Truncate(time.Microsecond)) && !o.placedAt.After(hi) {
			return true
		}
	}
	return false
}

// Order implements host.OrderStore.
func (d *DB) Order(ctx context.Context, id string) (*host.Record, error) {
	var data []byte
	err := d.q.QueryRow(ctx, `SELECT record FROM orders WHERE id = $1`, id).Scan(&data)
	if err != nil {
		return nil, notFound(err, "order %s not found", id)
	}
	return decodeOrder(data)
}

// OrdersByExternalID implements host.OrderStore.
func (d *DB) OrdersByExternalID(ctx context.Context, channelID string, externalIDs []string) (map[string]*host.Record, error) {
	out := map[string]*host.Record{}
	rows, err := d.q.Query(ctx, `SELECT record FROM orders WHERE channel_id = $1 AND external_id = ANY($2)`, channelID, externalIDs)
	if err != nil {
		return nil, err
	}
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		r, err := decodeOrder(data)
		if err == nil {
			out[r.ExternalID] = r
		}
		return err
	})
	return out, err
}

// UpdateOrder implements host.OrderStore.
func (d *DB) UpdateOrder(ctx context.Context, id string, fn func(*host.Record) error) (*host.Record, error) {
	var updated *host.Record
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		var data []byte
		if err := tx.QueryRow(ctx, `SELECT record FROM orders WHERE id = $1 FOR UPDATE`, id).Scan(&data); err != nil {
			return notFound(err, "order %s not found", id)
		}
		old, err := decodeOrder(data)
		if err != nil {
			return err
		}
		r, _ := decodeOrder(data)
		if err := fn(r); err != nil {
			return err
		}
		w, err := encodeOrder(r, old)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE orders SET channel_id = $2, external_id = $3, number = $4, status = $5, placed_at = $6, fingerprint = $7, record = $8::text::json,
			due_at = $9, due_claimed_until = NULL, updated_at = $10, held_at = $11 WHERE id = $1`,
			id, r.ChannelID, r.ExternalID, r.Number, string(r.Status), r.PlacedAt, w.fingerprint, string(w.record), r.DueAt(), lastChanged(r), r.HeldAt())
		before := labels(old)
		var goneKinds, goneValues, newKinds, newValues []string
		for _, l := range before {
			if !slices.Contains(w.labels, l) {
				goneKinds, goneValues = append(goneKinds, l.kind), append(goneValues, l.value)
			}
		}
		for _, l := range w.labels {
			if !slices.Contains(before, l) {
				newKinds, newValues = append(newKinds, l.kind), append(newValues, l.value)
			}
		}
		if len(goneKinds) > 0 {
			b.Queue(`DELETE FROM order_labels l USING unnest($2::text[], $3::text[]) AS u(k, v) WHERE l.order_id = $1 AND l.kind = u.k::"char" AND l.value = u.v`, id, goneKinds, goneValues)
		}
		if len(newKinds) > 0 {
			b.Queue(`INSERT INTO order_labels (order_id, kind, value) SELECT $1, k::"char", v FROM unnest($2::text[], $3::text[]) AS u(k, v)`, id, newKinds, newValues)
		}
		counts := countChanges{}
		counts.order(old, -1)
		counts.order(r, 1)
		counts.queue(b)
		queueEnqueue(b, w.deliveries)
		if err := queueEvents(b, w.events); err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("updating order %s: %w", id, err)
		}
		updated = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// ClaimDueOrders implements host.OrderStore. Hosts asking at once get
// different orders (SKIP LOCKED); each claim lasts host.ClaimTimeout by
// the database's clock, and any write of the order ends it.
func (d *DB) ClaimDueOrders(ctx context.Context, at time.Time, limit int) ([]string, error) {
	rows, err := d.q.Query(ctx, `UPDATE orders SET due_claimed_until = now() + $3::interval WHERE id IN (
			SELECT id FROM orders WHERE due_at <= $1 AND (due_claimed_until IS NULL OR due_claimed_until < now())
			ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id, due_at`, at, limit, interval(host.ClaimTimeout))
	if err != nil {
		return nil, fmt.Errorf("claiming orders with due holds: %w", err)
	}
	type due struct {
		id string
		at time.Time
	}
	var claimed []due
	var one due
	if _, err := pgx.ForEachRow(rows, []any{&one.id, &one.at}, func() error { claimed = append(claimed, one); return nil }); err != nil {
		return nil, fmt.Errorf("claiming orders with due holds: %w", err)
	}
	sort.Slice(claimed, func(i, j int) bool { return claimed[i].at.Before(claimed[j].at) })
	out := make([]string, len(claimed))
	for i, c := range claimed {
		out[i] = c.id
	}
	return out, nil
}

// ListOrders implements host.OrderStore. The most selective filter picks
// the index walked newest first (a label's primary key or an orders
// column index); the others are checked on each row it reaches.
func (d *DB) ListOrders(ctx context.Context, f host.OrderFilter) ([]*host.Record, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Sort != "" && f.After != "" {
		if _, err := host.ParseSortCursor(f.After); err != nil {
			return nil, "", err
		}
	}
	q, args := listOrdersQuery(f)
	rows, err := d.q.Query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing orders: %w", err)
	}
	var out []*host.Record
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		r, err := decodeOrder(data)
		if err == nil {
			out = append(out, r)
		}
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("listing orders: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = last.ID
		if t := host.SortTime(last, f.Sort); t != nil {
			next = host.SortCursor{At: *t, ID: last.ID}.String()
		}
	}
	return out, next, nil
}

// listOrdersQuery is the query of one page of ListOrders (one row more
// than the page, to tell whether another follows).
func listOrdersQuery(f host.OrderFilter) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	from := "orders o"
	idCol := "o.id"
	labelFilters := []label{{labelEmail, host.NormalizeEmail(f.CustomerEmail)}, {labelName, host.NormalizeName(f.CustomerName)},
		{labelSKU, f.SKU}, {labelHold, f.HoldReason}, {labelTag, f.Tag}}
	// The label filter that bolt would walk first leads here too, unless a
	// column filter more selective than any label is given.
	lead := -1
	if f.ExternalID == "" && f.Number == "" && f.Sort == "" {
		for i, l := range labelFilters {
			if l.value != "" {
				lead = i
				break
			}
		}
	}
	for i, l := range labelFilters {
		if l.value == "" {
			continue
		}
		if i == lead {
			from = "order_labels l JOIN orders o ON o.id = l.order_id"
			idCol = "l.order_id"
			where = append(where, "l.kind = "+arg(l.kind)+`::"char"`, "l.value = "+arg(l.value))
			continue
		}
		where = append(where, fmt.Sprintf(`EXISTS (SELECT 1 FROM order_labels x WHERE x.order_id = o.id AND x.kind = %s::"char" AND x.value = %s)`, arg(l.kind), arg(l.value)))
	}
	for _, c := range []struct{ col, v string }{{"o.external_id", f.ExternalID}, {"o.number", f.Number}, {"o.status", f.Status}, {"o.channel_id", f.ChannelID}} {
		if c.v != "" {
			where = append(where, c.col+" = "+arg(c.v))
		}
	}
	if !f.DueBefore.IsZero() {
		where = append(where, "o.due_at < "+arg(f.DueBefore))
	}
	if !f.UpdatedAfter.IsZero() {
		where = append(where, "o.updated_at >= "+arg(f.UpdatedAfter))
	}
	if !f.HeldAfter.IsZero() {
		where = append(where, "o.held_at >= "+arg(f.HeldAfter))
	}
	if !f.HeldBefore.IsZero() {
		where = append(where, "o.held_at < "+arg(f.HeldBefore))
	}
	// Ids sort by import time, so the time range bounds the id range.
	if !f.ImportedBefore.IsZero() {
		where = append(where, idCol+" < "+arg(timeBound(f.ImportedBefore)))
	}
	sortCol, desc := sortColumn(f.Sort)
	if sortCol != "" && f.After != "" {
		c, _ := host.ParseSortCursor(f.After) // checked by ListOrders
		op := ">"
		if desc {
			op = "<"
		}
		where = append(where, fmt.Sprintf("(%s, o.id) %s (%s, %s)", sortCol, op, arg(c.At), arg(c.ID)))
	} else if f.After != "" {
		where = append(where, idCol+" < "+arg(f.After))
	}
	if sortCol == "o.held_at" {
		where = append(where, "o.held_at IS NOT NULL")
	}
	if !f.ImportedAfter.IsZero() {
		where = append(where, idCol+" >= "+arg(timeBound(f.ImportedAfter)))
	}
	q := "SELECT o.record FROM " + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	switch {
	case sortCol != "" && desc:
		q += " ORDER BY " + sortCol + " DESC, o.id DESC"
	case sortCol != "":
		q += " ORDER BY " + sortCol + ", o.id"
	default:
		q += " ORDER BY " + idCol + " DESC"
	}
	q += " LIMIT " + arg(f.Limit+1)
	return q, args
}

// sortColumn is the column a sorted list orders by, and whether
// descending ("" for the default, newest import first).
func sortColumn(sort string) (string, bool) {
	switch strings.TrimPrefix(sort, "-") {
	case host.SortPlacedAt:
		return "o.placed_at", strings.HasPrefix(sort, "-")
	case host.SortHeldAt:
		return "o.held_at", strings.HasPrefix(sort, "-")
	}
	return "", false
}

// timeBound is the smallest id of an order imported at t.
func timeBound(t time.Time) string {
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(t))
	return u.String()
}
