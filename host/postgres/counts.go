package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Kinds of count.
const (
	countStatus = "status"
	countHold   = "hold"
	countOutbox = "outbox"
)

type countKey struct{ kind, name, state string }

// countChanges accumulates what one transaction changes in the counts.
type countChanges map[countKey]int64

func (c countChanges) add(kind, name, state string, n int64) {
	if name == "" && kind != countOutbox {
		return
	}
	c[countKey{kind, name, state}] += n
}

// order counts an order's status and hold reasons, n = 1 for a stored
// order, -1 for the version it replaces.
func (c countChanges) order(r *host.Record, n int64) {
	c.add(countStatus, string(r.Status), "", n)
	for _, reason := range holdReasons(r) {
		c.add(countHold, reason, "", n)
	}
}

// delivery counts a delivery in its outbox state (none once delivered).
func (c countChanges) delivery(d *host.Delivery, n int64) {
	if state := d.OutboxState(); state != "" {
		c.add(countOutbox, d.Alert.To, state, n)
	}
}

// queue adds the insert of the changes to a batch.
func (c countChanges) queue(b *pgx.Batch) {
	var kinds, names, states []string
	var ns []int64
	for k, n := range c {
		if n != 0 {
			kinds, names, states, ns = append(kinds, k.kind), append(names, k.name), append(states, k.state), append(ns, n)
		}
	}
	if len(ns) > 0 {
		b.Queue(`INSERT INTO count_changes (kind, name, state, n) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])`, kinds, names, states, ns)
	}
}

// foldCounts moves the changes written since the last fold into the
// totals, in one statement: what a read of the counts costs is the
// changes since the previous read, not what is stored.
const foldCounts = `WITH moved AS (DELETE FROM count_changes RETURNING kind, name, state, n)
	INSERT INTO count_totals (kind, name, state, n)
	SELECT kind, name, state, sum(n) FROM moved GROUP BY kind, name, state
	ON CONFLICT (kind, name, state) DO UPDATE SET n = count_totals.n + EXCLUDED.n`

// Counts implements host.CountStore.
func (d *DB) Counts(ctx context.Context) (host.Counts, error) {
	out := host.Counts{Orders: map[sdk.Status]int64{}, Held: map[string]int64{}, Outbox: map[string]map[string]int64{}}
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, foldCounts); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT kind, name, state, n FROM count_totals WHERE n <> 0`)
		if err != nil {
			return err
		}
		var k countKey
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&k.kind, &k.name, &k.state, &n}, func() error {
			switch k.kind {
			case countStatus:
				out.Orders[sdk.Status(k.name)] = n
			case countHold:
				out.Held[k.name] = n
			case countOutbox:
				if out.Outbox[k.name] == nil {
					out.Outbox[k.name] = map[string]int64{}
				}
				out.Outbox[k.name][k.state] = n
			}
			return nil
		})
		return err
	})
	if err != nil {
		return host.Counts{}, fmt.Errorf("reading the store's counts: %w", err)
	}
	return out, nil
}
