package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// queueEvents adds the inserts of events to a batch, in their order.
func queueEvents(b *pgx.Batch, events []*host.Event) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	ids, types, channels, datas, ats := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
	for i, ev := range events {
		data, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encoding event %s: %w", ev.ID, err)
		}
		ids[i], types[i], channels[i], datas[i], ats[i] = ev.ID, ev.Type, ev.ChannelID, string(data), ev.At
	}
	b.Queue(`INSERT INTO events (id, type, channel_id, data, at)
		SELECT id, t, c, d::json, at FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS u(id, t, c, d, at, i) ORDER BY i
		ON CONFLICT (id) DO NOTHING`, ids, types, channels, datas, ats)
	return nil
}

// position is a place in the feed: an event's transaction id and
// sequence. The cursor is "<xid>.<seq>".
type position struct {
	xid string
	seq int64
}

func (p position) String() string { return p.xid + "." + strconv.FormatInt(p.seq, 10) }

func parsePosition(cursor string) (position, error) {
	if cursor == "" || cursor == "0" { // the beginning, as in any store
		return position{xid: "0"}, nil
	}
	x, s, ok := strings.Cut(cursor, ".")
	_, errX := strconv.ParseUint(x, 10, 64)
	seq, errS := strconv.ParseInt(s, 10, 64)
	if !ok || errX != nil || errS != nil || seq < 0 {
		return position{}, host.InvalidFields("the cursor is not valid", []sdk.FieldError{{Field: "after", Detail: "is not a cursor of this feed: pass a cursor or next_cursor it gave"}})
	}
	return position{xid: x, seq: seq}, nil
}

// likePatterns turns event type patterns into LIKE patterns.
func likePatterns(types []string) []string {
	out := make([]string, len(types))
	for i, t := range types {
		p := strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "_", `\_`)
		if strings.HasSuffix(p, "*") {
			p = strings.TrimSuffix(p, "*") + "%"
		}
		out[i] = p
	}
	return out
}

// feedVisible bounds a read of the feed to events whose transactions
// ended before every transaction still running began: later commits
// come after them.
const feedVisible = `e.xid < (SELECT pg_snapshot_xmin(pg_current_snapshot()))`

// feedQuery reads a page of the feed ($1, $2 the position after which;
// $3 the scan bound, $4 the limit; $5 the LIKE patterns of the types, $6
// the channel): the events selected among the next $3, then, when they
// are fewer than $4, a row without data at the position where the scan
// stopped.
const feedQuery = `WITH hits AS (
			SELECT s.xid, s.seq, s.data FROM (
				SELECT e.xid, e.seq, e.type, e.channel_id, e.data FROM events e
				WHERE (e.xid, e.seq) > ($1::text::xid8, $2::bigint) AND ` + feedVisible + `
				ORDER BY e.xid, e.seq LIMIT $3) s
			WHERE (cardinality($5::text[]) = 0 OR s.type LIKE ANY($5)) AND ($6 = '' OR s.channel_id = $6)
			ORDER BY s.xid, s.seq LIMIT $4)
		SELECT xid::text, seq, data FROM hits
		UNION ALL
		SELECT m.xid::text, m.seq, NULL FROM (
			SELECT e.xid, e.seq FROM events e
			WHERE (e.xid, e.seq) > ($1::text::xid8, $2::bigint) AND ` + feedVisible + `
			ORDER BY e.xid, e.seq OFFSET $3 - 1 LIMIT 1) m
		WHERE (SELECT count(*) FROM hits) < $4`

// Events implements host.EventStore. One statement (one snapshot) reads
// the events f selects among the next host.EventScanLimit and, when they
// are fewer than the limit, the position where that scan stopped.
func (d *DB) Events(ctx context.Context, f host.EventFilter) ([]*host.Event, string, error) {
	after, err := parsePosition(f.After)
	if err != nil {
		return nil, "", err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.After != "" && after.seq > 0 {
		var gone bool
		if err := d.q.QueryRow(ctx, `SELECT ($1::text::xid8, $2::bigint) < (pruned_xid, pruned_seq) FROM event_fanout WHERE id = 1`, after.xid, after.seq).Scan(&gone); err != nil {
			return nil, "", fmt.Errorf("reading events: %w", err)
		}
		if gone {
			return nil, "", host.ErrEventsPruned
		}
	}
	rows, err := d.q.Query(ctx, feedQuery,
		after.xid, after.seq, host.EventScanLimit, f.Limit, likePatterns(f.Types), f.ChannelID)
	if err != nil {
		return nil, "", fmt.Errorf("reading events: %w", err)
	}
	var out []*host.Event
	var stop *position
	var p position
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&p.xid, &p.seq, &data}, func() error {
		if data == nil {
			at := p
			stop = &at
			return nil
		}
		ev := new(host.Event)
		if err := json.Unmarshal(data, ev); err != nil {
			return fmt.Errorf("decoding event at %s: %w", p, err)
		}
		ev.Cursor = p.String()
		out = append(out, ev)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("reading events: %w", err)
	}
	switch {
	case len(out) == f.Limit:
		return out, out[len(out)-1].Cursor, nil
	case stop != nil:
		return out, stop.String(), nil
	}
	return out, "", nil
}

// AppendEvent implements host.EventStore.
func (d *DB) AppendEvent(ctx context.Context, ev *host.Event, ds ...*host.Delivery) (bool, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	appended := false
	err = d.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		queueEnqueue(b, ds)
		b.Queue(`INSERT INTO events (id, type, channel_id, data, at) VALUES ($1, $2, $3, $4::text::json, $5) ON CONFLICT (id) DO NOTHING`,
			ev.ID, ev.Type, ev.ChannelID, string(data), ev.At).Exec(func(tag pgconn.CommandTag) error {
			appended = tag.RowsAffected() == 1
			return nil
		})
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return false, fmt.Errorf("appending event %s: %w", ev.ID, err)
	}
	return appended, nil
}

// fanOutQuery reads the events to fan out: after the position $1, $2,
// at most $3.
const fanOutQuery = `SELECT e.xid::text, e.seq, e.type, e.data FROM events e
			WHERE (e.xid, e.seq) > ($1::text::xid8, $2::bigint) AND ` + feedVisible + `
			ORDER BY e.xid, e.seq LIMIT $3`

// FanOutEvents implements host.EventStore. The hosts take turns on the
// fan-out's row lock; each reads on from where the last one stopped.
func (d *DB) FanOutEvents(ctx context.Context, now time.Time, limit int) (queued int, more bool, err error) {
	var waiting bool
	if err := d.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events e, event_fanout f
		WHERE f.id = 1 AND (e.xid, e.seq) > (f.xid, f.seq) AND `+feedVisible+`)`).Scan(&waiting); err != nil || !waiting {
		return 0, false, err // nothing new: no transaction, no lock
	}
	err = d.inTx(ctx, func(tx pgx.Tx) error {
		queued, more = 0, false
		var done position
		if err := tx.QueryRow(ctx, `SELECT xid::text, seq FROM event_fanout WHERE id = 1 FOR UPDATE`).Scan(&done.xid, &done.seq); err != nil {
			return fmt.Errorf("reading the fan-out's position: %w", err)
		}
		rows, err := tx.Query(ctx, fanOutQuery, done.xid, done.seq, limit+1)
		if err != nil {
			return err
		}
		type stored struct {
			at   position
			typ  string
			data []byte
		}
		var evs []stored
		var s stored
		if _, err := pgx.ForEachRow(rows, []any{&s.at.xid, &s.at.seq, &s.typ, &s.data}, func() error {
			evs = append(evs, stored{s.at, s.typ, append([]byte(nil), s.data...)})
			return nil
		}); err != nil {
			return fmt.Errorf("reading events to fan out: %w", err)
		}
		if len(evs) == 0 {
			return nil
		}
		if more = len(evs) > limit; more {
			evs = evs[:limit]
		}
		dests, err := listJSON[host.Destination](ctx, tx, `SELECT data FROM alert_destinations WHERE data ? 'events'`)
		if err != nil {
			return fmt.Errorf("reading subscriptions: %w", err)
		}
		var ds []*host.Delivery
		for _, e := range evs {
			if !host.AnySubscribes(dests, e.typ) {
				continue
			}
			ev := new(host.Event)
			if err := json.Unmarshal(e.data, ev); err != nil {
				return fmt.Errorf("decoding event at %s: %w", e.at, err)
			}
			ds = append(ds, host.EventDeliveries(ev, dests, now)...)
		}
		b := &pgx.Batch{}
		queueEnqueue(b, ds)
		last := evs[len(evs)-1].at
		b.Queue(`UPDATE event_fanout SET xid = $1::text::xid8, seq = $2 WHERE id = 1`, last.xid, last.seq)
		queued = len(ds)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, false, fmt.Errorf("fanning out events: %w", err)
	}
	return queued, more, nil
}

// PruneEvents implements host.EventStore: it removes the feed's first
// events, in order, that are older than before and fanned out.
func (d *DB) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	removed := 0
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		var last position
		err := tx.QueryRow(ctx, `WITH f AS (SELECT xid, seq FROM event_fanout WHERE id = 1 FOR UPDATE),
			gone AS (DELETE FROM events WHERE (xid, seq) IN (
				SELECT e.xid, e.seq FROM events e, f WHERE (e.xid, e.seq) <= (f.xid, f.seq) AND e.at < $1 ORDER BY e.xid, e.seq LIMIT $2)
				RETURNING xid, seq)
			SELECT count(*), coalesce(max(xid)::text, '0'), coalesce(max(seq) FILTER (WHERE xid = (SELECT max(xid) FROM gone)), 0) FROM gone`,
			before, limit).Scan(&removed, &last.xid, &last.seq)
		if err != nil || removed == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE event_fanout SET pruned_xid = $1::text::xid8, pruned_seq = $2 WHERE id = 1 AND ($1::text::xid8, $2::bigint) > (pruned_xid, pruned_seq)`, last.xid, last.seq)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning events: %w", err)
	}
	return removed, nil
}
