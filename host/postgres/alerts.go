package postgres

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
	"github.com/ordergate/ordergate/sdk"
)

func (d *DB) decodeDestination(data []byte) (*host.Destination, error) {
	dst := new(host.Destination)
	if err := json.Unmarshal(data, dst); err != nil {
		return nil, fmt.Errorf("decoding an alert destination: %w", err)
	}
	return dst, d.box.OpenFields(secrets.DestinationFields(dst))
}

func (d *DB) sealedDestinationText(dst *host.Destination) (string, error) {
	sealed, err := d.box.SealedDestination(dst)
	if err != nil {
		return "", err
	}
	return jsonText(sealed)
}

// CreateDestination implements host.AlertStore.
func (d *DB) CreateDestination(ctx context.Context, dst *host.Destination) error {
	data, err := d.sealedDestinationText(dst)
	if err != nil {
		return err
	}
	tag, err := d.q.Exec(ctx, `INSERT INTO alert_destinations (name, data) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO NOTHING`, dst.Name, data)
	if err != nil {
		return fmt.Errorf("storing alert destination %s: %w", dst.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return host.Errorf(host.ECONFLICT, "alert destination %s already exists", dst.Name)
	}
	return nil
}

// UpdateDestination implements host.AlertStore.
func (d *DB) UpdateDestination(ctx context.Context, name string, fn func(*host.Destination) error) (*host.Destination, error) {
	var out *host.Destination
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		var data []byte
		if err := tx.QueryRow(ctx, `SELECT data FROM alert_destinations WHERE name = $1 FOR UPDATE`, name).Scan(&data); err != nil {
			return notFound(err, "alert destination %s not found", name)
		}
		dst, err := d.decodeDestination(data)
		if err != nil {
			return err
		}
		if err := fn(dst); err != nil {
			return err
		}
		dst.Name = name
		text, err := d.sealedDestinationText(dst)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE alert_destinations SET data = $2::jsonb WHERE name = $1`, name, text); err != nil {
			return err
		}
		out = dst
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Destination implements host.AlertStore.
func (d *DB) Destination(ctx context.Context, name string) (*host.Destination, error) {
	var data []byte
	if err := d.q.QueryRow(ctx, `SELECT data FROM alert_destinations WHERE name = $1`, name).Scan(&data); err != nil {
		return nil, notFound(err, "alert destination %s not found", name)
	}
	return d.decodeDestination(data)
}

// Destinations implements host.AlertStore.
func (d *DB) Destinations(ctx context.Context) ([]*host.Destination, error) {
	rows, err := d.q.Query(ctx, `SELECT data FROM alert_destinations ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var out []*host.Destination
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		dst, err := d.decodeDestination(data)
		out = append(out, dst)
		return err
	})
	return out, err
}

// DeleteDestination implements host.AlertStore.
func (d *DB) DeleteDestination(ctx context.Context, name string) error {
	tag, err := d.q.Exec(ctx, `DELETE FROM alert_destinations WHERE name = $1`, name)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return host.Errorf(host.ENOTFOUND, "alert destination %s not found", name)
	}
	return nil
}

// queueEnqueue adds to a batch the insert of new deliveries (those whose
// id is stored are skipped) and the count of those inserted: the
// transactional outbox, committed with the decision that raised them.
func queueEnqueue(b *pgx.Batch, ds []*host.Delivery) {
	if len(ds) == 0 {
		return
	}
	n := len(ds)
	ids, statuses, dests, states, datas := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	created, next := make([]time.Time, n), make([]time.Time, n)
	for i, dl := range ds {
		data, _ := json.Marshal(dl)
		ids[i], statuses[i], dests[i], states[i], datas[i] = dl.ID, dl.Status, dl.Alert.To, dl.OutboxState(), string(data)
		created[i], next[i] = dl.CreatedAt, dl.NextAttemptAt
	}
	b.Queue(`WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[]) AS u(id, status, dest, state, created, next, data)),
		ins AS (INSERT INTO alert_deliveries (id, status, destination, created_at, next_attempt_at, data)
			SELECT id, status, dest, created, next, data::json FROM u ON CONFLICT (id) DO NOTHING RETURNING id)
		INSERT INTO count_changes (kind, name, state, n)
		SELECT 'outbox', u.dest, u.state, 1 FROM ins JOIN u ON u.id = ins.id WHERE u.state <> ''`,
		ids, statuses, dests, states, created, next, datas)
}

// Enqueue implements host.AlertStore.
func (d *DB) Enqueue(ctx context.Context, ds ...*host.Delivery) error {
	b := &pgx.Batch{}
	queueEnqueue(b, ds)
	if b.Len() == 0 {
		return nil
	}
	return d.inTx(ctx, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
}

// DueDeliveries implements host.AlertStore. Hosts claim due deliveries
// with FOR UPDATE SKIP LOCKED on the queue's partial index, so two hosts
// asking at once get different ones, and each claim lasts
// host.ClaimTimeout by the database's clock.
func (d *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*host.Delivery, error) {
	out, err := listJSON[host.Delivery](ctx, d.q, `UPDATE alert_deliveries SET claimed_until = now() + $3::interval WHERE id IN (
			SELECT id FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < now())
			ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING data`, now, limit, interval(host.ClaimTimeout))
	if err != nil {
		return nil, fmt.Errorf("claiming due alerts: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NextAttemptAt.Equal(out[j].NextAttemptAt) {
			return out[i].NextAttemptAt.Before(out[j].NextAttemptAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// PutDelivery implements host.AlertStore.
func (d *DB) PutDelivery(ctx context.Context, dl *host.Delivery) error {
	return d.PutDeliveries(ctx, []*host.Delivery{dl})
}

// PutDeliveries implements host.AlertStore: each delivery's new state,
// and the change of the outbox counts from its state before.
func (d *DB) PutDeliveries(ctx context.Context, ds []*host.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	return d.inTx(ctx, func(tx pgx.Tx) error {
		ids := make([]string, len(ds))
		for i, dl := range ds {
			ids[i] = dl.ID
		}
		old := map[string]*host.Delivery{}
		rows, err := tx.Query(ctx, `SELECT id, data FROM alert_deliveries WHERE id = ANY($1) FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		var id string
		var data []byte
		_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
			o := new(host.Delivery)
			if err := json.Unmarshal(data, o); err != nil {
				return err
			}
			old[id] = o
			return nil
		})
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		counts := countChanges{}
		for _, dl := range ds {
			data, err := json.Marshal(dl)
			if err != nil {
				return err
			}
			if o := old[dl.ID]; o != nil {
				counts.delivery(o, -1)
			}
			counts.delivery(dl, 1)
			old[dl.ID] = dl
			b.Queue(`INSERT INTO alert_deliveries (id, status, destination, created_at, next_attempt_at, data) VALUES ($1, $2, $3, $4, $5, $6::text::json)
				ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, destination = EXCLUDED.destination, created_at = EXCLUDED.created_at,
				next_attempt_at = EXCLUDED.next_attempt_at, data = EXCLUDED.data, claimed_until = NULL`,
				dl.ID, dl.Status, dl.Alert.To, dl.CreatedAt, dl.NextAttemptAt, string(data))
		}
		counts.queue(b)
		return tx.SendBatch(ctx, b).Close()
	})
}

// Delivery implements host.AlertStore.
func (d *DB) Delivery(ctx context.Context, id string) (*host.Delivery, error) {
	return getJSON[host.Delivery](ctx, d.q, fmt.Sprintf("alert %s not found", id), `SELECT data FROM alert_deliveries WHERE id = $1`, id)
}

// Deliveries implements host.AlertStore.
func (d *DB) Deliveries(ctx context.Context, status string, limit int) ([]*host.Delivery, error) {
	out, _, err := d.ListDeliveries(ctx, host.DeliveryFilter{Status: status, Limit: limit})
	return out, err
}

// deliveryCursor is a next_cursor of ListDeliveries: the last delivery's
// creation time (as stored, to the microsecond) and id, hex encoded.
func deliveryCursor(created time.Time, id string) string {
	return hex.EncodeToString(append(binary.BigEndian.AppendUint64(nil, uint64(created.UnixMicro())), id...))
}

func parseDeliveryCursor(s string) (time.Time, string, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < 9 {
		return time.Time{}, "", host.InvalidFields("the cursor is not valid", []sdk.FieldError{{Field: "cursor", Detail: "is not a next_cursor this API returned"}})
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(b))).UTC(), string(b[8:]), nil
}

type deliveryAfter struct {
	at time.Time
	id string
}

// listDeliveriesAfter is the query of a page of ListDeliveries after a
// cursor (nil: the first).
func listDeliveriesAfter(f host.DeliveryFilter, after *deliveryAfter, limit int) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(f.Status))
	}
	if f.Destination != "" {
		where = append(where, "destination = "+arg(f.Destination))
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= "+arg(f.Since))
	}
	if after != nil {
		where = append(where, fmt.Sprintf("(created_at, id) < (%s, %s)", arg(after.at), arg(after.id)))
	}
	q := "SELECT created_at, data FROM alert_deliveries"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + " ORDER BY created_at DESC, id DESC LIMIT " + arg(limit), args
}

// ListDeliveries implements host.AlertStore, newest first.
func (d *DB) ListDeliveries(ctx context.Context, f host.DeliveryFilter) ([]*host.Delivery, string, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var after *deliveryAfter
	if f.After != "" {
		at, id, err := parseDeliveryCursor(f.After)
		if err != nil {
			return nil, "", err
		}
		after = &deliveryAfter{at, id}
	}
	q, args := listDeliveriesAfter(f, after, f.Limit+1)
	rows, err := d.q.Query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing alerts: %w", err)
	}
	var out []*host.Delivery
	var created []time.Time
	var at time.Time
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&at, &data}, func() error {
		dl := new(host.Delivery)
		if err := json.Unmarshal(data, dl); err != nil {
			return err
		}
		out, created = append(out, dl), append(created, at)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("listing alerts: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = deliveryCursor(created[f.Limit-1], out[f.Limit-1].ID)
	}
	return out, next, nil
}
